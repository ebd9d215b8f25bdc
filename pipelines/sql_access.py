"""``mdm sql --user NAME``: a signed-in SQL session whose role decides what it sees, every query audited.

- **engineer**, **steward** (``read_clear``): the published warehouse, read-only;
- **analyst** (``read_masked``): the published warehouse, read-only, with DuckDB's external access
  switched off and the configuration locked, so no file outside the database (the control store with
  users and audit log, the raw landings, the key file) can be read, attached or installed from;
- **auditor** (``read_audit``): no warehouse at all; an in-memory database holding one table,
  ``audit_log``, copied from the control store when the session starts.

Every statement of a session is written to the audit log *before* its result is shown (``sql.query``:
role, sha256 and text of the query, rows returned, or the error): when the log cannot be written, no
result is shown. The password comes from ``MDM_PASSWORD`` or a hidden prompt on the terminal (never
from the piped SQL). Without ``--user`` mdm sql is the file owner's own tool and is not audited.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import duckdb
import pyarrow as pa
from rich.console import Console
from rich.markup import escape

from pipelines import audit, control, sqlshell, users
from pipelines.config import load_config
from pipelines.errors import MdmError

PASSWORD_ENV = "MDM_PASSWORD"
MAX_TEXT = 8000  # characters of query text kept in the audit log (the sha256 covers all of it)
AUDIT_COLUMNS = ("id", "ts", "actor", "action", "subject", "detail", "prev_hash", "hash")


class AccessDenied(MdmError):
    """Sign-in failed, or the user's role may not use mdm sql."""


def lock_down(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """No file access outside the open database, no extension install, and no way to undo either."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def open_clear(config: Path) -> duckdb.DuckDBPyConnection:
    """The warehouse as engineers and stewards see it."""
    return sqlshell.open_warehouse(config)


def open_masked(config: Path) -> duckdb.DuckDBPyConnection:
    """The warehouse as analysts see it: the masked views of the ``analyst`` schema first on the search path
    (personal data as tokens that still join; no key, so stored values stay ciphertext), locked inside the
    database file."""
    from pipelines.access import open_for_role
    from pipelines.config import load_config

    return lock_down(open_for_role(load_config(config, check_files=False), "analyst"))


def open_audit_copy(ctl: sqlite3.Connection) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the audit log as its only table, for auditors."""
    rows = ctl.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log ORDER BY id").fetchall()  # constants
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(AUDIT_COLUMNS)
    table = pa.table(
        {
            c: pa.array(list(v), type=pa.int64() if c == "id" else pa.string())
            for c, v in zip(AUDIT_COLUMNS, cols, strict=True)
        }
    )
    con = duckdb.connect(":memory:")
    con.register("audit_rows", table)
    con.execute("CREATE TABLE audit_log AS SELECT * FROM audit_rows ORDER BY id")
    con.unregister("audit_rows")
    return lock_down(con)


@dataclass
class SqlSession:
    con: duckdb.DuckDBPyConnection
    user: users.User
    view: str  # clear, masked or audit
    ctl: sqlite3.Connection

    def record(self, sql: str, results: list[sqlshell.Result] | None, error: str | None) -> None:
        detail = {
            "role": self.user.role,
            "view": self.view,
            "sha256": hashlib.sha256(sql.encode()).hexdigest(),
            "text": sql[:MAX_TEXT],
            "truncated": len(sql) > MAX_TEXT,
        }
        if results is not None:
            detail |= {"statements": len(results), "rows": sum(len(r.rows) for r in results)}
        else:
            detail["error"] = (error or "")[:500]
        audit.record(self.ctl, self.user.name, audit.SQL_QUERY, "", detail)

    def execute(self, sql: str) -> list[sqlshell.Result]:
        """Run ``sql`` and audit it; the entry is written before the caller sees any row."""
        try:
            results = sqlshell.execute(self.con, sql)
        except sqlshell.SqlError as e:
            self.record(sql, None, str(e))
            raise
        self.record(sql, results, None)
        return results

    def close(self) -> None:
        self.con.close()
        self.ctl.close()


def read_password() -> str:
    """``MDM_PASSWORD``, or a hidden prompt on the terminal (getpass reads /dev/tty, not piped SQL)."""
    pw = os.environ.get(PASSWORD_ENV)
    if pw is not None:
        return pw
    try:
        return getpass.getpass("Password: ")
    except (EOFError, OSError):
        raise AccessDenied(f"no password: set {PASSWORD_ENV} or run mdm sql from a terminal") from None


def open_session(config: Path, name: str, password: str) -> SqlSession:
    """Sign ``name`` in (audited) and open what its role may see; AccessDenied otherwise."""
    cfg = load_config(config, check_files=False)
    ctl = control.connect(cfg.warehouse)
    try:
        user = users.authenticate(ctl, name, password, channel="sql")
        if user is None:
            raise AccessDenied("sign-in failed: unknown user, wrong password or disabled user")
        if user.can("read_clear"):
            return SqlSession(open_clear(config), user, "clear", ctl)
        if user.can("read_masked"):
            return SqlSession(open_masked(config), user, "masked", ctl)
        if user.can("read_audit"):
            return SqlSession(open_audit_copy(ctl), user, "audit", ctl)
        raise AccessDenied(f"role {user.role} may not use mdm sql")
    except BaseException:
        ctl.close()
        raise


class AuditedShell(sqlshell.Shell):
    """The interactive shell of a session: every statement goes through :meth:`SqlSession.execute`."""

    def __init__(
        self,
        session: SqlSession,
        console: Console,
        err: Console,
        fmt: sqlshell.Format = "table",
        max_rows: int | None = 100,
    ) -> None:
        super().__init__(session.con, console, err, fmt, max_rows)
        self.session = session

    def run_statements(self, sql: str) -> None:
        try:
            results = self.session.execute(sql)
        except MdmError as e:  # a failed statement, or an audit log that cannot be written: no result shown
            self.errors += 1
            self.err.print(f"[red]error:[/red] {escape(str(e))}")
            return
        for res in results:
            sqlshell.render(res, self.console, self.fmt, self.max_rows)


def shell(
    session: SqlSession,
    stream: TextIO | Iterable[str],
    console: Console,
    err: Console,
    fmt: sqlshell.Format = "table",
    max_rows: int | None = 100,
) -> int:
    interactive = bool(getattr(stream, "isatty", lambda: False)())
    if interactive:
        console.out(
            f"mdm sql as {session.user.name} ({session.user.role}, {session.view} view); every query is "
            "audited. .help for help, .quit to leave.",
            highlight=False,
        )
    return AuditedShell(session, console, err, fmt, max_rows).loop(stream, interactive=interactive)
