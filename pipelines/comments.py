"""DuckDB comments (``COMMENT ON``) from the data dictionary, so SQL clients show what docs/schema.md says.

``COMMENT ON`` takes no bound parameters, so the text goes in as a quoted SQL string literal and the names
as quoted identifiers (:func:`sql_literal`, :func:`sql_identifier`); both come from the catalogue and the
descriptions in pipelines/schema_doc.py and the mart SQL headers, never from input data.
"""

from __future__ import annotations

import duckdb

from pipelines.schema_doc import MACROS, RELATIONS, describe_column
from pipelines.warehouse import query_sql

MAX_COMMENT = 2000


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal (quotes doubled; NUL removed; bounded length)."""
    return "'" + sql_text_of(text).replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace("\x00", "").replace('"', '""') + '"'


def apply_comments(con: duckdb.DuckDBPyConnection) -> int:
    """Comment every documented table, view and column of the main schema; returns the number of ``COMMENT
    ON`` statements run. A comment already in place is not set again, so only the relations the run
    (re)created cost anything. Run it after the last table or view is (re)created (``CREATE OR REPLACE``
    drops comments), inside the publish transaction: every ``COMMENT ON`` outside a transaction is a commit
    of its own (20x slower)."""
    n = 0
    for name, kind, target, text in wanted_comments(con):
        ident = sql_identifier(name) if target is None else f"{sql_identifier(name)}.{sql_identifier(target)}"
        what = "COLUMN" if target is not None else ("VIEW" if kind == "view" else "TABLE")
        con.execute(f"COMMENT ON {what} {ident} IS {sql_literal(text)}")
        n += 1
    return n


def wanted_comments(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None, str]]:
    """(relation, kind, column or None for the relation itself, text) of every documented comment that is
    not in place yet (absent or different), relations in name order, columns in table order."""
    have: dict[tuple[str, str | None], str | None] = {}
    kinds: dict[str, str] = {}
    for name, kind, comment in query_sql(con, "publish/relation_comments").fetchall():
        have[(name, None)] = comment
        kinds[name] = kind
    columns: dict[str, list[str]] = {}
    for name, column, comment in query_sql(con, "publish/column_comments").fetchall():
        have[(name, column)] = comment
        columns.setdefault(name, []).append(column)
    out: list[tuple[str, str, str | None, str]] = []
    for name in sorted(kinds):
        doc = RELATIONS.get(name)
        if doc is not None and doc.description and have[(name, None)] != sql_text_of(doc.description):
            out.append((name, kinds[name], None, sql_text_of(doc.description)))
        for column in columns.get(name, []):
            text = describe_column(name, column)
            if text and have[(name, column)] != sql_text_of(text):
                out.append((name, kinds[name], column, sql_text_of(text)))
    return out


def sql_text_of(text: str) -> str:
    """The comment text as stored (what :func:`sql_literal` quotes)."""
    return text.replace("\x00", "")[:MAX_COMMENT]


__all__ = ["MACROS", "apply_comments", "sql_identifier", "sql_literal"]
