"""SQL adapter: a bank's own customer, account and balance tables read from any SQLAlchemy database.

The source config gives an SQLAlchemy URL and up to three queries. Each query's result is streamed
in batches of ``ctx.chunk_size`` rows (a server-side cursor where the driver has one) and mapped by
column name (case-insensitive) to a canonical table:

* ``customers`` -> ``organization`` (required columns ``source_id`` and ``name``; other columns
  outside :data:`CUSTOMER_COLUMNS` are kept in ``extra`` as JSON, with one warning naming them);
* ``accounts`` -> ``account`` (required ``account_id`` and ``source_id``);
* ``balances`` -> ``balance`` (required ``account_id`` and ``month``).

Columns of ``accounts``/``balances`` outside their contract are ignored with one warning. Queries
run as SQLAlchemy ``text()``: ``%`` and ``::type`` casts need no escaping, but ``:word`` is a bind
parameter (write ``\\:word`` for a literal colon before a word).

Dates and timestamps become ISO strings, ``month`` becomes ``YYYY-MM``. Lineage: ``src_file`` is
``<url with password hidden>#<query key>``, ``src_line`` the 1-based row ordinal of the result. Any
database failure (unreachable server, bad credentials, SQL error, missing table) becomes a
SourceError naming the source, the query key and the first line of the database's message.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from pipelines.adapters.base import Batch, ExtractContext
from pipelines.errors import SourceError

CUSTOMER_COLUMNS: Final = (
    "source_id", "name", "name_en", "uscc", "lei", "registration_number", "country", "city", "address",
    "postal_code", "phone", "industry_code", "branch", "relationship_manager", "opened_on", "status",
    "updated_at",
)
ACCOUNT_COLUMNS: Final = ("account_id", "source_id", "product", "currency", "opened_on", "closed_on", "status")
BALANCE_COLUMNS: Final = ("account_id", "month", "balance", "debit_amount", "credit_amount", "txn_count")

# Columns holding a calendar date (a timestamp from the database is cut to its date) or a timestamp.
_DATE_COLUMNS: Final = frozenset({"opened_on", "closed_on"})
_TIMESTAMP_COLUMNS: Final = frozenset({"updated_at"})
_FLOAT_COLUMNS: Final = frozenset({"balance", "debit_amount", "credit_amount"})
_INT_COLUMNS: Final = frozenset({"txn_count"})
_MONTH = re.compile(r"^(\d{4})-?(\d{2})(?:-\d{2}.*)?$")


@dataclass(frozen=True)
class _Query:
    """How one configured query maps to a canonical table."""

    key: str
    table: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    has_extra: bool


QUERIES: Final = (
    _Query("customers", "organization", CUSTOMER_COLUMNS, ("source_id", "name"), True),
    _Query("accounts", "account", ACCOUNT_COLUMNS, ("account_id", "source_id"), False),
    _Query("balances", "balance", BALANCE_COLUMNS, ("account_id", "month"), False),
)


def _first_line(e: BaseException, url: URL) -> str:
    """The first non-empty line of a database error, with the password (if any) masked."""
    orig = getattr(e, "orig", None)
    text = str(orig if orig is not None else e)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(e).__name__)
    if url.password:
        line = line.replace(str(url.password), "***")
    return line


def _text(v: Any) -> str | None:
    """A database value as the raw layer's text (dates as ISO, integral floats without ``.0``)."""
    if v is None:
        return None
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return v.isoformat()
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, Decimal):
        return format(v.normalize(), "f") if v == v.to_integral_value() else str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("utf-8", errors="replace")
    return str(v)


def _temporal(v: Any, date_only: bool) -> str | None:
    """An ISO date (``date_only``) or timestamp, also from the ISO-like text SQLite stores them as.

    Text that is not an ISO date/timestamp is passed on as given for the loader to judge.
    """
    if isinstance(v, str):
        s = v.strip()
        try:
            v = dt.date.fromisoformat(s) if len(s) == 10 else dt.datetime.fromisoformat(s)
        except ValueError:
            return s
    if isinstance(v, dt.datetime) and date_only:
        return v.date().isoformat()
    return _text(v)


def _month(v: Any) -> str | None:
    """``YYYY-MM`` from a date, a timestamp or text like ``2024-03``, ``2024-03-31``, ``202403``."""
    if isinstance(v, (dt.date, dt.datetime)):
        return v.strftime("%Y-%m")
    s = _text(v)
    if s is None:
        return None
    m = _MONTH.match(s.strip())
    return f"{m[1]}-{m[2]}" if m else s


def _json_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return None if not math.isfinite(v) else v
    if isinstance(v, Decimal) and v.is_finite():
        return int(v) if v == v.to_integral_value() else float(v)
    return _text(v)


