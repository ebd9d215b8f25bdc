"""The source query guard: only a single read-only ``SELECT``/``WITH`` query reaches a source database.

A configured query is parsed with sqlglot in the dialect of its database before anything connects.
It is refused when it is not exactly one statement, when that statement is not a query (``SELECT``,
``WITH ... SELECT``, ``UNION``/``INTERSECT``/``EXCEPT``, ``VALUES``), or when anything inside it
writes, locks or changes the session: ``SELECT ... INTO``, ``FOR UPDATE``/``FOR SHARE``, a
data-modifying CTE (``WITH x AS (DELETE ... RETURNING *) SELECT ...``), DDL, ``COPY``, ``PRAGMA``,
``SET``, or a call of a function known to have side effects (``set_config``, advisory locks, large
objects, ``dblink``, server file access, SQLite's ``load_extension``, MySQL's ``load_file``/``get_lock``).
The words in comments and string literals are not statements: ``SELECT 'DROP TABLE x'`` passes.

The guard is the first line; the adapter also runs the queries in a read-only transaction or on a
read-only connection where the driver allows (see :mod:`pipelines.adapters.sql`).
"""

from __future__ import annotations

import logging
from typing import Final

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

# SQLAlchemy backend name -> sqlglot dialect (None: sqlglot's generic SQL).
DIALECTS: Final[dict[str, str]] = {
    "postgresql": "postgres",
    "sqlite": "sqlite",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mssql": "tsql",
    "oracle": "oracle",
    "duckdb": "duckdb",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "redshift": "redshift",
    "trino": "trino",
    "db2": None,  # type: ignore[dict-item]
}

_QUERY_ROOTS: Final = tuple(
    t
    for t in (
        exp.Select,
        getattr(exp, "SetOperation", None),
        exp.Union,
        exp.Intersect,
        exp.Except,
        exp.Values,
        exp.Subquery,
    )
    if t is not None
)
# Node types that write, lock or change state wherever they appear in a query.
_FORBIDDEN_NODES: Final = tuple(
    t
    for t in (
        getattr(exp, n, None)
        for n in (
            "Insert",
            "Update",
            "Delete",
            "Merge",
            "Create",
            "Drop",
            "Alter",
            "AlterTable",
            "TruncateTable",
            "Command",
            "Into",
            "Lock",
            "Copy",
            "Pragma",
            "Set",
            "Transaction",
            "Commit",
            "Rollback",
            "Use",
            "Attach",
            "Detach",
            "Grant",
            "Revoke",
            "Analyze",
            "LoadData",
            "Cache",
            "Uncache",
            "Refresh",
            "Install",
        )
    )
    if t is not None
)
# Functions with side effects even in a read-only transaction (lower case; prefixes end with '*').
_FORBIDDEN_FUNCTIONS: Final = frozenset(
    {
        "set_config",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_switch_wal",
        "pg_create_restore_point",
        "pg_notify",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "pg_file_write",
        "nextval",
        "setval",
        "load_extension",
        "writefile",
        "readfile",
        "fts3_tokenizer",
        "load_file",
        "get_lock",
        "release_lock",
        "benchmark",
        "xp_cmdshell",
        "openrowset",
        "opendatasource",
        "lo_*",
        "pg_advisory*",
        "pg_try_advisory*",
        "dblink*",
        "pg_logical_*",
        "pg_replication_*",
    }
)


class QueryRefused(ValueError):
    """A configured source query is not a single read-only query; the message says why."""


def dialect_of(backend: str) -> str | None:
    """The sqlglot dialect for an SQLAlchemy backend name (``make_url(url).get_backend_name()``)."""
    return DIALECTS.get(backend)


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _forbidden_function(name: str) -> bool:
    if name in _FORBIDDEN_FUNCTIONS:
        return True
    return any(f.endswith("*") and name.startswith(f[:-1]) for f in _FORBIDDEN_FUNCTIONS)


def check_query(sql: str, backend: str) -> None:
    """Raise :class:`QueryRefused` unless ``sql`` is one read-only query (see the module docstring).

    ``backend`` is the SQLAlchemy backend name of the source database (``postgresql``, ``sqlite`` ...).
    """
    # SQLAlchemy text(): "\:" is a literal colon; ":name" a bind parameter, which sqlglot reads as a placeholder.
    text = sql.replace("\\:", ":")
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)  # sqlglot warns when it falls back to an opaque Command: that is refused below
    try:
        _check(text, backend)
    finally:
        logger.setLevel(level)


def _check(text: str, backend: str) -> None:
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect_of(backend)) if s is not None]
    except SqlglotError as e:
        raise QueryRefused(f"cannot be parsed as a single SELECT query ({_parse_error(e)})") from None
    if not statements:
        raise QueryRefused("is empty: expected a single SELECT query")
    if len(statements) > 1:
        raise QueryRefused(f"holds {len(statements)} statements: only a single SELECT query is allowed")
    root = statements[0]
    if not isinstance(root, _QUERY_ROOTS):
        raise QueryRefused(
            f"is not a SELECT query but {_kind(root)} ({_snippet(root)}): only a single SELECT/WITH query is allowed"
        )
    for node in root.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise QueryRefused(f"contains {_kind(node)} ({_snippet(node)}): only a read-only SELECT query is allowed")
        if isinstance(node, exp.Func) and _forbidden_function(_function_name(node)):
            raise QueryRefused(
                f"calls {_function_name(node)}(), which has side effects: only a read-only SELECT query is allowed"
            )


def _parse_error(e: SqlglotError) -> str:
    """sqlglot's first parse error as one line: what, where and the token it stopped at."""
    errors = getattr(e, "errors", None) or []
    if not errors:
        return (str(e).splitlines() or [type(e).__name__])[0]
    first = errors[0]
    where = f" at line {first.get('line')}, column {first.get('col')}" if first.get("line") else ""
    near = f" near {first['highlight']!r}" if first.get("highlight") else ""
    return f"{first.get('description') or 'syntax error'}{where}{near}"


def _kind(node: exp.Expr) -> str:
    names = {"Into": "SELECT ... INTO", "Lock": "a row lock (FOR UPDATE/SHARE)", "Command": "a command"}
    name = type(node).__name__
    return names.get(name, f"a {name.upper()} statement")


def _snippet(node: exp.Expr) -> str:
    try:
        text = node.sql() or type(node).__name__
    except SqlglotError:  # pragma: no cover - rendering what was parsed does not fail in practice
        text = type(node).__name__
    return text if len(text) <= 80 else text[:77] + "..."
