"""Extract: every source through its adapter into Parquet landings, then into the raw_* tables.

How each source is loaded is the plan's (:class:`pipelines.plan.SourcePlan`): ``read`` parses it,
``reuse`` hard-links the landing of its last load (same fingerprint) with that load's warnings, and
``changes`` reads only the rows of a database updated since the last load's watermarks plus a count of
the distinct keys (the keys of all rows only when the count shows a deletion), then completes the landing
from the last one. ``mdm run`` lands the sources while the published database is copied (:func:`land_ahead`). Each source lands by :func:`land_source`
(:mod:`pipelines.landing`) into ``raw/<source>/`` of the staging folder (wiped first, so a retried
landing starts clean) without touching a database, so sources land in parallel: the sources no
Airflow task landed land side by side in worker processes when the inputs are large. The stage then
loads the landings into the raw_* tables of the staging database: all of them in a full run; in an
incremental run, raw_account, raw_balance and raw_financial_fact are the published tables with only the
sources whose landing of them changed loaded again (:func:`_kept_sources` says when and why that is
exact). ``run_reloaded`` lists the (table, source) pairs loaded from a landing (or removed) in this run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from mdm.schema import TABLES
from pipelines import landing
from pipelines.landing import LANDED, Issue, LandingJob, land_apart
from pipelines.parallel import map_batches
from pipelines.stages.base import StageContext, StageResult
from pipelines.warehouse import run_sql, unordered

log = logging.getLogger(__name__)

# Below this many bytes of file input, sources land one after the other in the stage's process.
PARALLEL_MIN_BYTES = 64 << 20
# Tables an incremental run builds from the published table of the same name, loading again only the sources
# whose landing of it changed (:func:`_kept_sources`). Not organization: validate and standardise need its
# rows as landed. Not relationship: validate deletes its quarantined rows, and what is quarantined can
# change with data other than the source's own landing.
KEPT_TABLES = ("financial_fact", "account", "balance")


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
    # table -> source -> its Parquet parts, sources in config order, parts in name order (the kept rows of
    # a change-captured load come first)
    parts: dict[str, dict[str, list[str]]] = {t: {} for t in TABLES}
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
        for table in TABLES:
            parts[table][src.name] = sorted(str(p) for p in (raw_root / src.name / table).glob("*.parquet"))
    ctx.observe("watermarks", watermarks)
    ctx.observe("changes", changes)
    run_sql(con, "staging/run_reloaded")
    kept: dict[str, list[str]] = {}
    for table in TABLES:
        keep = _kept_sources(con, ctx, table, parts[table]) if table in KEPT_TABLES else []
        if keep:
            _load_changed(con, table, keep, parts[table])
            kept[table] = keep
        else:
            _load_all(con, table, parts[table])
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
            "raw_kept": kept,
            "changes": {name: {k: v for k, v in c.items() if k != "files"} for name, c in changes.items()},
        },
    )


def _load_all(con: duckdb.DuckDBPyConnection, table: str, parts: dict[str, list[str]]) -> None:
    """``raw_<table>`` made anew from the landing of every source. Every source with rows in it, or in the
    published table of that name (whose rows this replaces), is listed in ``run_reloaded``."""
    # Column names and types are constants of mdm.schema; file paths and values are bound parameters.
    schema_sql = ", ".join(f"{c} {_duck_type(t)}" for c, t in TABLES[table].items())
    con.execute(f"CREATE OR REPLACE TABLE raw_{table} ({schema_sql})")
    files = [f for source_files in parts.values() for f in source_files]
    if files:
        _insert(con, table, files)
    sources = {r[0] for r in con.execute(f"SELECT DISTINCT source FROM raw_{table}").fetchall()}
    if _published_columns(con, table).get("source") is not None:
        sources |= {r[0] for r in con.execute(f"SELECT DISTINCT source FROM main.{table}").fetchall()}
    _reloaded(con, table, sources)


def _load_changed(con: duckdb.DuckDBPyConnection, table: str, keep: list[str], parts: dict[str, list[str]]) -> None:
    """``raw_<table>`` made from the published table of that name (renamed: nothing reads it before publish,
    which renames ``raw_<table>`` back): the rows of the sources in ``keep`` stay, those of every other
    source are replaced by its landing. Exact when :func:`_kept_sources` holds (see there)."""
    con.execute(f"DROP TABLE IF EXISTS raw_{table}")
    con.execute(f"ALTER TABLE main.{table} RENAME TO raw_{table}")
    gone = "source IS NULL OR NOT list_contains($keep, source)"
    removed = {
        r[0] for r in con.execute(f"SELECT DISTINCT source FROM raw_{table} WHERE {gone}", {"keep": keep}).fetchall()
    }
    con.execute(f"DELETE FROM raw_{table} WHERE {gone}", {"keep": keep})
    loaded = {s for s, files in parts.items() if s not in keep and files}
    files = [f for s, source_files in parts.items() if s in loaded for f in source_files]
    if files:
        _insert(con, table, files)
    _reloaded(con, table, removed | loaded)


def _insert(con: duckdb.DuckDBPyConnection, table: str, files: list[str]) -> None:
    """Add the rows of the landed ``files`` to ``raw_<table>``. Their order is not kept (a raw table is a set:
    every reader orders what it reads, by provenance or key), so DuckDB writes them from all its threads:
    2M organisation rows in 9.7-11.3 s instead of 12.3-16.8 s (docs/benchmarks.md, session 14)."""
    with unordered(con):
        con.execute(f"INSERT INTO raw_{table} SELECT * FROM read_parquet($files)", {"files": files})


def _reloaded(con: duckdb.DuckDBPyConnection, table: str, sources: set[str | None]) -> None:
    rows = [(table, s) for s in sorted(sources, key=lambda s: (s is None, s or ""))]
    if rows:
        con.executemany("INSERT INTO run_reloaded VALUES (?, ?)", rows)


def _kept_sources(
    con: duckdb.DuckDBPyConnection, ctx: StageContext, table: str, parts: dict[str, list[str]]
) -> list[str]:
    """The sources whose rows of ``table`` an incremental run keeps from the published table of that name
    instead of loading its landing again; empty: load every landing (:func:`_load_all`).

    Why it is exact: the published table is the ``raw_<table>`` of the published run (the base run of the
    plan), which publish renamed unchanged (validate deletes quarantined rows from raw_organization and
    raw_relationship only, which are never kept). A source is kept when
    (1) the published run loaded it: its plan's base load is the plan's base run (not after an apply run,
        which loads nothing; not for a source added, re-added or read in full), so its rows in the published
        table are that load's landing of ``table``, moved unchanged to ``raw/<source>/load=<run>/``;
    (2) this run's landing of ``table`` is that very landing: the same files (device and inode: hard links,
        for a reused file source or the parts a change-captured read carried over), no part read again,
        rewritten or dropped (a part written anew, or copied where hard links fail, is another file);
    (3) its published rows are as many as that landing's (a cheap check that nothing else changed them).
    And the published table must have the columns and types of mdm.schema (else a schema change: full load).
    A source not kept is reloaded: all its rows (and those of sources no longer configured) are deleted
    and its landing inserted, so the table equals the landings of every configured source, as a full load."""
    plan = ctx.plan
    if plan.mode != "run" or plan.full or plan.base_run is None:
        return []
    want = {c: _duck_type(t) for c, t in TABLES[table].items()}
    have = _published_columns(con, table)
    if list(have.items()) != list(want.items()):
        return []
    published = dict(
        con.execute(f"SELECT source, count(*) FROM main.{table} WHERE source IS NOT NULL GROUP BY source").fetchall()
    )
    keep = []
    for sp in plan.sources:
        if sp.mode not in ("reuse", "changes") or sp.base_load != plan.base_run:
            continue
        base = ctx.wh.root / "raw" / sp.name / f"load={sp.base_load}" / table
        files = parts.get(sp.name, [])
        ids = _file_ids(Path(f) for f in files)
        if ids is None or ids != _file_ids(base.glob("*.parquet")):
            continue
        if published.get(sp.name, 0) != sum(pq.ParquetFile(f).metadata.num_rows for f in files):
            continue
        keep.append(sp.name)
    return keep


def _file_ids(paths: Iterable[Path]) -> list[tuple[int, int]] | None:
    """(device, inode) of each file, sorted; None when one cannot be read."""
    try:
        return sorted((st.st_dev, st.st_ino) for st in (p.stat() for p in paths))
    except OSError:
        return None


def _published_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column -> type of the base table ``main.<table>``, in order; empty when there is none."""
    rows = con.execute(
        "SELECT c.column_name, c.data_type FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_catalog, table_schema, table_name) "
        "WHERE c.table_schema = 'main' AND c.table_name = $t AND t.table_type = 'BASE TABLE' "
        "ORDER BY c.ordinal_position",
        {"t": table},
    ).fetchall()
    return dict(rows)


def _land_pending(ctx: StageContext, raw_root: Path) -> None:
    """Land the sources no task landed yet, side by side in worker processes (the performance
    setting ``workers``): each source's parsing is Python work on one core. A source that fails in a
    worker is landed again here, which raises its own error (naming source, file and line). A reused
    landing (hard links to the last one) parses nothing: the caller lands it, and with at most one source
    left to read no worker is started (starting the workers' forkserver costs about 5 s at 1M entities,
    more than an incremental run's one change-captured source takes to land)."""
    pending = [
        s.name
        for s in ctx.config.sources
        if not (raw_root / s.name / LANDED).is_file() and ctx.plan.source(s.name).mode != "reuse"
    ]
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
