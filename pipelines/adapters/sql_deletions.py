"""Whether a changes-only read of a CRM query needs the keys of all rows: a count of distinct keys instead.

A changes read (:mod:`pipelines.adapters.sql`) reads the rows whose change column is at or after the
watermark. To see deletions the loader used to get the natural key of EVERY row of the query; in the usual
delta nothing was deleted, and a count says so exactly:

Under the CDC contract (every insert or update stamps the change column, which the changes read relies on),
every row the query returns now either was in the last landing unchanged or is read again. With ``f`` the
adapter's conversion of a key to the text the landing holds (:func:`pipelines.adapters.sql_values.key_texts`),
``S`` the keys the query returns now, ``K_O`` the keys of the last landing and ``K_C`` those of the rows read
again: ``f(S)`` is a subset of ``K_O u K_C``, so ``f(S) == K_O u K_C`` (no key deleted) exactly when
``|f(S)| == |K_O u K_C|``. The database counts ``n``, the distinct keys of ``S`` as it compares them; the
loader counts ``|K_O u K_C|`` over its Parquet (:attr:`ExtractContext.key_count`). ``n`` is ``|f(S)|`` only
when ``f`` maps no two keys the database tells apart to one text (``'A'`` and ``'A '``, ``1`` and ``'1'``,
two days of one month): such keys would make ``n`` larger than ``|f(S)|`` and could hide as many deletions.
So the same statement checks that every key column holds only *plain* values, on which ``f`` is one to one:
non-empty text with no whitespace ``str.strip`` removes at either end (in a ``month`` column exactly
``YYYY-MM``), or, all of the column, integers; NULL is allowed (``f`` keeps it NULL, and both counts take all
NULLs as one value). A database comparison that merges values (a case-insensitive collation) only makes
``n`` smaller: a mismatch, never a wrong match. With plain keys ``n <= |f(S)| <= |K_O u K_C|``, and equality
proves that nothing was deleted; any other outcome reads the keys as before.

Design: the loader passes the count in (a callback, called after the changed rows were yielded and landed)
and the adapter compares, so that the changed rows, the count and, when the counts differ, the keys are read
by three statements of one connection in one snapshot (:func:`pipelines.adapters.sql_session.begin_snapshot`).
A marker batch (``no_deletions``) tells the loader that no keys follow. Yielding the count and letting the
loader ask again would need a second connection and a second snapshot.

Races: the shortcut is taken only where the statements share one snapshot (SQLite in one read transaction,
PostgreSQL in REPEATABLE READ); elsewhere the keys are read as before. In one snapshot nothing happens
between the statements. Without one, a key deleted before the changes read and another inserted between it
and the count would leave the counts equal and the deleted row in the landing, which is why other databases
keep the keys read. A row inserted after the snapshot is read by the next load (its stamp is after this
load's watermark).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.sql.elements import TextClause

from pipelines.adapters.sql_values import _MONTH_COLUMNS, _PY_SPACE

# Databases whose key values this module can check for plainness, and whose statements of one connection the
# adapter can put in one snapshot.
COUNTED: Final = frozenset({"sqlite", "postgresql"})


def _plain_text(backend: str, col: str, month: bool) -> str:
    """SQL true for a key value of text that :func:`key_texts` passes on unchanged (no collation involved:
    lengths in bytes, a case-sensitive pattern)."""
    if backend == "sqlite":
        size = f"length(CAST({col} AS BLOB))"
        plain = f"typeof({col}) = 'text' AND {size} > 0 AND length(CAST(trim({col}, :cdc_ws) AS BLOB)) = {size}"
        return plain + (f" AND {col} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'" if month else "")
    # The casts only let the statement be planned for a column of another type (pg_typeof then is false).
    as_text = f"CAST({col} AS text)"
    plain = (
        f"pg_typeof({col}) IN ('text'::regtype, 'character varying'::regtype) AND octet_length({as_text}) > 0 "
        f"AND octet_length(btrim({as_text}, :cdc_ws)) = octet_length({as_text})"
    )
    return plain + (f" AND {as_text} ~ '^[0-9]{{4}}-[0-9]{{2}}$'" if month else "")


def _integer(backend: str, col: str) -> str:
    """SQL true for a key value that is an integer (the driver gives a Python int: ``f`` is ``str``)."""
    if backend == "sqlite":
        return f"typeof({col}) = 'integer'"
    return f"pg_typeof({col}) IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)"


def count_statement(
    backend: str, body: str, columns: Sequence[str], key: Sequence[str], quote: Callable[[str], str]
) -> TextClause:
    """One row: the count of distinct keys of query ``body`` (``columns``: its result's names of the ``key``
    columns, quoted by ``quote``), then per key column its distinct values, how many of them are plain text or
    NULL and how many an integer or NULL. Plainness is checked over each column's distinct values (a few
    months, not every account and month). Only for a backend in :data:`COUNTED`."""
    assert backend in COUNTED
    source = f"(\n{body}\n) AS cdc_q"
    parts = []
    for i, (col, name) in enumerate(zip(columns, key)):
        text_ok = _plain_text(backend, "cdc_v.v", name in _MONTH_COLUMNS)
        parts.append(
            f"(SELECT count(*) AS m, sum(CASE WHEN cdc_v.v IS NULL OR ({text_ok}) THEN 1 ELSE 0 END) AS t, "
            f"sum(CASE WHEN cdc_v.v IS NULL OR ({_integer(backend, 'cdc_v.v')}) THEN 1 ELSE 0 END) AS i "
            f"FROM (SELECT DISTINCT cdc_q.{quote(col)} AS v FROM {source}) AS cdc_v) AS cdc_c{i}"
        )
    cols = ", ".join(f"cdc_c{i}.m, cdc_c{i}.t, cdc_c{i}.i" for i in range(len(key)))
    if len(key) == 1:
        return text(f"SELECT cdc_c0.m, {cols} FROM {parts[0]}").bindparams(cdc_ws=_PY_SPACE)
    inner = ", ".join(f"cdc_q.{quote(c)}" for c in columns)
    keys = f"(SELECT count(*) AS n FROM (SELECT DISTINCT {inner} FROM {source}) AS cdc_d) AS cdc_n"
    return text(f"SELECT cdc_n.n, {cols} FROM {keys} CROSS JOIN {' CROSS JOIN '.join(parts)}").bindparams(
        cdc_ws=_PY_SPACE
    )


def distinct_keys(row: Sequence[Any], key: Sequence[str]) -> int | None:
    """The distinct key count of a :func:`count_statement` result row, or None when a key column holds a
    value that is not plain (then the count says nothing about deletions). A column is plain when all its
    values are plain text (or NULL), or, outside a month column, all integers (or NULL): text and integers
    mixed could be ``'1'`` and ``1``."""
    for i, name in enumerate(key):
        m, as_text, as_int = (0 if v is None else int(v) for v in row[1 + 3 * i : 4 + 3 * i])  # NULL: no rows
        if as_text != m and (as_int != m or name in _MONTH_COLUMNS):
            return None
    return int(row[0])
