"""DuckDB comments (``COMMENT ON``) from the data dictionary, so SQL clients show what docs/schema.md says.

``COMMENT ON`` takes no bound parameters, so the text goes in as a quoted SQL string literal and the names
as quoted identifiers (:func:`sql_literal`, :func:`sql_identifier`); both come from the catalogue and the
descriptions in pipelines/schema_doc.py and the mart SQL headers, never from input data.
"""

from __future__ import annotations

import duckdb

from pipelines.schema_doc import MACROS, RELATIONS, catalogue, describe_column

MAX_COMMENT = 2000


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal (quotes doubled; NUL removed; bounded length)."""
    clean = text.replace("\x00", "")[:MAX_COMMENT]
    return "'" + clean.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace("\x00", "").replace('"', '""') + '"'


def apply_comments(con: duckdb.DuckDBPyConnection) -> int:
    """Comment every documented table, view and column of the main schema; returns the number of comments
    set. Run it after the last table or view is (re)created (``CREATE OR REPLACE`` drops comments), inside
    the publish transaction: every ``COMMENT ON`` outside a transaction is a commit of its own (20x slower)."""
    return _comment_all(con)


def _comment_all(con: duckdb.DuckDBPyConnection) -> int:
    n = 0
    for rel in catalogue(con):
        if rel.kind == "table macro":
            continue
        doc = RELATIONS.get(rel.name)
        target = sql_identifier(rel.name)
        if doc is not None and doc.description:
            kind = "VIEW" if rel.kind == "view" else "TABLE"
            con.execute(f"COMMENT ON {kind} {target} IS {sql_literal(doc.description)}")
            n += 1
        for column, _type in rel.columns:
            text = describe_column(rel.name, column)
            if text:
                con.execute(f"COMMENT ON COLUMN {target}.{sql_identifier(column)} IS {sql_literal(text)}")
                n += 1
    return n


__all__ = ["MACROS", "apply_comments", "sql_identifier", "sql_literal"]
