"""Deletions seen by a count of distinct keys (pipelines.adapters.sql_deletions): no keys are read when the
database's count equals the loader's, the statements share one snapshot, and keys the count cannot tell apart
are read as before. On SQLite files and on the PostgreSQL test server (tests/pg.sh)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from pipelines.adapters.base import Batch, ExtractContext
from pipelines.adapters.sql import extract, make_token
from pipelines.adapters.sql_deletions import count_statement, distinct_keys
from pipelines.adapters.sql_values import _PY_SPACE
from tests.pipelines.adapters.test_sql import CUSTOMERS, build_crm
from tests.pipelines.adapters.test_sql_changes import crm_ctx, customers_query, execute

LATE = make_token("2030-01-01 00:00:00")  # a watermark no row reaches: no row is read again


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement sent to a database through SQLAlchemy while the test runs."""
    seen: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", spy)


def _keys_read(seen: list[str]) -> int:
    return sum(s.startswith("SELECT cdc_q.") for s in seen)


def _counted(seen: list[str]) -> int:
    return sum("AS cdc_v" in s for s in seen)


def _batches(ctx: ExtractContext) -> list[Batch]:
    return list(extract(ctx))


def _markers(batches: list[Batch]) -> list[str]:
    return [b.table for b in batches if b.no_deletions]


def _keys(batches: list[Batch]) -> list[str]:
    return [k for b in batches if b.keys_only and not b.no_deletions for k in b.frame["source_id"]]


def _ctx(url: str, schema: str, key_count: Callable[[str], int]) -> ExtractContext:
    """A changes read of the customers (customer 1 is at the watermark: read again), with the loader's count."""
    full = crm_ctx(url, customers_query(schema), {"customers": "updated_at"})
    list(extract(full))
    ctx = crm_ctx(url, customers_query(schema), {"customers": "updated_at"}, since=full.watermarks)
    ctx.key_count = key_count
    return ctx


@pytest.fixture
def wal_url(tmp_path: Path) -> str:
    """The CRM in an SQLite file in WAL mode: another connection can write while the adapter reads."""
    db = tmp_path / "crm.db"
    build_crm(f"sqlite:///{db}")
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
    con.close()
    return f"sqlite:///{db}"


def _postgres(pg_url: str, pg_schema: str) -> tuple[str, str]:
    build_crm(pg_url, pg_schema)
    return pg_url, pg_schema


def _check_nothing_deleted(url: str, schema: str, seen: list[str]) -> None:
    asked: list[str] = []
    ctx = _ctx(url, schema, lambda table: asked.append(table) or 5)  # K_O: 1..5, K_C: 1
    seen.clear()
    batches = _batches(ctx)
    assert asked == ["organization"]
    assert _markers(batches) == ["organization"] and _keys(batches) == []
    assert [b.frame["source_id"].tolist() for b in batches if not b.keys_only] == [["1"]]
    assert _counted(seen) == 1 and _keys_read(seen) == 0
    # The count differs (the loader knows a sixth key): the keys are read, as before.
    ctx = _ctx(url, schema, lambda table: 6)
    seen.clear()
    batches = _batches(ctx)
    assert _markers(batches) == [] and _keys(batches) == ["1", "2", "3", "4", "5"]
    assert _counted(seen) == 1 and _keys_read(seen) == 1
    # Without the loader's count (an adapter test, a loader of old): the keys, and no count.
    ctx = _ctx(url, schema, lambda table: 5)
    ctx.key_count = None
    seen.clear()
    assert _keys(_batches(ctx)) == ["1", "2", "3", "4", "5"] and _counted(seen) == 0


def _check_one_snapshot(url: str, schema: str, delete: Callable[[], None]) -> None:
    """A customer deleted by another session after the changed rows were read is not seen by the count nor
    by the keys of the same read (one snapshot), so the counts agree; when they differ the keys hold it."""

    def count_then_delete(answer: int) -> Callable[[str], int]:
        def key_count(table: str) -> int:
            delete()
            return answer

        return key_count

    batches = _batches(_ctx(url, schema, count_then_delete(5)))
    assert _markers(batches) == ["organization"]
    build_again(url, schema)
    batches = _batches(_ctx(url, schema, count_then_delete(6)))
    assert _keys(batches) == ["1", "2", "3", "4", "5"]
    # Read again now, the deletion is seen.
    batches = _batches(_ctx(url, schema, lambda table: 5))
    assert _markers(batches) == [] and _keys(batches) == ["1", "2", "4", "5"]


def build_again(url: str, schema: str) -> None:
    """The customers of the CRM as built (accounts and balances emptied)."""
    s = f"{schema}." if schema else ""
    execute(url, f"DELETE FROM {s}balances", f"DELETE FROM {s}accounts", f"DELETE FROM {s}customers")
    engine = create_engine(url)
    with engine.begin() as conn:
        marks = ", ".join(["%s" if engine.dialect.paramstyle == "pyformat" else "?"] * len(CUSTOMERS[0]))
        conn.exec_driver_sql(f"INSERT INTO {s}customers VALUES ({marks})", CUSTOMERS)
    engine.dispose()


def test_nothing_deleted_reads_no_keys_sqlite(wal_url: str, statements: list[str]) -> None:
    _check_nothing_deleted(wal_url, "", statements)


