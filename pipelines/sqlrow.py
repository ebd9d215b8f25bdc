"""The one row of a query that always returns one (an aggregate, ``current_database()``, a PRAGMA).

DB-API cursors type ``fetchone()`` as ``row | None``; :func:`one_row` states that the row is there."""

from __future__ import annotations

from typing import Any, Protocol


class _Cursor(Protocol):
    def fetchone(self) -> tuple[Any, ...] | None: ...


def one_row(cursor: _Cursor) -> tuple[Any, ...]:
    """``cursor.fetchone()`` of a query that returns a row by construction."""
    row = cursor.fetchone()
    if row is None:  # pragma: no cover - an aggregate without GROUP BY always returns a row
        raise LookupError("the query returned no row")
    return row
