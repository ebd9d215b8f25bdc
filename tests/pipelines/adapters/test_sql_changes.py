"""Change-data capture of the SQL adapter: watermarks of a full read, and reads of the rows changed since
a watermark plus the keys of all rows, on SQLite files and on the PostgreSQL test server (tests/pg.sh)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from pipelines.adapters.base import ExtractContext, conform, conform_strings
from pipelines.adapters.sql import KEYS_PER_CHUNK, extract, make_token, read_token
from pipelines.adapters.sql_values import _objects, column_texts, key_texts
from pipelines.errors import SourceError
from tests.conftest import make_ctx
from tests.pipelines.adapters.test_sql import build_crm, queries

CHANGED_CUSTOMERS = (
    "SELECT cust_no AS source_id, legal_name AS name, last_change AS updated_at, segment "
    "FROM {s}customers ORDER BY cust_no"
)
CHANGED_BALANCES = (
    "SELECT b.account_no AS account_id, b.month_end AS month, b.balance, c.last_change AS changed "
    "FROM {s}balances b JOIN {s}accounts a ON a.account_no = b.account_no "
    "JOIN {s}customers c ON c.cust_no = a.cust_no ORDER BY 1, 2"
)


def crm_ctx(
    url: str, q: dict[str, str], changes: dict[str, str], since: dict[str, str] | None = None, chunk_size: int = 1000
) -> ExtractContext:
    """A context of the CRM source with change columns. They are set without the config's check of the
    column name, so that names the config would refuse can be tried against the adapter itself."""
    ctx = make_ctx(name="crm", format="sql", url=url, queries=q, chunk_size=chunk_size)
    ctx.source = ctx.source.model_copy(update={"changes": changes})
    ctx.since = dict(since or {})
    return ctx


def read(ctx: ExtractContext) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Run the adapter: conformed rows per table, and the keys-only frames per table."""
    rows: dict[str, list[pd.DataFrame]] = {}
    keys: dict[str, list[pd.DataFrame]] = {}
    for batch in extract(ctx):
        if batch.keys_only:
            keys.setdefault(batch.table, []).append(batch.frame)
        else:
            rows.setdefault(batch.table, []).append(conform(batch.table, batch.frame, ctx))
    return (
        {t: pd.concat(f, ignore_index=True) for t, f in rows.items()},
        {t: pd.concat(f, ignore_index=True) for t, f in keys.items()},
    )


def execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for stmt in statements:
            conn.exec_driver_sql(stmt)
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    build_crm(url)
    return url


def customers_query(schema: str = "") -> dict[str, str]:
    return {"customers": CHANGED_CUSTOMERS.format(s=f"{schema}." if schema else "")}


def test_full_read_sets_watermarks(sqlite_url: str) -> None:
    ctx = crm_ctx(sqlite_url, queries(), {"customers": "updated_at"})
    rows, keys = read(ctx)
    assert keys == {}
    assert rows["organization"]["source_id"].tolist() == ["1", "2", "3", "4", "5"]
    # SQLite keeps timestamps as text: the watermark is that text, the largest one of the column.
    assert set(ctx.watermarks) == {"customers"}
    assert json.loads(ctx.watermarks["customers"]) == {"type": "str", "value": "2024-05-01 12:30:00"}
    assert read_token(ctx.watermarks["customers"]) == ("2024-05-01 12:30:00", "2024-05-01 12:30:00")


def test_no_watermark_without_values(sqlite_url: str) -> None:
    execute(sqlite_url, "UPDATE customers SET last_change = NULL")
    ctx = crm_ctx(sqlite_url, customers_query(), {"customers": "updated_at"})
    rows, _ = read(ctx)
    assert len(rows["organization"]) == 5 and ctx.watermarks == {}
    ctx = crm_ctx(sqlite_url, {"customers": CHANGED_CUSTOMERS.format(s="") + " LIMIT 0"}, {"customers": "updated_at"})
    assert read(ctx) == ({}, {}) and ctx.watermarks == {}


