"""The control store: what people decide and do, kept beside the warehouse and never replaced by a run.

The published warehouse (``mdm.duckdb``) is swapped whole by every run, and DuckDB allows one writing
process at a time. Steward decisions, users and the audit log must outlive every run and be written
while a run is in progress (a steward works in the web workbench during a nightly load), so they live
in a separate SQLite database, ``<warehouse>/control.db``, in WAL mode: any number of readers, one
short writer at a time, and a run only reads it.

Each area declares its tables in ``sql/control/<table>.sql`` (``CREATE TABLE IF NOT EXISTS ...``);
:func:`connect` applies them all, so a new table needs no code here.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from pipelines.warehouse import SQL_DIR

CONTROL_DB = "control.db"
BUSY_TIMEOUT_MS = 10_000


def control_path(warehouse: Path) -> Path:
    """Where the control store of a warehouse lives."""
    return Path(warehouse) / CONTROL_DB


def connect(warehouse: Path, read_only: bool = False) -> sqlite3.Connection:
    """Open (creating when needed, owner-only) the control store of ``warehouse``.

    A read-only connection never creates anything; it fails when the store does not exist yet."""
    path = control_path(warehouse)
    if read_only:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        con.row_factory = sqlite3.Row
        return con
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA foreign_keys = ON")
    con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")  # an int constant of this module
    for ddl in sorted((SQL_DIR / "control").glob("*.sql")):
        con.executescript(ddl.read_text(encoding="utf-8"))
    return con
