"""Sandboxed read-only DuckDB connections for every analyst path (``mdm sql``, explain, quality, schema docs).

The published database is opened with ``read_only=True`` (no write to it) and with DuckDB's
``enable_external_access = false``: no other file can be read or written (``COPY``, ``read_csv``,
``read_parquet``, ``ATTACH``, ``EXPORT DATABASE``), no extension installed or loaded
(``INSTALL``/``LOAD``, autoinstall and autoload off), no HTTP. ``lock_configuration = true`` then
forbids every ``SET``/``PRAGMA`` that would undo this. DuckDB itself only allows the database file
and its WAL/temporary spill folder (``allowed_paths``/``allowed_directories``). The warehouse's views
are over tables in the database file, so none of them needs file access.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import duckdb

from pipelines.errors import MdmError

# DuckDB settings of a sandboxed connection (checked in tests against duckdb_settings()).
SANDBOX_CONFIG: Final[dict[str, str | bool]] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}

REFUSAL: Final = (
    "refused: the warehouse is open read-only in a sandbox (no file access, COPY, ATTACH, "
    "INSTALL/LOAD or settings changes)"
)


def open_readonly(db_path: str | Path) -> duckdb.DuckDBPyConnection:
    """The DuckDB database at ``db_path`` opened read-only in the sandbox; MdmError when it cannot be opened."""
    try:
        return duckdb.connect(str(db_path), read_only=True, config=dict(SANDBOX_CONFIG))
    except duckdb.Error as e:
        raise MdmError(f"cannot open {db_path} read-only: {e}") from None


def is_refusal(e: BaseException) -> bool:
    """Whether a DuckDB error is the sandbox (or the read-only mode) refusing a statement."""
    msg = str(e)
    return (
        isinstance(e, duckdb.PermissionException)
        or "configuration has been locked" in msg
        or "read-only mode" in msg
        or "disabled by configuration" in msg
        or "disabled through configuration" in msg
    )