def test_changes_read_returns_changed_rows_and_all_keys(sqlite_url: str) -> None:
    full = crm_ctx(sqlite_url, customers_query(), {"customers": "updated_at"})
    read(full)
    # After the load: customer 3 is deleted, 5 is updated, 6 is new; 1 (the watermark row) is unchanged.
    execute(
        sqlite_url,
        "DELETE FROM customers WHERE cust_no = 3",
        "UPDATE customers SET legal_name = 'Gamma Inc (renamed)', last_change = '2024-06-01 09:00:00.250000' "
        "WHERE cust_no = 5",
        "INSERT INTO customers (cust_no, legal_name, last_change, segment) "
        "VALUES (6, 'Delta SA', '2024-05-20 00:00:00', 'SME')",
    )
    ctx = crm_ctx(sqlite_url, customers_query(), {"customers": "updated_at"}, since=full.watermarks, chunk_size=2)
    rows, keys = read(ctx)
    org = rows["organization"]
    # Rows at or after the watermark only (1 is at it), converted like a full read.
    assert org["source_id"].tolist() == ["1", "5", "6"]
    assert org["name"].tolist() == ["上海浦东发展银行股份有限公司", "Gamma Inc (renamed)", "Delta SA"]
    assert org["updated_at"].tolist() == ["2024-05-01T12:30:00", "2024-06-01T09:00:00.250000", "2024-05-20T00:00:00"]
    assert json.loads(org["extra"][2]) == {"segment": "SME"}
    # Their lineage cannot collide with the lines of the full read they update.
    assert org["src_file"].eq(f"{sqlite_url}#customers?changed_since=2024-05-01 12:30:00").all()
    assert org["src_line"].tolist() == [1, 2, 3]
    # All current keys, deleted customer 3 absent, as conformed strings and nothing else.
    assert list(keys) == ["organization"]
    assert keys["organization"].columns.tolist() == ["source_id"]
    assert keys["organization"]["source_id"].tolist() == ["1", "2", "4", "5", "6"]
    assert json.loads(ctx.watermarks["customers"])["value"] == "2024-06-01 09:00:00.250000"
    assert [w.code for w in ctx.warnings.items] == ["extra_columns"]


def test_nothing_changed_keeps_the_watermark(sqlite_url: str) -> None:
    token = make_token("2030-01-01 00:00:00")
    ctx = crm_ctx(sqlite_url, customers_query(), {"customers": "updated_at"}, since={"customers": token})
    rows, keys = read(ctx)
    assert rows == {}
    assert keys["organization"]["source_id"].tolist() == ["1", "2", "3", "4", "5"]
    assert ctx.watermarks == {"customers": token}


def test_balances_keys_are_account_and_month(sqlite_url: str) -> None:
    q = {
        "customers": "SELECT cust_no AS source_id, legal_name AS name FROM customers",
        "balances": CHANGED_BALANCES.format(s=""),
    }
    full = crm_ctx(sqlite_url, q, {"balances": "changed"})
    rows, _ = read(full)
    assert len(rows["balance"]) == 3 and set(full.watermarks) == {"balances"}
    execute(
        sqlite_url,
        "DELETE FROM balances WHERE account_no = 'ACC-1' AND month_end = '2024-01-31'",
        "UPDATE customers SET last_change = '2024-07-01 00:00:00' WHERE cust_no = 2",
    )
    ctx = crm_ctx(sqlite_url, q, {"balances": "changed"}, since=full.watermarks)
    rows, keys = read(ctx)
    # Customer 1 (the watermark) and 2 (updated) own the remaining balances; every row is "changed".
    assert rows["balance"][["account_id", "month"]].values.tolist() == [["ACC-1", "2024-02"], ["ACC-2", "2023-12"]]
    assert keys["balance"].values.tolist() == [["ACC-1", "2024-02"], ["ACC-2", "2023-12"]]
    assert keys["balance"].columns.tolist() == ["account_id", "month"]
    # The customers query has no change column: read in full, no watermark.
    assert rows["organization"]["source_id"].tolist() == ["1", "2", "3", "4", "5"]
    assert set(ctx.watermarks) == {"balances"}


def test_a_change_column_outside_the_contract_is_not_warned_about(sqlite_url: str) -> None:
    """`changed` is no balance column: ignored like any other, but named by the config, so no warning;
    another column outside the contract still gets one."""
    q = {
        "customers": "SELECT cust_no AS source_id, legal_name AS name FROM customers",
        "balances": CHANGED_BALANCES.format(s=""),
    }
    ctx = crm_ctx(sqlite_url, q, {"balances": "changed"})
    rows, _ = read(ctx)
    assert "changed" not in rows["balance"].columns
    assert [w for w in ctx.warnings.items if w.code == "extra_columns"] == []
    q["balances"] = q["balances"].replace("AS changed", "AS changed, c.segment")
    ctx = crm_ctx(sqlite_url, q, {"balances": "changed"})
    read(ctx)
    (warning,) = [w for w in ctx.warnings.items if w.code == "extra_columns"]
    assert "segment" in warning.message and "changed" not in warning.message


