"""Cluster: connected records under the clustering constraints, each cluster with its persistent golden id.

Memory stays bounded by the batch, not by the run (issue 15). Records in no link (no identifier or 'match'
pair, no steward must-link: sql/staging/cluster_link.sql) are singletons, written without loading them. The
linked records are cut by connected component of the links (mdm.clustering.components, over record ids
only) into batches of whole components, about ``performance.batch_rows`` records each, clustered in
worker processes (pipelines.parallel). This is exactly the clustering of everything at once: constraints
and the merge order act only inside a component (argued in mdm.clustering.components).

After an incremental match (the observation ``match_incremental``) only the records whose clusters may
have changed (sql/staging/cluster_scope*.sql: new or changed records, the ends of newly scored pairs,
and everything linked to them or sharing a golden record with them) are clustered again, partitioned the
same way; the others keep their clusters and ids. The scope grows from the records each step added only,
and only the golden ids the scope held, and the registered ids its new clusters could be given, are read
from the registry: the cost follows the change, not the number of records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import duckdb
import pandas as pd
import pyarrow as pa

from mdm import clustering, golden_ids
from mdm.standardise import IDENTITY_COLUMNS, identity_keys
from pipelines.parallel import map_batches
from pipelines.plan import has_table
from pipelines.stages.base import StageContext, StageResult, frame_table, steward_decisions
from pipelines.warehouse import query_sql, run_sql, sql_text

XREF_COLUMNS = ("source", "source_id", "golden_id", "rid", "match_rule", "id_origin", "cluster_key", "run_id")
# Column names are constants of mdm.standardise.
_BATCH_RECORDS = (
    f"SELECT {', '.join('s.' + c for c in IDENTITY_COLUMNS)} FROM std_organization AS s "
    "JOIN cluster_batch AS b USING (rid) WHERE b.batch = $batch ORDER BY s.rid"
)
# The pairs clustering follows (identifier pairs and 'match' pairs) between two records of the batch.
_BATCH_PAIRS = (
    "SELECT p.rid_a, p.rid_b, p.rule, p.band, p.score FROM new_match_pair AS p "
    "JOIN cluster_batch AS a ON a.rid = p.rid_a JOIN cluster_batch AS b ON b.rid = p.rid_b "
    "WHERE a.batch = $batch AND b.batch = $batch AND (p.rule <> 'score' OR p.band = 'match') "
    "ORDER BY p.rid_a, p.rid_b"
)


class Batch(NamedTuple):
    """Everything clustering needs for some whole components: their records' identity columns, their pairs
    (Arrow tables, cheap to send to a worker process, which makes its own pandas frames), and the steward's
    must- and cannot-links between two of their records."""

    records: pa.Table
    pairs: pa.Table
    must: list[tuple[str, str]]
    cannot: list[tuple[str, str]]


def cluster_batch(batch: Batch) -> tuple[pd.DataFrame, int]:
    """Cluster one batch (run in a worker process): (rid, cluster_key, match_rule), refused merges."""
    records, pairs = batch.records.to_pandas(), batch.pairs.to_pandas()
    return clustering.cluster(
        records["rid"].tolist(),
        identity_keys(records),
        pairs[pairs["rule"] != "score"],
        pairs[pairs["rule"] == "score"],
        must_link=batch.must,
        cannot_link=batch.cannot,
    )


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    decisions = steward_decisions(ctx)
    must = decisions[decisions.is_match.astype(bool)]
    cannot = decisions[~decisions.is_match.astype(bool)]
    incremental = bool(ctx.observed.get("match_incremental")) and has_table(con, "xref")
    con.register("decision_links", must[["rid_a", "rid_b"]])
    try:
        run_sql(con, "staging/cluster_link")
    finally:
        con.unregister("decision_links")
    if incremental:
        run_sql(con, "staging/cluster_gone")
        run_sql(con, "staging/cluster_scope")
        step = 0
        while query_sql(con, "staging/cluster_scope_grow", {"step": step}).fetchall()[0][0]:
            step += 1
        run_sql(con, "staging/cluster_link_scope")
        run_sql(con, "staging/run_reclustered")  # for survive (golden/affected_changed.sql)
    perf = ctx.config.performance
    batch_of = clustering.pack(clustering.components(_links(con)), perf.batch_rows)
    n_batches = max(batch_of.values(), default=-1) + 1
    frame_table(
        con,
        "batch_df",
        pd.DataFrame({"rid": list(batch_of), "batch": list(batch_of.values())}),
        sql_text("staging/cluster_batch"),
    )
    parts, refused = [], 0
    for clusters, n in map_batches(
        cluster_batch, _batches(con, n_batches, batch_of, must, cannot), perf.worker_count()
    ):
        parts.append(clusters)
        refused += n
    # Records in no link: each its own cluster, no identifier loaded.
    scope = "WHERE rid IN (SELECT rid FROM cluster_scope)" if incremental else ""
    single = con.execute(
        "SELECT rid, rid AS cluster_key, 'singleton' AS match_rule FROM std_organization "
        f"ANTI JOIN cluster_batch USING (rid) {scope}"
    ).df()
    clusters = pd.concat([*parts, single], ignore_index=True)
    del parts, single
    n_clustered = len(clusters)
    previous = _previous_ids(con, scoped=incremental)
    assigned, redirects = _assign(con, clusters, previous, scoped=incremental)
    del clusters, previous
    _write_xref(con, assigned[["rid", "golden_id", "match_rule", "id_origin", "cluster_key"]], ctx.run_id, incremental)
    new_ids = int((assigned.drop_duplicates("golden_id")["id_origin"] == "new").sum())
    del assigned
    redirects["run_id"] = ctx.run_id
    frame_table(
        con, "red_df", redirects[["retired_id", "surviving_id", "run_id", "reason"]], sql_text("staging/new_redirect")
    )
    n_golden = con.execute("SELECT count(DISTINCT golden_id) FROM new_xref").fetchall()[0][0]
    if incremental:
        ctx.observe("cluster_scope", n_clustered)
    return StageResult(
        "cluster",
        n_clustered,
        int(n_golden),
        detail={
            "incremental": incremental,
            "clustered": n_clustered,
            "linked": len(batch_of),
            "batches": n_batches,
            "workers": perf.worker_count(),
            "refused_merges": refused,
            "redirects": len(redirects),
            "new_ids": new_ids,
        },
    )


def _links(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, str]]:
    cur = con.execute("SELECT rid_a, rid_b FROM cluster_link")
    while rows := cur.fetchmany(100_000):
        yield from rows


def _batches(
    con: duckdb.DuckDBPyConnection,
    n_batches: int,
    batch_of: dict[str, int],
    must: pd.DataFrame,
    cannot: pd.DataFrame,
) -> Iterator[Batch]:
    """The batches' inputs, read one batch at a time (map_batches keeps a few in flight). Steward links go
    with the batch holding both their records; a cannot-link across two components is never tested."""
    musts: dict[int, list[tuple[str, str]]] = {}
    cannots: dict[int, list[tuple[str, str]]] = {}
    for frame, into in ((must, musts), (cannot, cannots)):
        for a, b in zip(frame.rid_a, frame.rid_b, strict=True):
            k = batch_of.get(a)
            if k is not None and batch_of.get(b) == k:
                into.setdefault(k, []).append((a, b))
    for k in range(n_batches):
        yield Batch(
            con.sql(_BATCH_RECORDS, params={"batch": k}).to_arrow_table(),
            con.sql(_BATCH_PAIRS, params={"batch": k}).to_arrow_table(),
            musts.get(k, []),
            cannots.get(k, []),
        )


def _write_xref(con: duckdb.DuckDBPyConnection, assigned: pd.DataFrame, run_id: str, incremental: bool) -> None:
    """new_xref from the clustered records (source and source_id joined in DuckDB). An incremental run makes
    it in place from the published xref (sql/staging/new_xref.sql): the records outside the scope are not
    copied, and survive finds their former golden ids in run_reclustered."""
    con.register("assigned_df", assigned)
    try:
        xref = con.sql(
            "SELECT s.source, s.source_id, a.golden_id, a.rid, a.match_rule, a.id_origin, a.cluster_key, "
            "$run AS run_id FROM assigned_df AS a JOIN std_organization AS s USING (rid)",
            params={"run": run_id},
        ).to_arrow_table()
    finally:
        con.unregister("assigned_df")
    con.register("xref_df", xref)
    try:
        if incremental:  # records outside the scope keep their cluster and golden id
            run_sql(con, "staging/new_xref", {"run": run_id})
        else:
            con.execute(
                f"CREATE OR REPLACE TABLE new_xref AS SELECT {', '.join(XREF_COLUMNS)} FROM xref_df "
                "ORDER BY source, source_id"
            )
    finally:
        con.unregister("xref_df")


def _previous_ids(con: duckdb.DuckDBPyConnection, scoped: bool = False) -> dict[str, str]:
    """rid -> golden id of the last published run. ``scoped``: only the records of cluster_scope and those
    that left the sources (cluster_gone)."""
    if not has_table(con, "xref"):
        return {}
    where = "WHERE rid IN (SELECT rid FROM cluster_scope) OR rid IN (SELECT rid FROM cluster_gone)" if scoped else ""
    return dict(con.execute(f"SELECT rid, golden_id FROM xref {where}").fetchall())


def _assign(
    con: duckdb.DuckDBPyConnection, clusters: pd.DataFrame, previous: dict[str, str], scoped: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`mdm.golden_ids.assign` with the registry (golden id -> minted order, every id issued).

    ``scoped`` (an incremental run): the registry holds every id ever issued, but assign reads the minted
    order of the previous ids only, and asks of the issued ids only whether the id it mints for a new
    cluster is among them. So it gets the minted order of the previous ids and, of the issued ids, those it
    could mint (for each cluster key, the ids :func:`mdm.golden_ids.mint` tries in turn, up to the first one
    not issued); the result is the same as with the whole registry unless an id it minted was issued after
    all (two keys minting one id), checked, and then it is assigned again with the whole registry."""
    if scoped:
        ids = sorted(set(previous.values()))
        minted = dict(
            con.execute(
                "SELECT golden_id, minted_seq FROM golden_id_registry WHERE golden_id IN (SELECT unnest($ids))",
                {"ids": ids},
            ).fetchall()
        )
        assigned, redirects = golden_ids.assign(clusters, previous, minted, _issued(con, clusters["cluster_key"]))
        new = sorted(set(assigned.loc[assigned["id_origin"] == "new", "golden_id"]))
        if not _registered(con, new):
            return assigned, redirects
    reg = con.execute("SELECT golden_id, minted_seq FROM golden_id_registry").fetchall()
    return golden_ids.assign(clusters, previous, {g: s for g, s in reg}, {g for g, _ in reg})


def _registered(con: duckdb.DuckDBPyConnection, ids: list[str]) -> set[str]:
    """Those of ``ids`` the registry holds."""
    rows = con.execute(
        "SELECT golden_id FROM golden_id_registry WHERE golden_id IN (SELECT unnest($ids))", {"ids": ids}
    ).fetchall()
    return {g for (g,) in rows}


def _issued(con: duckdb.DuckDBPyConnection, keys: pd.Series) -> set[str]:
    """The issued ids :func:`mdm.golden_ids.mint` would try for these cluster keys before one that is free."""
    issued: set[str] = set()
    todo = sorted(set(keys))
    while todo:
        tried = {golden_ids.mint(k, issued): k for k in todo}  # each key's next id not yet found issued
        hits = _registered(con, sorted(tried))
        issued |= hits
        todo = sorted({tried[g] for g in hits})
    return issued