@pytest.mark.postgres
def test_nothing_deleted_reads_no_keys_postgres(pg_url: str, pg_schema: str, statements: list[str]) -> None:
    _check_nothing_deleted(*_postgres(pg_url, pg_schema), statements)


def test_one_snapshot_sqlite(wal_url: str) -> None:
    db = wal_url.removeprefix("sqlite:///")

    def delete() -> None:
        con = sqlite3.connect(db)
        con.execute("DELETE FROM customers WHERE cust_no = 3")
        con.commit()
        con.close()

    _check_one_snapshot(wal_url, "", delete)


@pytest.mark.postgres
def test_one_snapshot_postgres(pg_url: str, pg_schema: str) -> None:
    _postgres(pg_url, pg_schema)
    _check_one_snapshot(
        pg_url, pg_schema, lambda: execute(pg_url, f"DELETE FROM {pg_schema}.customers WHERE cust_no = 3")
    )


# Key values of one column, and whether the count may stand for their landed keys.
SQLITE_KEYS = [
    (["A", "B", None], True),
    ([1, 2, 30, None], True),
    (["上海-9", "ACC\x00-1"], True),
    (["A", "A "], False),  # both land as 'A'
    (["A", "\u3000A"], False),
    (["1", 1], False),  # text and integer land alike
    (["", None], False),  # both land as NULL
    ([1.0, 2.0], False),
    ([b"A"], False),
]


def _keys_table(url: str, values: list[Any], month: bool = False) -> dict[str, str]:
    execute(url, "CREATE TABLE k (key_value, name TEXT, changed TEXT)")
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    con.executemany("INSERT INTO k VALUES (?, 'x', '2024-01-01')", [(v,) for v in values])
    con.commit()
    con.close()
    if month:
        return {
            "customers": "SELECT 'C1' AS source_id, 'x' AS name",
            "balances": "SELECT 'ACC-1' AS account_id, key_value AS month, changed FROM k",
        }
    return {"customers": "SELECT key_value AS source_id, name, changed FROM k"}


@pytest.mark.parametrize(("values", "plain"), SQLITE_KEYS)
def test_only_plain_keys_are_counted_sqlite(tmp_path: Path, values: list[Any], plain: bool) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    q = _keys_table(url, values)
    # The database's own count of distinct keys (NULL one of them): equal to the loader's count given.
    distinct = len({(type(v).__name__ if v is not None else None, v) for v in values})
    ctx = crm_ctx(url, q, {"customers": "changed"}, since={"customers": LATE})
    ctx.key_count = lambda table: distinct
    batches = _batches(ctx)
    assert _markers(batches) == (["organization"] if plain else [])


@pytest.mark.parametrize(
    ("values", "plain"),
    [(["2024-01", "2024-02", None], True), (["2024-01-31", "2024-01-30"], False), ([202401], False)],
)
def test_only_plain_months_are_counted_sqlite(tmp_path: Path, values: list[Any], plain: bool) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    ctx = crm_ctx(url, _keys_table(url, values, month=True), {"balances": "changed"}, since={"balances": LATE})
    ctx.key_count = lambda table: len(set(values))
    assert _markers(_batches(ctx)) == (["balance"] if plain else [])


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("column_type", "values", "plain"),
    [
        ("text", ["A", "B", None], True),
        ("varchar(10)", ["A", "上海"], True),
        ("bigint", [1, 2, None], True),
        ("text", ["A", "A "], False),
        ("text", ["A", "A\u00a0"], False),
        ("text", ["", "x"], False),
        ("char(3)", ["A", "B"], False),  # padded: not counted
        ("numeric", [1, 2], False),
    ],
)
def test_only_plain_keys_are_counted_postgres(
    pg_url: str, pg_schema: str, column_type: str, values: list[Any], plain: bool
) -> None:
    s = pg_schema
    execute(pg_url, f"CREATE TABLE {s}.k (key_value {column_type}, name text, changed text)")
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO {s}.k VALUES (%s, 'x', '2024-01-01')", [(v,) for v in values])
    engine.dispose()
    q = {"customers": f"SELECT key_value AS source_id, name, changed FROM {s}.k"}
    ctx = crm_ctx(pg_url, q, {"customers": "changed"}, since={"customers": LATE})
    ctx.key_count = lambda table: len(set(values))
    assert _markers(_batches(ctx)) == (["organization"] if plain else [])


def test_count_statement_binds_the_whitespace() -> None:
    stmt = count_statement("sqlite", "SELECT 1", ["Source Id"], ("source_id",), lambda n: f'"{n}"')
    assert stmt.compile().params == {"cdc_ws": _PY_SPACE}
    assert set(_PY_SPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}
    assert 'cdc_q."Source Id" AS v' in str(stmt)
    # Per column: distinct values, plain text or NULL, integers or NULL.
    assert distinct_keys((9, 4, 4, 0, 3, 0, 3), ("account_id", "month")) is None  # months held integers
    assert distinct_keys((9, 4, 4, 0, 3, 3, 1), ("account_id", "month")) == 9
    assert distinct_keys((9, 4, 0, 4, 3, 3, 0), ("account_id", "month")) == 9  # integer accounts
    assert distinct_keys((9, 4, 3, 3, 3, 3, 0), ("account_id", "month")) is None  # 'A ' or '1' and 1
    assert distinct_keys((0, 0, None, None), ("source_id",)) == 0
