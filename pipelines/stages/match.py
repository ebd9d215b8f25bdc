"""Match: score record pairs with the Fellegi-Sunter model (mdm.matching).

The plan says whether the last model and its pairs may be reused (same thresholds, features, steward
decisions); it is then reused when at most ``plan.max_changed_share`` of the records changed (observed by
standardise). An incremental match compares only the pairs that touch a new or changed record: every
record takes part in blocking and identifier links, but only the compared ones are loaded whole, and
the token frequencies of the name weights are updated from the last run's (match_token_frequency).
"""

from __future__ import annotations

from collections import Counter

import duckdb
import pandas as pd

from mdm import matching
from mdm.scoring import FellegiSunter
from mdm.standardise import IDENTITY_COLUMNS
from pipelines.stages.base import StageContext, StageResult, frame_table, steward_decisions
from pipelines.warehouse import run_sql


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    records = ctx.observed["records"]
    changed_n = ctx.observed["changed_records"]
    incremental = ctx.plan.match.incremental and changed_n <= ctx.plan.max_changed_share * max(records, 1)
    ctx.observe("match_incremental", incremental)
    decisions = steward_decisions(ctx)
    m = ctx.config.matching
    settings = matching.MatchSettings(m.match_threshold, m.review_threshold, m.max_block_size)
    if incremental:
        pairs, model, detail, counts = _match_changes(con, settings, decisions, records)
    else:
        std = con.execute(f"SELECT {', '.join(matching.MATCH_COLUMNS)} FROM std_organization ORDER BY rid").df()
        counts = matching.token_counts(std["aliases"])
        pairs, model, detail = matching.match_records(
            std, settings, decisions=decisions, idf=matching.idf_weights(counts, records)
        )
    con.register("tmp_tokens", pd.DataFrame({"token": list(counts), "records": list(counts.values())}))
    try:
        run_sql(con, "staging/new_match_token_frequency")
    finally:
        con.unregister("tmp_tokens")
    detail["incremental"] = incremental
    params = model.parameters()
    params["run_id"] = ctx.run_id
    pairs["run_id"] = ctx.run_id
    con.register("tmp_pairs", pairs)
    try:
        # The pairs scored in this run: the clustering of an incremental run starts from their records.
        con.execute("CREATE OR REPLACE TABLE run_rescored AS SELECT rid_a, rid_b FROM tmp_pairs")
        if incremental:
            # In place (the run's private copy): the kept pairs stay, this run's pairs are added.
            run_sql(con, "staging/match_pair_kept")
            detail["reused_pairs"] = con.execute("SELECT count(*) FROM match_pair").fetchall()[0][0]
            con.execute("INSERT INTO match_pair BY NAME SELECT * FROM tmp_pairs")
            con.execute("DROP TABLE IF EXISTS new_match_pair")
            con.execute("ALTER TABLE match_pair RENAME TO new_match_pair")
        else:
            con.execute("CREATE OR REPLACE TABLE new_match_pair AS SELECT * FROM tmp_pairs ORDER BY rid_a, rid_b")
    finally:
        con.unregister("tmp_pairs")
    matched = con.execute("SELECT count(*) FROM new_match_pair WHERE band = 'match'").fetchall()[0][0]
    frame_table(con, "tmp_model", params, "CREATE OR REPLACE TABLE new_match_model AS SELECT * FROM tmp_model")
    return StageResult("match", records, int(matched), detail=detail)


def _match_changes(
    con: duckdb.DuckDBPyConnection, settings: matching.MatchSettings, decisions: pd.DataFrame, records: int
) -> tuple[pd.DataFrame, FellegiSunter, dict, Counter[str]]:
    """Score the pairs touching a new or changed record with the last run's model."""
    model = FellegiSunter.from_parameters(con.execute("SELECT * EXCLUDE (run_id) FROM match_model").df())
    counts = _token_counts(con)
    ids = con.execute(f"SELECT {', '.join(IDENTITY_COLUMNS)} FROM std_organization ORDER BY rid").df()
    aliases = con.execute("SELECT rid, unnest(aliases) AS aliases FROM std_organization").df()
    changed = {r[0] for r in con.execute("SELECT rid FROM run_changed").fetchall()}
    columns = ", ".join(matching.MATCH_COLUMNS)

    def load(rids: list[str]) -> pd.DataFrame:
        con.register("tmp_rids", pd.DataFrame({"rid": rids}))
        try:
            return con.execute(
                f"SELECT {columns} FROM std_organization SEMI JOIN tmp_rids USING (rid) ORDER BY rid"
            ).df()
        finally:
            con.unregister("tmp_rids")

    universe = matching.Universe(ids, aliases, matching.idf_weights(counts, records), load)
    # Pairs of two unchanged records are kept as scored (they stay in DuckDB).
    run_sql(con, "staging/kept_pairs")
    # Identifier links between unchanged records that the last run did not have (a removed record was the
    # hub of their group) are compared as well.
    det = matching.deterministic_pairs(ids)
    con.register("tmp_det", det[["rid_a", "rid_b"]])
    try:
        also = con.execute("SELECT d.rid_a, d.rid_b FROM tmp_det d ANTI JOIN kept_pairs k USING (rid_a, rid_b)").df()
    finally:
        con.unregister("tmp_det")
    pairs, model, detail = matching.match_changes(
        universe, settings, model, changed, det=det, decisions=decisions, also=also
    )
    return pairs, model, detail, counts


def _token_counts(con: duckdb.DuckDBPyConnection) -> Counter[str]:
    """The last run's name-token document frequencies, minus the tokens of the records that changed or
    left since (their last standardised aliases), plus those of the new or changed records: equal to
    counting over all records again."""
    counts: Counter[str] = Counter(dict(con.execute("SELECT token, records FROM match_token_frequency").fetchall()))
    old = con.execute(
        "SELECT aliases FROM organization_record WHERE rid IN (SELECT rid FROM run_changed) "
        "OR rid NOT IN (SELECT rid FROM std_organization)"
    ).fetchall()
    new = con.execute("SELECT aliases FROM std_organization WHERE rid IN (SELECT rid FROM run_changed)").fetchall()
    counts.subtract(matching.token_counts(a or [] for (a,) in old))
    counts.update(matching.token_counts(a or [] for (a,) in new))
    return counts
