"""Extract: every source through its adapter into Parquet landings, then into the raw_* tables.

How each source is loaded is the plan's (:class:`pipelines.plan.SourcePlan`): ``read`` parses it,
``reuse`` hard-links the landing of its last load (same fingerprint) with that load's warnings, and
``changes`` reads only the rows of a database updated since the last load's watermarks plus the keys
of all rows, then completes the landing from the last one. Each source lands by :func:`land_source`
into ``raw/<source>/`` of the staging folder (wiped first, so a retried landing starts clean) without
touching a database, so sources can land in parallel; the stage then loads every landing into the
staging database.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from mdm.schema import TABLES, arrow_schema
from pipelines.adapters import ExtractContext, conform, get_adapter
from pipelines.crypto import cipher_for
from pipelines.errors import MdmError, SourceError, WarningLog
from pipelines.plan import SourcePlan
from pipelines.stages.base import StageContext, StageResult
from pipelines.warehouse import run_sql

log = logging.getLogger(__name__)

# Where a changes-only read of a database source lands the keys of all its rows (removed after the merge).
KEYS_DIR = "_keys"
Issue = tuple[Any, ...]


LANDED = "_landed.json"  # written last into raw/<source>/: the source's landing is complete


def land_source(ctx: StageContext, name: str) -> dict[str, Any]:
    """Land one source into ``raw/<name>/`` of the staging folder as the plan says, and nothing else: no
    database is touched, so sources can land in parallel (one Airflow task each). Idempotent: the
    folder is wiped first, and ``_landed.json`` (counts, warnings, watermarks) is written last."""
    src = next(s for s in ctx.config.sources if s.name == name)
    sp = ctx.plan.source(name)
    raw_root = ctx.dir / "raw"
    folder = raw_root / name
    shutil.rmtree(folder, ignore_errors=True)
    files: dict[str, list[str]] = {t: [] for t in TABLES}
    issues: list[Issue] = []
    landed: dict[str, Any] = {"source": name, "mode": sp.mode, "watermarks": {}, "changes": None}
    landing = ctx.wh.root / "raw" / name / f"load={sp.base_load}"
    if sp.mode == "reuse":
        landed["rows"] = _link_landing(landing, folder, files)
        landed["reused_issues"] = True
    else:
        ectx = ExtractContext(src, WarningLog(), since=dict(sp.since), cipher=cipher_for(ctx.config))
        landed["rows"] = _extract_source(ectx, ctx, raw_root, files, issues)
        landed["watermarks"] = dict(ectx.watermarks)
        if sp.mode == "changes":
            # The organisation rows read again (validate checks the row rules on them only).
            landed["changes"] = {
                "base_load": sp.base_load,
                "since": sp.since,
                "changed_rows": landed["rows"],
                "files": list(files["organization"]),
            }
            landed["rows"] = _merge_changes(sp, landing, folder, files)
    landed["issues"] = [list(i[1:]) for i in issues]  # the run id is added when loaded
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (LANDED + ".tmp")
    tmp.write_text(json.dumps(landed, sort_keys=True, default=str), encoding="utf-8")
    tmp.replace(folder / LANDED)
    return {k: landed[k] for k in ("source", "mode", "rows")}


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    """Land every source not landed yet (by :func:`land_source` tasks), then load all landings."""
    raw_root = ctx.dir / "raw"
    counts: dict[str, int] = {}
    issues: list[Issue] = []
    files: dict[str, list[str]] = {t: [] for t in TABLES}
    watermarks: dict[str, dict[str, str]] = {}
    changes: dict[str, dict[str, Any]] = {}
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


def _extract_source(
    ectx: ExtractContext, ctx: StageContext, raw_root: Path, files: dict[str, list[str]], issues: list[Issue]
) -> int:
    src = ectx.source
    adapter = get_adapter(src.format)
    n_org = 0
    part = 0
    try:
        for batch in adapter(ectx):
            if batch.keys_only:  # the keys of every row of a changes-only read (see _merge_changes)
                out = raw_root / src.name / KEYS_DIR / batch.table / f"part-{part:05d}.parquet"
                out.parent.mkdir(parents=True, exist_ok=True)
                keys = pa.schema([(c, pa.string()) for c in batch.frame.columns])  # natural keys are text
                pq.write_table(pa.Table.from_pandas(batch.frame, schema=keys, preserve_index=False), out)
                part += 1
                continue
            frame = conform(batch.table, batch.frame, ectx)
            if frame.empty:
                continue
            out = raw_root / src.name / batch.table / f"part-{part:05d}.parquet"
            out.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(
                pa.Table.from_pandas(frame, schema=arrow_schema(batch.table), preserve_index=False),
                out,
                compression="zstd",
            )
            files[batch.table].append(str(out))
            part += 1
            if batch.table == "organization":
                n_org += len(frame)
            if ctx.progress:
                ctx.progress(f"extract {src.name}", n_org, None)
    except MdmError:
        raise
    except Exception as e:  # an adapter bug or an unforeseen input: still name the source
        log.debug("adapter failure", exc_info=True)
        raise SourceError(
            f"cannot read: {type(e).__name__}: {e}", source=src.name, file=str(src.path or src.url)
        ) from e
    for w in ectx.warnings.items:
        issues.append((ctx.run_id, w.source, w.file, w.line, w.key, w.code, w.message))
    hidden = ectx.warnings.total - len(ectx.warnings.items)
    if hidden > 0:
        issues.append(
            (
                ctx.run_id,
                src.name,
                None,
                None,
                None,
                "more_warnings",
                f"{hidden} more warnings not listed ({ectx.warnings.counts})",
            )
        )
    return n_org


def _merge_changes(sp: SourcePlan, base: Path, target: Path, files: dict[str, list[str]]) -> int:
    """Complete a changes-only read of a database source into a whole landing: for each table read
    by changes, the rows of the last landing (``base``) whose key is still in the source and was not
    read again are kept beside the changed rows. Returns the organisation rows of the landing."""
    from pipelines.adapters.sql import QUERIES

    # Rows read again replace the ones with the same natural key (constants of the adapter, never config).
    tables = {q.table: q.natural_key for q in QUERIES if q.key in sp.since}
    con = duckdb.connect()
    try:
        for table in sorted(tables):
            old = sorted(str(p) for p in (base / table).glob("*.parquet"))
            keys = sorted(str(p) for p in (target / KEYS_DIR / table).glob("*.parquet"))
            if not old or not keys:
                continue  # nothing to keep: no earlier rows, or no rows left in the source
            changed = [f for f in files[table] if Path(f).is_relative_to(target)]
            using = ", ".join(tables[table])
            # The landing folders are named load=<run>: not a Hive partition column.
            sql = (
                "SELECT o.* FROM read_parquet($old, hive_partitioning = false) o "
                f"SEMI JOIN read_parquet($keys) k USING ({using}) "
                + (f"ANTI JOIN read_parquet($changed) c USING ({using}) " if changed else "")
                + "ORDER BY o.src_file, o.src_line"
            )
            params = {"old": old, "keys": keys} | ({"changed": changed} if changed else {})
            kept = con.sql(sql, params=params).to_arrow_table()
            if kept.num_rows:
                out = target / table / "kept-00000.parquet"
                out.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(kept.cast(arrow_schema(table)), out, compression="zstd")
                files[table].insert(0, str(out))
    finally:
        con.close()
    shutil.rmtree(target / KEYS_DIR, ignore_errors=True)
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files["organization"] if Path(f).is_relative_to(target))


def _link_landing(landing: Path, target: Path, files: dict[str, list[str]]) -> int:
    """Hard-link a previous load's Parquet landing into this run; returns its organisation rows."""
    n_org = 0
    for part in sorted(landing.rglob("*.parquet")):
        table = part.parent.name
        dest = target / table / part.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(part, dest)
        except OSError:
            shutil.copy2(part, dest)
        files[table].append(str(dest))
        if table == "organization":
            n_org += pq.ParquetFile(dest).metadata.num_rows
    return n_org


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
