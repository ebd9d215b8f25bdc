"""Extract: every source through its adapter into Parquet landings, then into the raw_* tables.

How each source is loaded is the plan's (:class:`pipelines.plan.SourcePlan`): ``read`` parses it,
``reuse`` hard-links the landing of its last load (same fingerprint) with that load's warnings, and
``changes`` reads only the rows of a database updated since the last load's watermarks plus the keys
of all rows, then completes the landing from the last one. Each source lands by :func:`land_source`
(:mod:`pipelines.landing`) into ``raw/<source>/`` of the staging folder (wiped first, so a retried
landing starts clean) without touching a database, so sources land in parallel: the sources no
Airflow task landed land side by side in worker processes when the inputs are large. The stage then
loads every landing into the staging database.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from mdm.schema import TABLES
from pipelines import landing
from pipelines.landing import LANDED, Issue, LandingJob, land_apart
from pipelines.parallel import map_batches
from pipelines.stages.base import StageContext, StageResult
from pipelines.warehouse import run_sql

log = logging.getLogger(__name__)

# Below this many bytes of file input, sources land one after the other in the stage's process.
PARALLEL_MIN_BYTES = 64 << 20


def job(ctx: StageContext, name: str) -> LandingJob:
    """The landing of source ``name`` as the run's plan says."""
    sp = ctx.plan.source(name)
    return LandingJob(ctx.config, name, sp.mode, sp.base_load, dict(sp.since), ctx.dir, ctx.wh.root, ctx.run_id)


def land_source(ctx: StageContext, name: str) -> dict[str, Any]:
    """Land one source (see :func:`pipelines.landing.land_source`) as the run's plan says."""
    return landing.land_source(job(ctx, name), ctx.progress)


def land_ahead(ctx: StageContext) -> None:
    """Land every source of a run before its extract stage, as the stage would (``mdm run`` does it while
    the published database is copied). Best effort: a source that fails to land is left for the stage,
    which lands it again and raises its error, naming source, file and line, as a failure of the run."""
    raw_root = ctx.dir / "raw"
    _land_pending(ctx, raw_root)
    for src in ctx.config.sources:
        if not (raw_root / src.name / LANDED).is_file():
            try:
                land_source(ctx, src.name)
            except Exception as e:  # raised again by the stage
                log.debug("landing %s ahead of the extract stage failed (%s); the stage lands it again", src.name, e)


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    """Land every source not landed yet (by :func:`land_source` tasks), then load all landings."""
    raw_root = ctx.dir / "raw"
    counts: dict[str, int] = {}
    issues: list[Issue] = []
    files: dict[str, list[str]] = {t: [] for t in TABLES}
    watermarks: dict[str, dict[str, str]] = {}
    changes: dict[str, dict[str, Any]] = {}
    _land_pending(ctx, raw_root)
    for src in ctx.config.sources:
        if not (raw_root / src.name / LANDED).is_file():
            land_source(ctx, src.name)
        landed = json.loads((raw_root / src.name / LANDED).read_text(encoding="utf-8"))
        counts[src.name] = landed["rows"]
        if landed.get("reused_issues"):
            issues += _previous_warnings(con, ctx.run_id, src.name, ctx.plan.source(src.name).base_load or "")
        issues += [(ctx.run_id, *i) for i in landed["issues"]]
        if landed["watermarks"]:
            watermarks[src.name] = landed["watermarks"]
        if landed["changes"]:
            changes[src.name] = landed["changes"]
        for table in TABLES:  # parts in name order: the kept rows of a change-captured load come first
            files[table] += sorted(str(p) for p in (raw_root / src.name / table).glob("*.parquet"))
    ctx.observe("watermarks", watermarks)
    ctx.observe("changes", changes)
    for table, cols in TABLES.items():
        # Column names and types are constants of mdm.schema; file paths are bound parameters.
        schema_sql = ", ".join(f"{c} {_duck_type(t)}" for c, t in cols.items())
        con.execute(f"CREATE OR REPLACE TABLE raw_{table} ({schema_sql})")
        if files[table]:
            con.execute(f"INSERT INTO raw_{table} SELECT * FROM read_parquet($files)", {"files": files[table]})
    run_sql(con, "staging/run_issue")
    if issues:
        con.executemany("INSERT INTO run_issue VALUES (?, ?, ?, ?, ?, ?, ?)", issues)
    rows = sum(con.execute(f"SELECT count(*) FROM raw_{t}").fetchall()[0][0] for t in TABLES)
    reused = {s.name: s.base_load for s in ctx.plan.sources if s.mode == "reuse"}
    return StageResult(
        "extract",
        rows,
        rows,
        detail={
            "organization_rows_read": counts,
            "warnings": len(issues),
            "reused_loads": reused,
            "changes": {name: {k: v for k, v in c.items() if k != "files"} for name, c in changes.items()},
        },
    )


def _land_pending(ctx: StageContext, raw_root: Path) -> None:
    """Land the sources no task landed yet, side by side in worker processes (the performance
    setting ``workers``): each source's parsing is Python work on one core. A source that fails in a
    worker is landed again here, which raises its own error (naming source, file and line)."""
    pending = [s.name for s in ctx.config.sources if not (raw_root / s.name / LANDED).is_file()]
    workers = min(ctx.config.performance.worker_count(), len(pending))
    sizes = {name: _input_size(ctx, name) for name in pending}
    if workers <= 1 or sum(s for s in sizes.values() if s >= 0) < PARALLEL_MIN_BYTES:
        return  # small inputs land faster than worker processes start
    # Largest inputs first (databases, of unknown size, before files), so the last to finish is a small one.
    pending.sort(key=lambda name: (sizes[name] >= 0, -sizes[name]))
    jobs = [job(ctx, name) for name in pending]
    for name, error in zip(pending, map_batches(land_apart, jobs, workers)):
        if error is not None:
            log.debug("landing %s failed in a worker (%s); landing it here", name, error)
            land_source(ctx, name)


def _input_size(ctx: StageContext, name: str) -> int:
    """Bytes of a file source's input; -1 for a database (not known here)."""
    src = next(s for s in ctx.config.sources if s.name == name)
    if src.path is None:
        return -1
    path = Path(src.path)
    try:
        files = path.rglob("*") if path.is_dir() else [path]
        return sum(f.stat().st_size for f in files if f.is_file())
    except OSError:
        return 0


def _previous_warnings(con: duckdb.DuckDBPyConnection, run_id: str, source: str, base_run: str) -> list[Issue]:
    """The adapter warnings of a reused load, under this run's id (staging checks are made again)."""
    rows = con.execute(
        "SELECT source, file, line, key, code, message FROM load_issue WHERE run_id = $r AND source = $s "
        "AND code NOT IN ('duplicate_key', 'missing_key', 'missing_name')",
        {"r": base_run, "s": source},
    ).fetchall()
    return [(run_id, *r) for r in rows]


def _duck_type(t: pa.DataType) -> str:
    return {"string": "VARCHAR", "int64": "BIGINT", "double": "DOUBLE"}[str(t)]