def test_missing_change_column_is_a_source_error(sqlite_url: str) -> None:
    ctx = crm_ctx(sqlite_url, customers_query(), {"customers": "last_modified"})
    with pytest.raises(SourceError, match="query 'customers' has no change column 'last_modified'") as e:
        read(ctx)
    assert e.value.file == f"{sqlite_url}#customers"


def test_changes_query_failure_is_a_source_error(sqlite_url: str) -> None:
    token = make_token("2024-01-01")
    ctx = crm_ctx(
        sqlite_url,
        {"customers": "SELECT cust_no AS source_id, legal_name AS name FROM customers"},
        {"customers": "updated_at"},
        since={"customers": token},
    )
    with pytest.raises(
        SourceError,
        match=r"query 'customers' failed reading the rows changed since 2024-01-01: "
        r"no such column: cdc_q.updated_at",
    ):
        read(ctx)
    ctx = crm_ctx(sqlite_url, customers_query(), {"customers": "updated_at"}, since={"customers": "2024-01-01"})
    with pytest.raises(SourceError, match="query 'customers': not a watermark token of the SQL adapter: '2024-01-01'"):
        read(ctx)


def test_quoted_change_column_cannot_inject_sql(sqlite_url: str) -> None:
    # A result column whose name holds a double quote is found, quoted as one identifier.
    q = {"customers": 'SELECT cust_no AS source_id, legal_name AS name, last_change AS "odd""col" FROM customers'}
    full = crm_ctx(sqlite_url, q, {"customers": 'odd"col'})
    read(full)
    ctx = crm_ctx(sqlite_url, q, {"customers": 'odd"col'}, since=full.watermarks)
    rows, _ = read(ctx)
    assert rows["organization"]["source_id"].tolist() == ["1"]
    # A name written to break out of the identifier stays an (unknown) identifier: no row comes back.
    attack = 'odd" IS NOT NULL OR "x'
    ctx = crm_ctx(sqlite_url, q, {"customers": attack}, since=full.watermarks)
    with pytest.raises(SourceError, match="no such column") as e:
        read(ctx)
    assert e.value.key == "customers"


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2024, 5, 1, 12, 30, 0, 123456),
        dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        dt.date(2024, 5, 1),
        17,
        2.5,
        Decimal("10.50"),
        "2024-05-01 12:30:00",
    ],
)
def test_token_round_trip(value: object) -> None:
    token = make_token(value)
    back, _ = read_token(token)
    assert back == value and type(back) is type(value)
    if isinstance(back, dt.datetime):
        assert back.tzinfo == value.tzinfo  # type: ignore[union-attr]


@pytest.mark.parametrize("value", [True, b"x", dt.time(1, 2)])
def test_token_refuses_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        make_token(value)


@pytest.mark.postgres
@pytest.mark.parametrize("column_type", ["timestamp", "timestamptz"])
def test_postgres_timestamp_watermark(pg_url: str, pg_schema: str, column_type: str) -> None:
    build_crm(pg_url, pg_schema)
    s = pg_schema
    execute(
        pg_url,
        f"ALTER TABLE {s}.customers ALTER COLUMN last_change TYPE {column_type}",
        f"UPDATE {s}.customers SET last_change = last_change + interval '0.123456 second' WHERE cust_no = 1",
    )
    q = customers_query(s)
    full = crm_ctx(pg_url, q, {"customers": "updated_at"})
    rows, _ = read(full)
    high, shown = read_token(full.watermarks["customers"])
    assert isinstance(high, dt.datetime) and (high.tzinfo is not None) == (column_type == "timestamptz")
    assert (high.replace(tzinfo=None) if high.tzinfo else high) == dt.datetime(2024, 5, 1, 12, 30, 0, 123456)
    assert rows["organization"]["updated_at"][0].startswith("2024-05-01T12:30:00.123456")
    # Bound as a timestamp: the row at the watermark (to the microsecond) and a later one come back.
    execute(
        pg_url,
        f"UPDATE {s}.customers SET last_change = TIMESTAMP '2024-08-01 10:00:00' WHERE cust_no = 4",
        f"DELETE FROM {s}.customers WHERE cust_no = 2",
    )
    ctx = crm_ctx(pg_url, q, {"customers": "updated_at"}, since=full.watermarks)
    rows, keys = read(ctx)
    assert rows["organization"]["source_id"].tolist() == ["1", "4"]
    assert rows["organization"]["src_file"][0].endswith(f"#customers?changed_since={shown}")
    assert keys["organization"]["source_id"].tolist() == ["1", "3", "4", "5"]
    newer, _ = read_token(ctx.watermarks["customers"])
    assert (newer.replace(tzinfo=None) if newer.tzinfo else newer).date() == dt.date(2024, 8, 1)


