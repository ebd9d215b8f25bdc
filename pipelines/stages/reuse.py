"""Reuse (apply runs only): the published records, pairs and model stand in for extract .. match.

``mdm review apply`` re-clusters and re-publishes after steward decisions without reading any source
again: this stage turns the published tables of the run's copy into the hand-over tables the cluster
stage expects (sql/staging/reuse_published.sql), in well under a second.
"""

from __future__ import annotations

import duckdb

from pipelines.stages.base import StageContext, StageResult
from pipelines.warehouse import run_sql


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    if not con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'organization_record'"
    ).fetchall()[0][0]:
        from pipelines.stages.base import RunError

        raise RunError("nothing to apply decisions to: the warehouse has no published run yet")
    run_sql(con, "staging/reuse_published")
    # Empty: the raw tables are the published ones renamed, so no (table, source) pair was loaded again.
    run_sql(con, "staging/run_reloaded")
    records = con.execute("SELECT count(*) FROM std_organization").fetchall()[0][0]
    pairs = con.execute("SELECT count(*) FROM new_match_pair WHERE band = 'match'").fetchall()[0][0]
    ctx.observe("records", records)
    ctx.observe("changed_records", 0)
    ctx.observe("match_incremental", False)  # every record is clustered again, with the decisions of now
    return StageResult("reuse", records, records, detail={"matched_pairs": pairs})
