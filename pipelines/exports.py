"""The Parquet exports of a published run (``snapshots/<run_id>/parquet/<table>.parquet``), written only for
the tables whose content changed.

:func:`record_state` runs inside the publish transaction, after the last table is built: it fingerprints
every exported table (sql/publish/fingerprint.sql: columns, types and every row) and records in
``export_state`` whether the fingerprint differs from the last published run's. :func:`export` then, at the
switch, writes the changed tables and carries the others over from the last run's snapshot with a hard link
(a copy where links are not possible): the same bytes, so the same content. The snapshot is still made
whole before ``current`` switches to it, so the publish stays atomic.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from pipelines.warehouse import PARQUET_TABLES, Warehouse, query_sql, run_sql


def record_state(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, bool]:
    """Fingerprint every exported table and record this run's export state; returns table -> changed."""
    run_sql(con, "publish/export_state")
    previous = {name: fp for name, fp, _ in query_sql(con, "publish/export_state_read").fetchall()}
    changed: dict[str, bool] = {}
    for table in PARQUET_TABLES:
        rows, fingerprint = query_sql(con, "publish/fingerprint", {"table": table}).fetchall()[0]
        changed[table] = previous.get(table) != fingerprint
        run_sql(
            con,
            "publish/export_state_set",
            {"table": table, "rows": rows, "fingerprint": fingerprint, "changed": changed[table], "run": run_id},
        )
    return changed


def export(con: duckdb.DuckDBPyConnection, wh: Warehouse, run_id: str, base_run: str | None) -> tuple[Path, list[str]]:
    """Write the run's exports into its (not yet visible) snapshot folder; returns the folder and the tables
    carried over from ``base_run``'s snapshot. Safe to run again (a retried publish)."""
    out = wh.root / "snapshots" / run_id / "parquet"
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    state = {name: changed for name, _, changed in query_sql(con, "publish/export_state_read").fetchall()}
    base = wh.root / "snapshots" / base_run / "parquet" if base_run else None
    carried = []
    for table in PARQUET_TABLES:
        dest = out / f"{table}.parquet"
        src = base / f"{table}.parquet" if base is not None else None
        if state.get(table) is False and src is not None and src.is_file():
            dest.unlink(missing_ok=True)
            try:
                os.link(src, dest)
            except OSError:
                shutil.copy2(src, dest)
            carried.append(table)
        else:
            # Table names are constants of pipelines.warehouse; the path goes through the Python API, never SQL.
            con.table(table).write_parquet(str(dest), compression="zstd")
    return out, carried
