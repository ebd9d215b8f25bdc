"""Survive: golden records by the survivorship rules (config ``survivorship``), with lineage.

The records are survived in batches of whole clusters (sql/golden/survive_input.sql: consecutive golden
ids holding about ``performance.batch_rows`` records), spread over ``performance.workers`` processes by
:func:`pipelines.parallel.map_batches`; survivorship looks at one cluster at a time, so the batches give
exactly the result of one pass over every record, while memory stays bounded by the batch size.

When the plan's survive step is incremental only the golden records whose clusters changed
(sql/golden/affected.sql; affected_changed.sql after an incremental clustering) are computed again; the others are carried over from the published tables.
The standardised and golden records are then checked by their GX suites before anything is published.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pyarrow as pa

from mdm import survivorship
from pipelines import quality, quality_docs
from pipelines.parallel import map_batches
from pipelines.plan import has_table
from pipelines.stages.base import StageContext, StageResult, steward_overrides
from pipelines.survive_batch import GOLDEN_SCHEMA, INPUT_COLUMNS, LINEAGE_SCHEMA, Rules, survive_batch
from pipelines.warehouse import arrow_sql, query_sql, run_sql

MIN_BATCHES_PER_WORKER = 3


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    # The Data Docs worker starts now, so it has imported GX by the time the output samples come.
    docs_job = quality_docs.start(ctx.dir / "docs", ctx.run_id, ctx.observed.get("records"))
    try:
        return _run(con, ctx, docs_job)
    except BaseException:
        docs_job.cancel()
        raise


def _run(con: duckdb.DuckDBPyConnection, ctx: StageContext, docs_job: quality_docs.DocsJob) -> StageResult:
    sv = ctx.config.survivorship
    spec = survivorship.spec_from_config(sv.rules) if sv.rules else survivorship.DEFAULT_SPEC
    prio = {s.name: ctx.config.priority(s.name) for s in ctx.config.sources}
    rules = Rules(prio, spec, steward_overrides(ctx), ctx.run_id)
    incremental = ctx.plan.survive.incremental
    perf = ctx.config.performance
    params = {"columns": INPUT_COLUMNS, "batch_rows": perf.batch_rows}
    if incremental:
        # After an incremental clustering, only the records it clustered again or that left are looked at.
        run_sql(con, "golden/affected_changed" if has_table(con, "run_reclustered") else "golden/affected")
        run_sql(con, "golden/survive_input_affected", params)
    else:
        run_sql(con, "golden/survive_input", params)
    batches = query_sql(con, "golden/survive_batches").fetchall()
    n_records = sum(n for _, n in batches)
    _create_computed(con)

    def jobs() -> Iterator[tuple[pa.Table, Rules]]:
        for batch, _ in batches:
            yield arrow_sql(con, "golden/survive_batch", {"batch": batch}), rules

    computed = 0
    # A worker process costs seconds to start (it imports pandas and the run's modules): worth it only when
    # each worker gets several batches; a few batches (an incremental run, a small sample) run in this process.
    workers = perf.worker_count() if len(batches) >= MIN_BATCHES_PER_WORKER * perf.worker_count() else 1
    for golden, lineage in map_batches(survive_batch, jobs(), workers):
        computed += golden.num_rows
        _append(con, golden, lineage)
    if incremental and _fits_in_place(con):
        # Golden records of this run's clusters that nothing touched are carried over in place; the ids
        # replaced or gone are found among the records clustered again when the clustering was incremental.
        scoped = "_reclustered" if has_table(con, "run_reclustered") else ""
        run_sql(con, f"golden/golden_drop{scoped}")
        run_sql(con, "golden/carry_over")
    elif incremental:  # the computed tables gained columns: carried-over rows are copied instead
        run_sql(con, "golden/new_golden_copied")
    else:
        run_sql(con, "golden/new_golden_full")
    run_sql(con, "golden/survive_cleanup")
    run_sql(con, "golden/new_organization_record_in_place" if incremental else "golden/new_organization_record")
    n_golden = con.execute("SELECT count(*) FROM new_golden_organization").fetchall()[0][0]
    quality.validate_outputs(con, ctx.run_id, ctx.dir / "docs", incremental=incremental, job=docs_job)
    return StageResult(
        "survive",
        n_records,
        n_golden,
        detail={"incremental": incremental, "computed": computed, "carried_over": n_golden - computed},
    )


def _create_computed(con: duckdb.DuckDBPyConnection) -> None:
    """The empty tmp_golden and tmp_lineage tables the batches are appended to."""
    con.register("survived_golden", GOLDEN_SCHEMA.empty_table())
    con.register("survived_lineage", LINEAGE_SCHEMA.empty_table())
    try:
        run_sql(con, "golden/tmp_golden")
        run_sql(con, "golden/tmp_lineage")
    finally:
        con.unregister("survived_golden")
        con.unregister("survived_lineage")


def _append(con: duckdb.DuckDBPyConnection, golden: pa.Table, lineage: pa.Table) -> None:
    """One batch's golden records and lineage appended to tmp_golden and tmp_lineage (same column order).

    Through the relational API, not a registered view: a view dropped inside the stage's transaction stays in
    the transaction (with the Arrow table it scans) until the transaction ends, so every batch's result
    would stay in memory until the stage commits: memory growing with the data, beyond DuckDB's limit."""
    con.from_arrow(golden).insert_into("tmp_golden")
    con.from_arrow(lineage).insert_into("tmp_lineage")


def _fits_in_place(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this run's computed golden rows have no column the published golden tables lack (then
    golden/carry_over.sql can update those tables in place)."""

    def columns(relation: str) -> set[str]:
        return {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}  # constants

    return columns("tmp_golden") <= columns("golden_organization") and columns("tmp_lineage") <= columns(
        "golden_attribute_lineage"
    )
