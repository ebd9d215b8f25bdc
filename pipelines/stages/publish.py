"""Publish: the run's tables become the warehouse, in two steps.

:func:`run` (inside the stage's transaction, like every stage) appends the run's history to the published
tables, swaps the run's new_* tables in (sql/golden/publish.sql), builds the derived golden tables and
views, writes the run log and drops the run's hand-over tables (pipelines.catalog). :func:`finish` then,
under the warehouse lock, checks that no other run published since this one started, exports Parquet
(pipelines.exports: only the tables whose content changed; the others are carried over from the last
snapshot) and makes the database, its exports and the raw landings the published state (pipelines.warehouse).
"""

from __future__ import annotations

import shutil

import duckdb

from pipelines import catalog, exports
from pipelines.comments import apply_comments
from pipelines.mart_scope import sql_digest
from pipelines.marts import build_marts
from pipelines.plan import now
from pipelines.review import queue as review_queue
from pipelines.stages.base import RunError, StageContext, StageResult
from pipelines.stages.extract import LANDED
from pipelines.warehouse import query_sql, run_sql

# sql/golden/<step>.sql files run after the run's tables are swapped in (parameters $run, $now), in order.
GOLDEN_STEPS: tuple[str, ...] = ("history", "hierarchy", "financials")


def history(con: duckdb.DuckDBPyConnection, run_id: str, at: str) -> None:
    """The golden records' history (sql/golden/history.sql): the changed versions closed, the new ones
    appended, or the table rebuilt with them when its columns changed."""
    keys = list(query_sql(con, "golden/history_keys").fetchall()[0][0])
    run_sql(con, "golden/history", {"run": run_id, "now": at, "keys": keys})
    # After an incremental clustering the golden ids that are gone are among those of its records (exact:
    # sql/golden/history_close_reclustered.sql); else every current version is looked up.
    close = "golden/history_close_reclustered" if _columns(con, "run_reclustered") else "golden/history_close"
    run_sql(con, close, {"now": at})
    same = _columns(con, "_golden_new_version") == _columns(con, "golden_organization_history")
    run_sql(con, "golden/history_append" if same else "golden/history_rebuild")


def financials_unchanged(con: duckdb.DuckDBPyConnection) -> bool:
    """True when golden/financials.sql would rebuild golden_financial_fact and financial_concept exactly as
    they are (sql/golden/financials_unchanged.sql says when): the run keeps them. A run that changes no
    financial fact and no filer's golden record saves the rebuild (3 s for 2.2M facts at 1M entities)."""
    needed = ("financial_fact", "golden_financial_fact", "financial_concept", "xref", "run_reloaded", "mart_state")
    if not all(_columns(con, t) for t in needed):
        return False
    return bool(query_sql(con, "golden/financials_unchanged", {"sql": sql_digest()}).fetchall()[0][0])


def golden_steps(con: duckdb.DuckDBPyConnection, run_id: str, at: str) -> None:
    """The derived golden tables (:data:`GOLDEN_STEPS`), in order, once the run's tables are swapped in."""
    for step in GOLDEN_STEPS:
        if step == "history":
            history(con, run_id, at)
        elif step == "financials" and financials_unchanged(con):
            continue
        else:
            run_sql(con, f"golden/{step}", {"run": run_id, "now": at})


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    started = now()
    plan = ctx.plan
    seq0 = con.execute("SELECT coalesce(max(minted_seq), 0) FROM golden_id_registry").fetchall()[0][0]
    run_sql(con, "golden/registry", {"seq0": seq0, "run": ctx.run_id})
    run_sql(con, "golden/append_run")
    run_sql(con, "golden/publish")
    golden_steps(con, ctx.run_id, started)
    run_sql(con, "marts/views")
    run_sql(con, "marts/analyst_views")  # the masked views of the analyst schema
    build_marts(con, ctx.config, ctx.run_id)
    review_queue.build(con, ctx.config, run_id=ctx.run_id)  # steward_decision_live, review_item
    base = exports.export_dir(ctx.wh, plan.base_run) if plan.base_run else None
    exports.record_state(con, ctx.run_id, base)  # which Parquet exports finish must write again
    apply_comments(con)  # after every CREATE OR REPLACE (which drops comments), inside the transaction
    run_sql(
        con,
        "golden/run_state",
        {"run": ctx.run_id, "match": plan.match.fingerprint, "survive": plan.survive.fingerprint},
    )
    golden_n = con.execute("SELECT count(*) FROM golden_organization").fetchall()[0][0]
    finished = now()
    run_sql(con, "golden/run_log", {"run": ctx.run_id, "started": started, "finished": finished, "golden": golden_n})
    for name in catalog.run_relations():  # names are constants of the catalog
        con.execute(f"DROP TABLE IF EXISTS {name}")
    # What the exports carry over is in export_state (the run log keeps no detail for publish).
    return StageResult("publish", golden_n, golden_n, started_at=started, finished_at=finished)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return list(query_sql(con, "publish/columns_of", {"table": table}).fetchall()[0][0] or [])


def finish(ctx: StageContext) -> None:
    """Make the committed staging database the published warehouse (the stage's connection is closed).
    Safe to run again after a kill at any point: a switch already made is recognised."""
    wh = ctx.wh
    with wh.lock():
        latest = wh.latest_run()
        if latest != ctx.run_id:  # else a publish retried after its switch: only the cleanup was left
            if latest != ctx.plan.base_run:
                raise RunError(
                    f"the warehouse was published by run {latest} after this run started from "
                    f"{ctx.plan.base_run}; rerun to build on the new state"
                )
            con = duckdb.connect(str(ctx.dir / "work.duckdb"))
            try:
                con.execute("CHECKPOINT")
                snapshot, _carried = exports.export(con, wh, ctx.run_id, ctx.plan.base_run)
            finally:
                con.close()
            for marker in (ctx.dir / "raw").glob(f"*/{LANDED}"):  # bookkeeping of the run, not part of a landing
                marker.unlink()
            wh.swap_in(ctx.dir / "work.duckdb", snapshot, ctx.dir / "raw", ctx.run_id, docs=ctx.dir / "docs")
    shutil.rmtree(ctx.dir, ignore_errors=True)  # the run has ended; nothing is left to resume
