"""Cluster: connected records under the clustering constraints, each cluster with its persistent golden id.

After an incremental match (the observation ``match_incremental``) only the records whose clusters may
have changed (sql/staging/cluster_scope*.sql: new or changed records, the ends of newly scored pairs,
and everything linked to them or sharing a golden record with them) are clustered again; the others
keep their clusters and ids.
"""

from __future__ import annotations

import duckdb

from mdm import clustering, golden_ids
from mdm.standardise import IDENTITY_COLUMNS, identity_keys
from pipelines.plan import has_table
from pipelines.stages.base import StageContext, StageResult, frame_table, steward_decisions
from pipelines.warehouse import run_sql, sql_text

XREF_COLUMNS = ("source", "source_id", "golden_id", "rid", "match_rule", "id_origin", "cluster_key", "run_id")


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    decisions = steward_decisions(ctx)
    must = decisions[decisions.is_match.astype(bool)]
    cannot = decisions[~decisions.is_match.astype(bool)]
    incremental = bool(ctx.observed.get("match_incremental")) and has_table(con, "xref")
    if incremental:
        con.register("decision_links", must[["rid_a", "rid_b"]])
        try:
            run_sql(con, "staging/cluster_scope")
            while con.execute(sql_text("staging/cluster_scope_grow")).fetchall()[0][0]:
                pass
        finally:
            con.unregister("decision_links")
        where = "WHERE rid IN (SELECT rid FROM cluster_scope)"
        pair_where = "WHERE rid_a IN (SELECT rid FROM cluster_scope) AND rid_b IN (SELECT rid FROM cluster_scope)"
    else:
        where = pair_where = ""
    # Column names are constants of mdm.standardise.
    std = con.execute(f"SELECT {', '.join(IDENTITY_COLUMNS)} FROM std_organization {where} ORDER BY rid").df()
    # Clustering links identifier pairs and 'match' pairs only (mdm.clustering): the others stay in DuckDB.
    links = "(rule <> 'score' OR band = 'match')"
    pair_where = f"{pair_where} AND {links}" if pair_where else f"WHERE {links}"
    pairs = con.execute(
        f"SELECT rid_a, rid_b, rule, band, score FROM new_match_pair {pair_where} ORDER BY rid_a, rid_b"
    ).df()
    det = pairs[pairs["rule"] != "score"]
    scored = pairs[pairs["rule"] == "score"]
    clusters, refused = clustering.cluster(
        std["rid"].tolist(),
        identity_keys(std),
        det,
        scored,
        must_link=zip(must.rid_a, must.rid_b, strict=True),
        cannot_link=zip(cannot.rid_a, cannot.rid_b, strict=True),
    )
    previous, minted, taken = _previous_ids(con, scoped=incremental)
    assigned, redirects = golden_ids.assign(clusters, previous, minted, taken)
    assigned = assigned.merge(std[["rid", "source", "source_id"]], on="rid")
    assigned["run_id"] = ctx.run_id
    con.register("xref_df", assigned[list(XREF_COLUMNS)])
    try:
        if incremental:  # records outside the scope keep their cluster and golden id
            run_sql(con, "staging/new_xref", {"run": ctx.run_id})
        else:
            con.execute(
                f"CREATE OR REPLACE TABLE new_xref AS SELECT {', '.join(XREF_COLUMNS)} FROM xref_df "
                "ORDER BY source, source_id"
            )
    finally:
        con.unregister("xref_df")
    redirects["run_id"] = ctx.run_id
    frame_table(
        con, "red_df", redirects[["retired_id", "surviving_id", "run_id", "reason"]], sql_text("staging/new_redirect")
    )
    n_golden = con.execute("SELECT count(DISTINCT golden_id) FROM new_xref").fetchall()[0][0]
    if incremental:
        ctx.observe("cluster_scope", len(std))
    return StageResult(
        "cluster",
        len(std),
        int(n_golden),
        detail={
            "incremental": incremental,
            "clustered": len(std),
            "refused_merges": refused,
            "redirects": len(redirects),
            "new_ids": int((assigned.drop_duplicates("golden_id")["id_origin"] == "new").sum()),
        },
    )


def _previous_ids(
    con: duckdb.DuckDBPyConnection, scoped: bool = False
) -> tuple[dict[str, str], dict[str, int], set[str]]:
    """(rid -> golden id of the last published run, golden id -> minted order, every id issued).
    ``scoped``: only the records of cluster_scope and those that left the sources."""
    previous: dict[str, str] = {}
    if has_table(con, "xref"):
        where = (
            "WHERE rid IN (SELECT rid FROM cluster_scope) OR rid NOT IN (SELECT rid FROM std_organization)"
            if scoped
            else ""
        )
        previous = dict(con.execute(f"SELECT rid, golden_id FROM xref {where}").fetchall())
    reg = con.execute("SELECT golden_id, minted_seq FROM golden_id_registry").fetchall()
    return previous, {g: s for g, s in reg}, {g for g, _ in reg}