def _keys_as_loaded(col: str, values: list[object]) -> list[object]:
    """A key column as the loaded rows hold it: the adapter's conversion, then the raw layer's conform."""
    return conform_strings(pd.Series(_objects(column_texts(col, values)), dtype="object")).tolist()


SPACES = [c for c in map(chr, range(0x110000)) if c.isspace()]


@pytest.mark.parametrize("col", ["source_id", "account_id", "month"])
@pytest.mark.parametrize(
    "values",
    [
        ["ACC-1", "ACC-2", None, "上海-9"],
        ["2024-01", "2024-12", None],
        ["", "x", None],
        ["2024-01-31", "202403", " 2024-02", "٢٠٢٤-٠١", "2024-1"],
        [1, 2, None, 3],
        [1.0, 2.5, float("nan"), None],
        [Decimal("10.50"), Decimal("7")],
        [dt.date(2024, 3, 31), dt.date(2024, 4, 30), None],
        [dt.datetime(2024, 3, 31, 12, 0), None],
        [b"AC\xc3\xa9", None],
        ["A1", 2, None],
        [None, None],
        *([f"{c}K1", f"K1{c}", "K2"] for c in SPACES),
    ],
)
def test_keys_are_the_loaded_rows_keys(col: str, values: list[object]) -> None:
    """The keys scan's fast path gives every key exactly as the landed rows hold it, whitespace of every
    kind str.strip removes at either end included."""
    got = key_texts(col, values)
    assert got.type == pa.string()
    assert got.to_pylist() == _keys_as_loaded(col, values)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12), st.from_regex(r"\A\d{4}-?\d{2}(-\d{2})?\Z")), max_size=20))
def test_keys_of_any_text(values: list[str | None]) -> None:
    for col in ("source_id", "month"):
        assert key_texts(col, values).to_pylist() == _keys_as_loaded(col, values)


def test_keys_batches_hold_several_chunks(sqlite_url: str) -> None:
    token = make_token("2030-01-01 00:00:00")
    execute(
        sqlite_url,
        *(f"INSERT INTO customers (cust_no, legal_name) VALUES ({i}, 'Extra {i}')" for i in range(10, 30)),
    )
    ctx = crm_ctx(sqlite_url, customers_query(), {"customers": "updated_at"}, since={"customers": token}, chunk_size=2)
    sizes = [len(b.frame) for b in extract(ctx) if b.keys_only]
    assert sizes == [2 * KEYS_PER_CHUNK] * 3 + [25 - 3 * 2 * KEYS_PER_CHUNK]


def _keys_equal_the_rows_keys(url: str, schema: str = "") -> None:
    """Every table's keys scan gives the natural keys of a full read's landed rows."""
    q = queries(schema)
    changes = {"customers": "updated_at"}
    full = crm_ctx(url, q, changes)
    rows, _ = read(full)
    ctx = crm_ctx(url, q, changes, since={"customers": make_token("2030-01-01 00:00:00")})
    _, keys = read(ctx)
    assert list(keys) == ["organization"]
    assert sorted(keys["organization"]["source_id"]) == sorted(rows["organization"]["source_id"])
    for table, query, key in (
        ("account", "accounts", ["account_id"]),
        ("balance", "balances", ["account_id", "month"]),
    ):
        # Read the table by change-data capture on a column every row has, with a watermark no row reaches.
        q2 = dict(q) | {query: f"SELECT t.*, '2024-01-01' AS stamp FROM ({q[query]}) t"}
        ctx = crm_ctx(url, q2, {query: "stamp"}, since={query: make_token("2030-01-01")})
        _, keys = read(ctx)
        assert len(keys[table]) == len(rows[table]) > 0
        assert sorted(keys[table].values.tolist()) == sorted(rows[table][key].values.tolist())


def test_keys_equal_the_loaded_rows_keys_sqlite(sqlite_url: str) -> None:
    _keys_equal_the_rows_keys(sqlite_url)


@pytest.mark.postgres
def test_keys_equal_the_loaded_rows_keys_postgres(pg_url: str, pg_schema: str) -> None:
    build_crm(pg_url, pg_schema)
    _keys_equal_the_rows_keys(pg_url, pg_schema)
