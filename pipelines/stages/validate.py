"""Validate: Great Expectations over every source's landed rows, then the staged records.

Row-level failures go to quarantine (and are not loaded), batch-level failures stop the run before
anything is published. Then the staged records (one per natural key, ``sql/staging/stg_organization``:
the landed rows less those rejected, renamed, not copied) and the per-source quality metrics. Sources
the plan reuses carry their earlier results over. The Data Docs are rendered by a worker process
meanwhile; the stage ends when they are written.
"""

from __future__ import annotations

import shutil

import duckdb

from pipelines import quality
from pipelines.stages.base import StageContext, StageResult
from pipelines.warehouse import query_sql, run_sql


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    docs = ctx.dir / "docs"
    shutil.rmtree(docs, ignore_errors=True)  # a retried stage renders its Data Docs again from the published site
    ctx.wh.seed_docs(docs)
    plan = ctx.plan
    report = quality.validate_sources(
        con,
        ctx.config,
        ctx.run_id,
        docs,
        fingerprints={s.name: s.fingerprint for s in plan.sources},
        reused={s.name: s.base_load for s in plan.sources if s.mode == "reuse" and s.base_load},
        watermarks=ctx.observed.get("watermarks", {}),
        changes=ctx.observed.get("changes", {}),
        wait_docs=False,
        records=con.execute("SELECT count(*) FROM raw_organization").fetchall()[0][0],
        landings=ctx.dir / "raw",
        published=ctx.wh.root / "raw",
    )
    job = report.docs
    try:
        result = _stage(con, ctx, report)
    except BaseException:
        if job is not None:
            job.cancel()
        raise
    if job is not None:
        job.wait()  # the Data Docs, rendered meanwhile by a worker process, are complete with the stage
    return result


def _stage(con: duckdb.DuckDBPyConnection, ctx: StageContext, report: quality.ValidationReport) -> StageResult:
    rows_in = con.execute("SELECT count(*) FROM raw_organization").fetchall()[0][0] + report.quarantined
    run_sql(con, "staging/stg_duplicate")
    rejects = query_sql(con, "staging/rejects").fetchall()
    if rejects:
        con.executemany("INSERT INTO run_issue VALUES (?, ?, ?, ?, ?, ?, ?)", [(ctx.run_id, *r) for r in rejects])
    run_sql(con, "staging/stg_organization")  # raw_organization, less the rows rejected, becomes stg_organization
    con.execute("DROP TABLE tmp_stg_duplicate")
    rows_out = con.execute("SELECT count(*) FROM stg_organization").fetchall()[0][0]
    per_source = dict(con.execute("SELECT source, count(*) FROM stg_organization GROUP BY 1").fetchall())
    warnings = con.execute("SELECT count(*) FROM run_issue").fetchall()[0][0]
    return StageResult(
        "validate",
        rows_in,
        rows_out,
        detail={
            "records_per_source": {s.name: per_source.get(s.name, 0) for s in ctx.config.sources},
            "quarantined": report.quarantined,
            "warnings": warnings,
            "suites": report.suites,
        },
    )
