"""Read-only, time-limited sessions on source databases (issue 12): nothing we run writes to a source.

The query guard (:mod:`pipelines.sql_guard`) refuses anything but a single SELECT before connecting;
these settings are the second line, enforced by the database itself:

* PostgreSQL (psycopg 3 or psycopg2): every transaction of the session read-only
  (``default_transaction_read_only=on``; the adapter also starts each one with ``SET TRANSACTION ISOLATION
  LEVEL REPEATABLE READ, READ ONLY``, see :func:`begin_snapshot`) and ``statement_timeout`` from the source's
  ``timeout``;
* SQLite: ``PRAGMA query_only = ON`` and a progress handler that interrupts a query running longer
  than the timeout.

Other databases rely on the guard and on a read-only database account (docs/security.md).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.engine import URL, Connection


def read_only_connect_args(url: URL, timeout: float) -> dict[str, Any]:
    """Driver connect arguments for a read-only session with a statement timeout (PostgreSQL), and a
    connect timeout so that an unreachable host fails in seconds."""
    args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        if "connect_timeout" not in url.query:
            args["connect_timeout"] = 15
        given = url.query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        args["options"] = (
            f"{given} -c default_transaction_read_only=on -c statement_timeout={max(1, int(timeout * 1000))}"
        ).strip()
    return args


def sqlite_read_only(dbapi_conn: Any, _record: Any, timeout: float) -> None:
    """On each new SQLite connection: refuse writes (``PRAGMA query_only``) and interrupt a query that
    runs past ``timeout`` seconds from the connection's start (sqlite3 raises "interrupted")."""
    dbapi_conn.execute("PRAGMA query_only = ON")
    set_handler = getattr(dbapi_conn, "set_progress_handler", None)
    if set_handler is not None:
        deadline = time.monotonic() + timeout
        set_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)


def begin_snapshot(conn: Connection, backend: str) -> bool:
    """Start the read-only transaction of a connection so that all its statements see one snapshot of the
    database; True when they do (the adapter then may count keys instead of reading them, see
    :mod:`pipelines.adapters.sql_deletions`). SQLAlchemy errors propagate.

    * PostgreSQL: ``SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`` as the transaction's first
      statement: its snapshot is taken at the first query and kept to the end (a read-only transaction never
      fails to serialize).
    * SQLite: the pysqlite driver begins a transaction only before a data-changing statement, so each SELECT
      would run in its own read transaction; an explicit ``BEGIN`` (allowed under ``PRAGMA query_only``, it
      writes nothing) makes them share one, ended by the rollback when the connection closes. Its shared lock
      lasts from the first query to the end of the read (in rollback-journal mode a writer waits to commit
      meanwhile, as it does during any single long query; in WAL mode it does not wait).
    * Other databases: ``False``, nothing is run.
    """
    if backend == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return True
    if backend == "sqlite":
        conn.exec_driver_sql("BEGIN")
        return bool(getattr(conn.connection.dbapi_connection, "in_transaction", False))
    return False
