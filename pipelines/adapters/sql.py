"""SQL adapter: a bank's own customer, account and balance tables read from any SQLAlchemy database.

The source config gives an SQLAlchemy URL and up to three queries. Each query's result is streamed
in batches of ``ctx.chunk_size`` rows (a server-side cursor where the driver has one) and mapped by
column name (case-insensitive) to a canonical table:

* ``customers`` -> ``organization`` (required columns ``source_id`` and ``name``; other columns
  outside the contract are kept in ``extra`` as JSON, with one warning naming them);
* ``accounts`` -> ``account`` (required ``account_id`` and ``source_id``);
* ``balances`` -> ``balance`` (required ``account_id`` and ``month``).

The columns, their types, required columns and natural keys are the contract of
:mod:`pipelines.adapters.crm_contract` (defined there once). Only a single read-only ``SELECT``/``WITH``
query is run (:mod:`pipelines.sql_guard` refuses anything else before connecting), in a read-only session
where the driver allows (PostgreSQL: read-only transactions; SQLite: ``PRAGMA query_only``), with the
source's ``timeout``.

Columns of ``accounts``/``balances`` outside their contract are ignored with one warning. Queries
run as SQLAlchemy ``text()``: ``%`` and ``::type`` casts need no escaping, but ``:word`` is a bind
parameter (write ``\\:word`` for a literal colon before a word).

Dates and timestamps become ISO strings, ``month`` becomes ``YYYY-MM``. Lineage: ``src_file`` is
``<url with password hidden>#<query key>``, ``src_line`` the 1-based row ordinal of the result. Any
database failure (unreachable server, bad credentials, SQL error, missing table) becomes a
SourceError naming the source, the query key and the first line of the database's message.

Rows are converted column by column (each fetched batch is transposed once): a column holding only
text is passed on or converted once per distinct value, numbers go through numpy, and only values of
other types take the value-by-value path; the output is the same as converting value by value.

Change-data capture: a query named in the source's ``changes`` (query key -> column holding each
row's last update time) records in ``ctx.watermarks`` a token of the largest value of that column it
read (NULLs ignored; none when there is no value). Given such a token in ``ctx.since``, the query is
instead run as ``SELECT * FROM (<query>) AS cdc_q WHERE cdc_q.<column> >= :cdc_since`` with the
watermark bound as a parameter; those rows come as normal batches whose ``src_file`` ends in
``?changed_since=<watermark>``. Then, so that the loader can see deletions: when the loader gives its
count of distinct keys (``ctx.key_count``) and the database's count of the query's distinct keys equals
it, one empty ``keys_only`` batch marked ``no_deletions`` (nothing was deleted; exact on SQLite and
PostgreSQL, whose statements of one connection share a snapshot, see :mod:`pipelines.adapters.sql_deletions`);
otherwise ``keys_only`` batches holding the natural key of every row the query returns now. See
:func:`make_token`.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from operator import is_
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import TextClause

from pipelines.adapters.base import Batch, ExtractContext
from pipelines.adapters.crm_contract import TABLES, CrmTable
from pipelines.adapters.sql_deletions import COUNTED, count_statement, distinct_keys
from pipelines.adapters.sql_session import begin_snapshot, read_only_connect_args, sqlite_read_only

# The CRM contract's column-type sets, as the adapter reads them (re-exported: tests compare them with the contract).
from pipelines.adapters.sql_values import (
    _DATE_COLUMNS as _DATE_COLUMNS,
)
from pipelines.adapters.sql_values import (
    _FLOAT_COLUMNS,
    _FLOAT_LIKE,
    _INT64_LIMIT,
    _INT_COLUMNS,
    _LANDS_IN,
    _NAMES_COLUMNS,
    _bad_number,
    _each,
    _names_json,
    _number,
    _objects,
    column_texts,
    extra_json,
    key_texts,
)
from pipelines.adapters.sql_values import (
    _MONTH_COLUMNS as _MONTH_COLUMNS,
)
from pipelines.adapters.sql_values import (
    _TIMESTAMP_COLUMNS as _TIMESTAMP_COLUMNS,
)
from pipelines.adapters.sql_watermark import _highest, make_token, read_token
from pipelines.errors import SourceError
from pipelines.parallel import collector_paused
from pipelines.sql_guard import QueryRefused, check_query

# How each configured query maps to a canonical table: the CRM contract (a keys-only batch of a changes read
# holds the natural key).
QUERIES: Final = TABLES
KEYS_PER_CHUNK: Final = 4  # a keys-only batch holds this many times the source's chunk_size rows


def _first_line(e: BaseException, url: URL) -> str:
    """The first non-empty line of a database error, with the password (if any) masked."""
    orig = getattr(e, "orig", None)
    text = str(orig if orig is not None else e)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(e).__name__)
    if url.password:
        line = line.replace(str(url.password), "***")
    return line


@dataclass
class _Result:
    """What one run of a query leaves besides its batches."""

    names: list[str]  # the result's column names as the database gives them
    highest: Any  # largest value of the change column (None: no change column, or no value)


class _Reader:
    """Runs the configured queries of one SQL source and converts their rows."""

    def __init__(self, ctx: ExtractContext) -> None:
        self.ctx = ctx
        try:
            self.url = make_url(ctx.source.url or "")
        except ArgumentError as e:
            raise ctx.error(f"not an SQLAlchemy URL: {e}") from None
        self.shown = self.url.render_as_string(hide_password=True)
        self.snapshot = False  # the statements of the current connection see one snapshot

    def fail(self, q: CrmTable, what: str, e: BaseException, src: str | None = None) -> SourceError:
        line = _first_line(e, self.url)
        if "statement timeout" in line or line.strip().lower() == "interrupted":
            line += f" (ran longer than the source's timeout of {self.ctx.source.timeout:g} s)"
        return self.ctx.error(f"query {q.key!r} {what}: {line}", file=src or f"{self.shown}#{q.key}", key=q.key)

    def guard(self, queries: dict[str, str]) -> None:
        """Refuse, before anything connects, every configured query that is not a single read-only SELECT."""
        backend = self.url.get_backend_name()
        for q in QUERIES:
            sql = queries.get(q.key)
            if sql is None:
                continue
            try:
                check_query(sql, backend)
            except QueryRefused as e:
                raise self.ctx.error(
                    f"query {q.key!r} refused: it {e}", file=f"{self.shown}#{q.key}", key=q.key
                ) from None

    def engine(self) -> Engine:
        """An engine whose connections are read-only where the driver allows, with the source's timeout.

        PostgreSQL: every transaction read-only (``default_transaction_read_only``, and ``SET TRANSACTION
        READ ONLY`` in :meth:`connect`) and ``statement_timeout``; SQLite: ``PRAGMA query_only`` and a
        progress handler that interrupts a query running longer than the timeout. No pooling: every
        query gets a fresh session that no earlier query can have changed.
        """
        try:
            engine = create_engine(
                self.url, connect_args=read_only_connect_args(self.url, self.ctx.source.timeout), poolclass=NullPool
            )
        except (SQLAlchemyError, ImportError) as e:
            raise self.ctx.error(
                f"cannot create a database engine for {self.shown}: {_first_line(e, self.url)}", file=self.shown
            ) from None
        if self.url.get_backend_name() == "sqlite":
            event.listen(engine, "connect", partial(sqlite_read_only, timeout=self.ctx.source.timeout))
        return engine

    def connect(self, engine: Engine, q: CrmTable) -> Connection:
        """A connection for one query, in a read-only transaction where the database has them, whose
        statements share one snapshot where :func:`begin_snapshot` can (``self.snapshot``)."""
        try:
            conn = engine.connect()
        except SQLAlchemyError as e:
            raise self.fail(q, "cannot connect", e) from None
        try:
            self.snapshot = begin_snapshot(conn, self.url.get_backend_name())
        except SQLAlchemyError as e:
            conn.close()
            raise self.fail(q, "cannot start a read-only transaction", e) from None
        return conn

    def columns(
        self, q: CrmTable, names: Sequence[str], src: str, change: str | None = None
    ) -> tuple[list[str], list[str]]:
        """Normalised result column names, and the unknown ones; SourceError for missing/duplicate ones.
        A configured change column outside the contract is expected there: no warning names it."""
        cols = [n.strip().lower() for n in names]
        dups = sorted({c for c in cols if cols.count(c) > 1})
        if dups:
            raise self.ctx.error(f"query {q.key!r} returns duplicate columns {dups}", file=src, key=q.key)
        for col in q.required:
            if col not in cols:
                raise self.ctx.error(
                    f"query {q.key!r} has no column {col!r} (it returns: {', '.join(cols)})", file=src, key=col
                )
        unknown = [c for c in cols if c not in q.names]
        unexpected = [c for c in unknown if change is None or c != change.strip().lower()]
        if unexpected:
            kept = "kept in extra" if q.has_extra else "ignored"
            self.ctx.warn(
                f"query {q.key!r} returns columns outside the {q.table} contract, {kept}: {', '.join(unexpected)}",
                file=src,
                key=q.key,
                code="extra_columns",
            )
        return cols, unknown

    def numbers(
        self, col: str, values: Sequence[Any], first: int, pos: int, bad: list[tuple[int, int, str]]
    ) -> np.ndarray | list[Any]:
        """A numeric column: floats (NaN for NULL), or ints without NULLs as int64. Bad values
        become NULL and are listed in ``bad`` as (line, column position, warning message)."""
        if set(map(type, values)) <= _FLOAT_LIKE:
            try:
                with np.errstate(all="ignore"):
                    arr = np.array(values, dtype=np.float64)
            except (TypeError, ValueError, ArithmeticError):
                arr = None  # e.g. a signalling-NaN Decimal: the value-by-value path says which
            if arr is not None and col not in _INT_COLUMNS:
                arr[~np.isfinite(arr)] = np.nan
                return arr
            if arr is not None:
                with np.errstate(all="ignore"):
                    ok = np.isfinite(arr) & (arr == np.trunc(arr))
                if not (np.abs(arr[ok]) >= _INT64_LIMIT).any():
                    missing = np.fromiter(map(is_, values, repeat(None)), dtype=bool, count=len(values))
                    for i in np.flatnonzero(~ok & ~missing):
                        bad.append((first + int(i), pos, _bad_number(col, values[i])))
                    if ok.all():
                        return arr.astype(np.int64)
                    arr[~ok] = np.nan
                    return arr
        out = []
        for i, v in enumerate(values):
            number, wrong = _number(col, v)
            if wrong:
                bad.append((first + i, pos, _bad_number(col, v)))
            out.append(number)
        return out

    def convert(
        self, q: CrmTable, cols: list[str], unknown: list[str], rows: Sequence[Sequence[Any]], first: int, src: str
    ) -> pd.DataFrame:
        """Rows of a query result (the first on line ``first``) as a frame of the query's table."""
        n = len(rows)
        data: dict[str, Any] = {
            "src_file": _objects([src] * n),
            "src_line": np.arange(first, first + n, dtype=np.int64),
        }
        columns = list(zip(*rows))
        bad: list[tuple[int, int, str]] = []
        extra: list[tuple[str, Sequence[Any]]] = []
        for pos, (col, values) in enumerate(zip(cols, columns)):
            if col in unknown:
                if q.has_extra:
                    extra.append((col, values))
            elif col in _FLOAT_COLUMNS or col in _INT_COLUMNS:
                data[col] = self.numbers(col, values, first, pos, bad)
            elif col in _NAMES_COLUMNS:
                data[_LANDS_IN.get(col, col)] = _objects(_each(_names_json, column_texts(col, values)))
            else:
                data[_LANDS_IN.get(col, col)] = _objects(column_texts(col, values))
        for line, _, message in sorted(bad):  # in row order, like a row-by-row read
            self.ctx.warn(message, file=src, line=line, key=q.key, code="bad_number")
        if q.has_extra:
            data["extra"] = _objects(extra_json(extra, n))
        return pd.DataFrame(data)

    def run(
        self, conn: Connection, q: CrmTable, stmt: TextClause, src: str, what: str, change: str | None = None
    ) -> Generator[Batch, None, _Result]:
        """Stream one query's result as Batches of the query's canonical table; returns a _Result
        (with the largest value of the ``change`` column when one is given)."""
        size = self.ctx.chunk_size
        try:
            result = conn.execution_options(yield_per=size).execute(stmt)
        except SQLAlchemyError as e:
            raise self.fail(q, what, e, src) from None
        if not result.returns_rows:
            raise self.ctx.error(f"query {q.key!r} returns no rows (not a SELECT?)", file=src, key=q.key)
        names = list(result.keys())
        cols, unknown = self.columns(q, names, src, change)
        at = None
        if change is not None:
            if change.strip().lower() not in cols:
                raise self.ctx.error(
                    f"query {q.key!r} has no change column {change!r} (it returns: {', '.join(cols)})",
                    file=src,
                    key=change,
                )
            at = cols.index(change.strip().lower())
        highest = None
        line = 1
        try:
            while True:
                with collector_paused():
                    try:
                        part = result.fetchmany(size)
                    except SQLAlchemyError as e:
                        raise self.fail(q, f"{what} while reading", e, src) from None
                    if not part:
                        break
                    if at is not None:
                        highest = self.highest(q, change, [row[at] for row in part], highest, src)
                    frame = self.convert(q, cols, unknown, part, line, src)
                    line += len(part)
                    del part  # free the row objects while the collector is paused
                yield Batch(q.table, frame)
        finally:
            result.close()
        return _Result(names, highest)

    def highest(self, q: CrmTable, change: str | None, values: Sequence[Any], current: Any, src: str) -> Any:
        """The largest change-column value so far (see :func:`_highest`); SourceError when incomparable."""
        try:
            return _highest(values, current)
        except TypeError as e:
            raise self.ctx.error(
                f"query {q.key!r}: the values of change column {change!r} cannot be compared ({e})",
                file=src,
                key=change,
            ) from None

    def token(self, q: CrmTable, change: str, value: Any, src: str) -> str:
        """:func:`make_token` of a change-column value; SourceError for a type that cannot be one."""
        try:
            return make_token(value)
        except TypeError as e:
            raise self.ctx.error(
                f"query {q.key!r}: change column {change!r} cannot give a watermark: {e}", file=src, key=change
            ) from None

    def keys(self, conn: Connection, q: CrmTable, sql: str, names: list[str], src: str) -> Iterator[Batch]:
        """Stream the natural key of every row ``sql`` returns now, as keys-only Batches of strings
        exactly as the loaded rows hold them (converted, then conformed; see :func:`key_texts`), in
        batches of ``KEYS_PER_CHUNK`` times the source's ``chunk_size`` (a key is a small part of a row)."""
        by_name = {n.strip().lower(): n for n in names}
        quote = conn.dialect.identifier_preparer.quote
        select = ", ".join(f"cdc_q.{quote(by_name[k])}" for k in q.natural_key)
        size = self.ctx.chunk_size * KEYS_PER_CHUNK
        try:
            result = conn.execution_options(yield_per=size).execute(text(f"SELECT {select} FROM (\n{sql}\n) AS cdc_q"))
        except SQLAlchemyError as e:
            raise self.fail(q, "failed reading the keys of all rows", e, src) from None
        try:
            while True:
                with collector_paused():
                    try:
                        part = result.fetchmany(size)
                    except SQLAlchemyError as e:
                        raise self.fail(q, "failed reading the keys of all rows", e, src) from None
                    if not part:
                        break
                    keys = pa.table({k: key_texts(k, values) for k, values in zip(q.natural_key, zip(*part))})
                    del part
                yield Batch(q.table, keys.to_pandas(types_mapper=pd.ArrowDtype), keys_only=True)
        finally:
            result.close()

    def nothing_deleted(self, conn: Connection, q: CrmTable, body: str, names: list[str], src: str) -> bool:
        """True when the count of distinct keys shows that no key of ``q`` was deleted since the last landing
        (see :mod:`pipelines.adapters.sql_deletions`): only with the loader's count, in one snapshot, on a
        database whose key values can be checked, and when they are all plain. The loader's count is taken
        here, after every changed row was yielded (a generator resumes only when its batch was landed)."""
        backend = self.url.get_backend_name()
        if self.ctx.key_count is None or not self.snapshot or backend not in COUNTED:
            return False
        by_name = {n.strip().lower(): n for n in names}
        stmt = count_statement(
            backend,
            body,
            [by_name[k] for k in q.natural_key],
            q.natural_key,
            conn.dialect.identifier_preparer.quote,
        )
        key_count = self.ctx.key_count
        # The loader counts over its Parquet (DuckDB) while the database counts: both release the GIL.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mdm-key-count") as pool:
            ours = pool.submit(key_count, q.table)
            try:
                row = conn.execute(stmt).one()
            except SQLAlchemyError as e:
                raise self.fail(q, "failed counting the keys of all rows", e, src) from None
            n = distinct_keys(row, q.natural_key)
            return n is not None and n == ours.result()

    def read(self, conn: Connection, q: CrmTable, sql: str, change: str | None) -> Iterator[Batch]:
        """One query: a full read, or with a watermark in ``ctx.since`` the rows changed since it and either
        a marker that no key was deleted or the keys of all rows. Sets ``ctx.watermarks`` for a query with a
        change column."""
        src = f"{self.shown}#{q.key}"
        token = self.ctx.since.get(q.key) if change is not None else None
        if token is None:
            done = yield from self.run(conn, q, text(sql), src, "failed", change)
            if change is not None and done.highest is not None:
                self.ctx.watermarks[q.key] = self.token(q, change, done.highest, src)
            return
        assert change is not None
        try:
            since, shown = read_token(token)
        except ValueError as e:
            raise self.ctx.error(f"query {q.key!r}: {e}", file=src, key=q.key) from None
        body = sql.strip().rstrip(";")
        column = conn.dialect.identifier_preparer.quote(change)
        stmt = text(f"SELECT * FROM (\n{body}\n) AS cdc_q WHERE cdc_q.{column} >= :cdc_since").bindparams(
            cdc_since=since
        )
        changed_src = f"{src}?changed_since={shown}"
        done = yield from self.run(conn, q, stmt, changed_src, f"failed reading the rows changed since {shown}", change)
        if self.nothing_deleted(conn, q, body, done.names, src):
            yield Batch(q.table, pd.DataFrame(), keys_only=True, no_deletions=True)
        else:
            yield from self.keys(conn, q, body, done.names, src)
        self.ctx.watermarks[q.key] = token if done.highest is None else self.token(q, change, done.highest, changed_src)


def extract(ctx: ExtractContext) -> Iterator[Batch]:
    """Run the source's ``customers`` (and ``accounts``, ``balances``) queries and stream their rows."""
    reader = _Reader(ctx)
    queries = ctx.source.queries or {}
    reader.guard(queries)
    engine = reader.engine()
    changes: dict[str, str] = getattr(ctx.source, "changes", None) or {}
    try:
        for q in QUERIES:
            sql = queries.get(q.key)
            if sql is None:
                continue
            conn = reader.connect(engine, q)
            with conn:
                yield from reader.read(conn, q, sql, changes.get(q.key))
    finally:
        engine.dispose()