class _Reader:
    """Runs the configured queries of one SQL source and converts their rows."""

    def __init__(self, ctx: ExtractContext) -> None:
        self.ctx = ctx
        try:
            self.url = make_url(ctx.source.url or "")
        except ArgumentError as e:
            raise ctx.error(f"not an SQLAlchemy URL: {e}") from None
        self.shown = self.url.render_as_string(hide_password=True)

    def fail(self, q: _Query, what: str, e: BaseException) -> SourceError:
        return self.ctx.error(f"query {q.key!r} {what}: {_first_line(e, self.url)}",
                              file=f"{self.shown}#{q.key}", key=q.key)

    def engine(self) -> Engine:
        connect_args: dict[str, Any] = {}
        if self.url.get_backend_name() == "postgresql" and "connect_timeout" not in self.url.query:
            connect_args["connect_timeout"] = 15  # an unreachable host fails in seconds, not minutes
        try:
            return create_engine(self.url, connect_args=connect_args)
        except (SQLAlchemyError, ImportError) as e:
            raise self.ctx.error(f"cannot create a database engine for {self.shown}: {_first_line(e, self.url)}",
                                 file=self.shown) from None

    def columns(self, q: _Query, names: Sequence[str]) -> tuple[list[str], list[str]]:
        """Normalised result column names, and the unknown ones; SourceError for missing/duplicate ones."""
        src = f"{self.shown}#{q.key}"
        cols = [n.strip().lower() for n in names]
        dups = sorted({c for c in cols if cols.count(c) > 1})
        if dups:
            raise self.ctx.error(f"query {q.key!r} returns duplicate columns {dups}", file=src, key=q.key)
        for col in q.required:
            if col not in cols:
                raise self.ctx.error(f"query {q.key!r} has no column {col!r} (it returns: {', '.join(cols)})",
                                     file=src, key=col)
        unknown = [c for c in cols if c not in q.columns]
        if unknown:
            kept = "kept in extra" if q.has_extra else "ignored"
            self.ctx.warn(f"query {q.key!r} returns columns outside the {q.table} contract, {kept}: {', '.join(unknown)}",
                          file=src, key=q.key, code="extra_columns")
        return cols, unknown

    def number(self, q: _Query, col: str, v: Any, line: int, src: str) -> float | int | None:
        """A numeric column value; text that is no number becomes NULL with a warning."""
        if v is None:
            return None
        try:
            f = float(v)
            if col in _INT_COLUMNS:
                if not f.is_integer():
                    raise ValueError(v)
                return int(f)
            return f if math.isfinite(f) else None
        except (TypeError, ValueError):
            self.ctx.warn(f"{col} {v!r} is not a number; set to NULL", file=src, line=line, key=q.key,
                          code="bad_number")
            return None

    def row(self, q: _Query, cols: list[str], unknown: list[str], values: Sequence[Any], line: int,
            src: str) -> dict[str, Any]:
        out: dict[str, Any] = {"src_file": src, "src_line": line}
        extra: dict[str, Any] = {}
        for col, v in zip(cols, values):
            if col in unknown:
                if q.has_extra and v is not None:
                    extra[col] = _json_value(v)
            elif col in _FLOAT_COLUMNS or col in _INT_COLUMNS:
                out[col] = self.number(q, col, v, line, src)
            elif col == "month":
                out[col] = _month(v)
            elif col in _DATE_COLUMNS or col in _TIMESTAMP_COLUMNS:
                out[col] = _temporal(v, date_only=col in _DATE_COLUMNS)
            else:
                out[col] = _text(v)
        if q.has_extra:
            out["extra"] = json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None
        return out

    def run(self, conn: Connection, q: _Query, sql: str) -> Iterator[Batch]:
        """Stream one query's result as Batches of the query's canonical table."""
        src = f"{self.shown}#{q.key}"
        size = self.ctx.chunk_size
        try:
            result = conn.execution_options(yield_per=size).execute(text(sql))
        except SQLAlchemyError as e:
            raise self.fail(q, "failed", e) from None
        if not result.returns_rows:
            raise self.ctx.error(f"query {q.key!r} returns no rows (not a SELECT?)", file=src, key=q.key)
        cols, unknown = self.columns(q, list(result.keys()))
        line = 0
        try:
            while True:
                try:
                    part = result.fetchmany(size)
                except SQLAlchemyError as e:
                    raise self.fail(q, "failed while reading", e) from None
                if not part:
                    break
                rows = []
                for values in part:
                    line += 1
                    rows.append(self.row(q, cols, unknown, values, line, src))
                yield Batch(q.table, pd.DataFrame.from_records(rows))
        finally:
            result.close()


def extract(ctx: ExtractContext) -> Iterator[Batch]:
    """Run the source's ``customers`` (and ``accounts``, ``balances``) queries and stream their rows."""
    reader = _Reader(ctx)
    engine = reader.engine()
    queries = ctx.source.queries or {}
    try:
        for q in QUERIES:
            sql = queries.get(q.key)
            if sql is None:
                continue
            try:
                conn = engine.connect()
            except SQLAlchemyError as e:
                raise reader.fail(q, "cannot connect", e) from None
            with conn:
                yield from reader.run(conn, q, sql)
    finally:
        engine.dispose()
