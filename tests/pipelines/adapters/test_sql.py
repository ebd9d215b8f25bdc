"""The SQL adapter on a small CRM database in SQLite and in the PostgreSQL test server (tests/pg.sh)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from pipelines.adapters.base import conform
from pipelines.adapters.sql import extract
from pipelines.errors import SourceError
from tests.conftest import make_ctx

CRM_DDL = """
CREATE TABLE {s}customers (
    cust_no INTEGER PRIMARY KEY, legal_name VARCHAR(200), name_en VARCHAR(200), uscc VARCHAR(18), lei VARCHAR(20),
    country CHAR(2), city VARCHAR(100), branch VARCHAR(50), rm VARCHAR(50), opened DATE, status VARCHAR(10),
    last_change TIMESTAMP, segment VARCHAR(20), risk_score NUMERIC(5,2));
CREATE TABLE {s}accounts (
    account_no VARCHAR(20) PRIMARY KEY, cust_no INTEGER, product VARCHAR(20), currency CHAR(3),
    opened_on DATE, closed_on DATE, status VARCHAR(10));
CREATE TABLE {s}balances (
    account_no VARCHAR(20), month_end DATE, balance NUMERIC(18,2), debit_amount NUMERIC(18,2),
    credit_amount NUMERIC(18,2), txn_count INTEGER)
"""

CUSTOMERS = [
    (
        1,
        "上海浦东发展银行股份有限公司",
        "Shanghai Pudong Development Bank",
        "9131000013221158XA",
        None,
        "CN",
        "上海",
        "SH01",
        "Li Wei",
        dt.date(2015, 3, 1),
        "ACTIVE",
        dt.datetime(2024, 5, 1, 12, 30),
        "LARGE",
        1.25,
    ),
    (
        2,
        "ACME Trading Ltd",
        None,
        None,
        "5493001KJTIIGC8Y1R12",
        "GB",
        "London",
        "LDN",
        "J. Smith",
        dt.date(2019, 11, 20),
        "ACTIVE",
        dt.datetime(2024, 4, 2, 8, 0),
        "SME",
        None,
    ),
    (3, "Beta GmbH", None, None, None, "DE", "Berlin", "BER", None, None, "CLOSED", None, None, None),
    (4, None, None, None, None, None, None, None, None, None, None, None, None, None),
    (
        5,
        "Gamma Inc",
        None,
        None,
        None,
        "US",
        "Austin",
        "NY1",
        "K. Lee",
        dt.date(2021, 1, 5),
        "ACTIVE",
        dt.datetime(2024, 1, 31, 23, 59, 59),
        "MID",
        3.5,
    ),
]
ACCOUNTS = [
    ("ACC-1", 1, "CURRENT", "CNY", dt.date(2015, 3, 2), None, "OPEN"),
    ("ACC-2", 2, "LOAN", "GBP", dt.date(2020, 1, 1), dt.date(2023, 12, 31), "CLOSED"),
]
BALANCES = [
    ("ACC-1", dt.date(2024, 1, 31), 1_000_000.5, 20.0, 30.25, 12),
    ("ACC-1", dt.date(2024, 2, 29), -15.75, None, 5.0, 0),
    ("ACC-2", dt.date(2023, 12, 31), 0.0, 100.0, 0.0, 3),
]

CUSTOMERS_SQL = """
SELECT cust_no AS source_id, legal_name AS name, name_en, uscc, lei, country, city, branch,
       rm AS relationship_manager, opened AS opened_on, status, last_change AS updated_at, segment, risk_score
FROM {s}customers ORDER BY cust_no"""
ACCOUNTS_SQL = (
    "SELECT account_no AS account_id, cust_no AS source_id, product, currency, opened_on, closed_on, "
    "status FROM {s}accounts ORDER BY account_no"
)
BALANCES_SQL = (
    "SELECT account_no AS account_id, month_end AS month, balance, debit_amount, credit_amount, "
    "txn_count FROM {s}balances ORDER BY account_no, month_end"
)


def build_crm(url: str, schema: str = "") -> None:
    """Create and fill the CRM tables (in ``schema`` when given)."""
    s = f"{schema}." if schema else ""
    engine = create_engine(url)
    with engine.begin() as conn:
        for stmt in CRM_DDL.format(s=s).split(";"):
            conn.exec_driver_sql(stmt)
        for table, rows in (("customers", CUSTOMERS), ("accounts", ACCOUNTS), ("balances", BALANCES)):
            marks = ", ".join(["%s" if engine.dialect.paramstyle == "pyformat" else "?"] * len(rows[0]))
            conn.exec_driver_sql(f"INSERT INTO {s}{table} VALUES ({marks})", rows)
    engine.dispose()


def queries(schema: str = "") -> dict[str, str]:
    s = f"{schema}." if schema else ""
    return {
        "customers": CUSTOMERS_SQL.format(s=s),
        "accounts": ACCOUNTS_SQL.format(s=s),
        "balances": BALANCES_SQL.format(s=s),
    }


def run(url: str, q: dict[str, str], chunk_size: int = 1000):
    """Extract a SQL source; return the context, the conformed frames per table and the batch sizes."""
    ctx = make_ctx(name="crm", format="sql", url=url, queries=q, chunk_size=chunk_size)
    parts: dict[str, list[pd.DataFrame]] = {}
    sizes: dict[str, list[int]] = {}
    for batch in extract(ctx):
        parts.setdefault(batch.table, []).append(conform(batch.table, batch.frame, ctx))
        sizes.setdefault(batch.table, []).append(len(batch.frame))
    return ctx, {t: pd.concat(fs, ignore_index=True) for t, fs in parts.items()}, sizes


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    build_crm(url)
    return url


def check_crm(ctx, t: dict[str, pd.DataFrame], shown: str) -> None:
    """What both databases must give for the CRM above."""
    org = t["organization"]
    assert org["source_id"].tolist() == ["1", "2", "3", "4", "5"]
    assert org["src_line"].tolist() == [1, 2, 3, 4, 5]
    assert org["src_file"].eq(f"{shown}#customers").all()
    spdb = org.iloc[0]
    assert spdb["name"] == "上海浦东发展银行股份有限公司"
    assert (spdb["uscc"], spdb["country"], spdb["city"]) == ("9131000013221158XA", "CN", "上海")
    assert (spdb["branch"], spdb["relationship_manager"], spdb["status"]) == ("SH01", "Li Wei", "ACTIVE")
    assert spdb["opened_on"] == "2015-03-01"
    assert spdb["updated_at"] == "2024-05-01T12:30:00"
    assert json.loads(spdb["extra"]) == {"segment": "LARGE", "risk_score": 1.25}
    assert org.iloc[1]["lei"] == "5493001KJTIIGC8Y1R12"
    assert org.iloc[2]["extra"] is None
    # A row without a name is passed on (the loader decides), not dropped.
    assert org.iloc[3]["name"] is None
    extra_warnings = [w for w in ctx.warnings.items if w.code == "extra_columns"]
    assert len(extra_warnings) == 1 and "segment, risk_score" in extra_warnings[0].message

    acc = t["account"]
    assert acc.drop(columns=["source", "src_file"]).values.tolist() == [
        ["ACC-1", "1", "CURRENT", "CNY", "2015-03-02", None, "OPEN", 1],
        ["ACC-2", "2", "LOAN", "GBP", "2020-01-01", "2023-12-31", "CLOSED", 2],
    ]
    bal = t["balance"]
    assert bal["month"].tolist() == ["2024-01", "2024-02", "2023-12"]
    assert bal["balance"].tolist() == [1_000_000.5, -15.75, 0.0]
    assert bal["debit_amount"].isna().tolist() == [False, True, False]
    assert bal["txn_count"].tolist() == [12, 0, 3]
    assert bal["src_file"].eq(f"{shown}#balances").all()


def test_sqlite_crm(sqlite_url: str) -> None:
    ctx, t, _ = run(sqlite_url, queries())
    check_crm(ctx, t, sqlite_url)
    assert ctx.warnings.total == 1


def test_streams_in_chunks(sqlite_url: str) -> None:
    _, t, sizes = run(sqlite_url, queries(), chunk_size=2)
    assert sizes == {"organization": [2, 2, 1], "account": [2], "balance": [2, 1]}
    assert t["organization"]["src_line"].tolist() == [1, 2, 3, 4, 5]


def test_only_customers_query(sqlite_url: str) -> None:
    _, t, _ = run(sqlite_url, {"customers": "SELECT cust_no AS SOURCE_ID, legal_name AS Name FROM customers"})
    assert set(t) == {"organization"}
    assert t["organization"]["name"].tolist()[:3] == ["上海浦东发展银行股份有限公司", "ACME Trading Ltd", "Beta GmbH"]
    assert t["organization"]["extra"].isna().all()


def test_month_and_number_repairs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE b (a TEXT, m TEXT, bal TEXT, n TEXT)")
        conn.exec_driver_sql(
            "INSERT INTO b VALUES (?, ?, ?, ?)",
            [("X", "2024-03-31", "12.5", "3"), ("X", "202404", "n/a", "4"), ("X", "2024-05", "1e3", "2.5")],
        )
    engine.dispose()
    ctx, t, _ = run(
        url,
        {
            "customers": "SELECT 'c' AS source_id, 'n' AS name",
            "balances": "SELECT a AS account_id, m AS month, bal AS balance, n AS txn_count FROM b",
        },
    )
    bal = t["balance"]
    assert bal["month"].tolist() == ["2024-03", "2024-04", "2024-05"]
    assert bal["balance"].tolist()[0] == 12.5 and pd.isna(bal["balance"][1]) and bal["balance"][2] == 1000.0
    assert bal["txn_count"].tolist()[:2] == [3, 4] and pd.isna(bal["txn_count"][2])
    assert ctx.warnings.counts == {"bad_number": 2}
    assert sorted(w.line for w in ctx.warnings.items) == [2, 3]


@pytest.mark.parametrize(
    ("key", "sql", "missing"),
    [
        ("customers", "SELECT cust_no AS source_id, city FROM customers", "name"),
        ("customers", "SELECT legal_name AS name FROM customers", "source_id"),
        ("accounts", "SELECT account_no AS account_id FROM accounts", "source_id"),
        ("balances", "SELECT account_no AS account_id, balance FROM balances", "month"),
    ],
)
def test_missing_required_column(sqlite_url: str, key: str, sql: str, missing: str) -> None:
    q = {"customers": "SELECT cust_no AS source_id, legal_name AS name FROM customers", key: sql}
    with pytest.raises(SourceError, match=f"query '{key}' has no column '{missing}'") as e:
        run(sqlite_url, q)
    assert e.value.source == "crm" and e.value.file == f"{sqlite_url}#{key}"


def test_sql_syntax_error(sqlite_url: str) -> None:
    # The query guard parses it first (sqlglot): refused before it reaches the database, naming the place.
    with pytest.raises(
        SourceError,
        match=r"query 'customers' refused: it cannot be parsed as a single SELECT query "
        r"\(.*line 1, column \d+ near 'FORM'\)",
    ):
        run(sqlite_url, {"customers": "SELECT cust_no AS source_id FORM customers"})


def test_missing_table(sqlite_url: str) -> None:
    q = {
        "customers": "SELECT cust_no AS source_id, legal_name AS name FROM customers",
        "accounts": "SELECT * FROM no_such_accounts",
    }
    with pytest.raises(SourceError, match="query 'accounts' failed: no such table: no_such_accounts") as e:
        run(sqlite_url, q)
    assert "source 'crm'" in str(e.value)


def test_unreachable_server_hides_password() -> None:
    url = "postgresql+psycopg2://bank:s3cret-pw@127.0.0.1:9/crm"
    with pytest.raises(SourceError, match=r"query 'customers' cannot connect: connection to server") as e:
        run(url, {"customers": "SELECT 1 AS source_id, 'x' AS name"})
    assert "s3cret-pw" not in str(e.value)
    assert "bank:***@127.0.0.1:9/crm#customers" in str(e.value)


@pytest.mark.postgres
def test_postgres_crm(pg_url: str, pg_schema: str) -> None:
    build_crm(pg_url, pg_schema)
    ctx, t, _ = run(pg_url, queries(pg_schema))
    check_crm(ctx, t, make_url(pg_url).render_as_string(hide_password=True))
    assert f":{make_url(pg_url).password}@" not in t["organization"]["src_file"][0]


@pytest.mark.postgres
def test_postgres_streams_large_result(pg_url: str, pg_schema: str) -> None:
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TABLE {pg_schema}.c AS SELECT g AS id, 'Company ' || g AS nm, "
            "DATE '2020-01-01' + g AS since FROM generate_series(1, 2500) g"
        )
    engine.dispose()
    # Raw SQL reaches the server as written: '%' and '::' casts are not bind-parameter syntax here.
    sql = (
        f"SELECT id AS source_id, nm AS name, since::date AS opened_on, (id % 7)::text AS tier "
        f"FROM {pg_schema}.c WHERE nm LIKE 'Company %' ORDER BY id"
    )
    _, t, sizes = run(pg_url, {"customers": sql}, chunk_size=1000)
    assert sizes["organization"] == [1000, 1000, 500]
    org = t["organization"]
    assert org["source_id"].tolist() == [str(i) for i in range(1, 2501)]
    assert org["opened_on"].iloc[0] == "2020-01-02"
    assert json.loads(org["extra"].iloc[6]) == {"tier": "0"}


@pytest.mark.postgres
def test_postgres_wrong_password(pg_url: str) -> None:
    bad = make_url(pg_url).set(password="definitely-wrong-pw").render_as_string(hide_password=False)
    with pytest.raises(SourceError, match=r"query 'customers' cannot connect: .*password authentication failed") as e:
        run(bad, {"customers": "SELECT 1 AS source_id, 'x' AS name"})
    assert "definitely-wrong-pw" not in str(e.value)


@pytest.mark.postgres
def test_postgres_missing_table_and_syntax(pg_url: str, pg_schema: str) -> None:
    with pytest.raises(SourceError, match=f"query 'customers' failed: relation \"{pg_schema}.nope\" does not exist"):
        run(pg_url, {"customers": f"SELECT * FROM {pg_schema}.nope"})
    with pytest.raises(SourceError, match="query 'customers' refused: it cannot be parsed as a single SELECT query"):
        run(pg_url, {"customers": "SELECT 1 AS source_id FORM x"})


def test_unbound_parameter_is_a_source_error(sqlite_url: str) -> None:
    with pytest.raises(SourceError, match=r"query 'customers' failed: .*bind parameter 'nm'"):
        run(sqlite_url, {"customers": "SELECT 1 AS source_id, :nm AS name"})
    # An escaped colon is literal text.
    _, t, _ = run(sqlite_url, {"customers": r"SELECT 1 AS source_id, 'a\:b' AS name"})
    assert t["organization"]["name"].tolist() == ["a:b"]


def test_unknown_account_columns_ignored_with_one_warning(sqlite_url: str) -> None:
    ctx, t, _ = run(
        sqlite_url,
        {
            "customers": "SELECT cust_no AS source_id, legal_name AS name FROM customers",
            "accounts": "SELECT account_no AS account_id, cust_no AS source_id, 'x' AS note, 1 AS flag FROM accounts",
        },
    )
    assert t["account"]["account_id"].tolist() == ["ACC-1", "ACC-2"]
    assert [w.message for w in ctx.warnings.items] == [
        "query 'accounts' returns columns outside the account contract, ignored: note, flag"
    ]


def test_column_conversion_of_sqlite_values(tmp_path: Path) -> None:
    """Each conversion on the values SQLite returns (int, float, text, bytes, NULL), mixed within a column
    so that columns take both the column-wise and the value-by-value path."""
    url = f"sqlite:///{tmp_path / 'v.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE c (id, nm, opened, upd, blob_col, num_col)")
        conn.exec_driver_sql(
            "INSERT INTO c VALUES (?, ?, ?, ?, ?, ?)",
            [
                (101, "  Acme  ", "2024-03-01 10:00:00", "2024-03-01 10:00:00", b"caf\xc3\xa9", 3.0),
                (102.0, "", " 2024-02-30 ", "2024-03-01T10:00:00.5+01:00", b"\xff", 2.5),
                ("X-3", None, "not a date", "2024-03-01", None, None),
            ],
        )
        conn.exec_driver_sql("CREATE TABLE b (a, m, bal, deb, n)")
        conn.exec_driver_sql(
            "INSERT INTO b VALUES (?, ?, ?, ?, ?)",
            [
                ("A", 202403, 1.0, "x", 2.5),
                ("A", "2024-03-31", "1e3", 5, "7"),
                ("A", "2024-3", None, 2.0, None),
                ("A", " 202405 ", 4, None, 8),
            ],
        )
    engine.dispose()
    ctx, t, _ = run(
        url,
        {
            "customers": "SELECT id AS source_id, nm AS name, opened AS opened_on, upd AS updated_at, "
            "blob_col AS photo, num_col AS score, blob_col AS name_en FROM c",
            "balances": "SELECT a AS account_id, m AS month, bal AS balance, deb AS debit_amount, n AS txn_count FROM b",
        },
    )
    org = t["organization"]
    assert org["source_id"].tolist() == ["101", "102", "X-3"]  # an integral float without ".0"
    assert org["name"].tolist() == ["Acme", None, None]  # stripped; empty is NULL
    assert org["opened_on"].tolist() == ["2024-03-01", "2024-02-30", "not a date"]  # bad dates passed on
    assert org["updated_at"].tolist() == ["2024-03-01T10:00:00", "2024-03-01T10:00:00.500000+01:00", "2024-03-01"]
    assert org["name_en"].tolist() == ["café", "\ufffd", None]  # bytes decoded, bad bytes replaced
    assert [json.loads(x) if x else None for x in org["extra"]] == [
        {"photo": "café", "score": 3.0},
        {"photo": "\ufffd", "score": 2.5},
        None,
    ]
    bal = t["balance"]
    assert bal["month"].tolist() == ["2024-03", "2024-03", "2024-3", "2024-05"]
    assert bal["balance"].tolist()[:2] == [1.0, 1000.0] and pd.isna(bal["balance"][2]) and bal["balance"][3] == 4.0
    assert pd.isna(bal["debit_amount"][0]) and bal["debit_amount"][1] == 5.0
    assert bal["txn_count"].tolist()[1] == 7 and bal["txn_count"].tolist()[3] == 8
    assert bal["txn_count"][[0, 2]].isna().all()
    # One warning per bad value, in row order (then column order), naming the line.
    assert [(w.line, w.message) for w in ctx.warnings.items if w.code == "bad_number"] == [
        (1, "debit_amount 'x' is not a number; set to NULL"),
        (1, "txn_count 2.5 is not a number; set to NULL"),
    ]
    assert all(
        w.file == f"{url}#balances" and w.key == "balances" for w in ctx.warnings.items if w.code == "bad_number"
    )


def test_conform_strings_values() -> None:
    """conform() strips text, makes empty and missing values NULL, and writes other values as text."""
    from pipelines.adapters.base import conform_strings

    class Tag(str):
        pass

    cases = [
        (["a", " b ", None, ""], ["a", "b", None, None]),
        (["a", "b"], ["a", "b"]),
        ([None, None], [None, None]),
        (["a", float("nan"), 0, 1.5, "\u3000c\u3000"], ["a", None, "0", "1.5", "c"]),
        (["a", pd.NA, False, b"", Tag(" t ")], ["a", None, "False", "b''", "t"]),
    ]
    for given, expected in cases:
        out = conform_strings(pd.Series(given, index=[10 + i for i in range(len(given))], dtype="object"))
        assert out.tolist() == expected and out.dtype == object and out.index.tolist()[0] == 10
    assert conform_strings(pd.Series([1.0, None])).tolist() == ["1.0", None]


@pytest.mark.postgres
def test_postgres_value_types(pg_url: str, pg_schema: str) -> None:
    """Decimal, float NaN/inf, dates, timestamps with and without zone, bytea and month as a date/int."""
    s = pg_schema
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TABLE {s}.v (id numeric, ts timestamp, tstz timestamptz, d date, raw bytea, "
            "amount numeric, f float8, n numeric, m date, mi integer)"
        )
        conn.exec_driver_sql(
            f"INSERT INTO {s}.v VALUES "
            "(1.0, '2024-03-01 10:00:00.25', '2024-03-01 10:00:00+00', '2024-02-29', 'ab', 10.50, "
            "'NaN', 3.0, '2024-03-31', 202403), "
            "(2.50, '2024-03-02 00:00', NULL, NULL, NULL, 'NaN', 'Infinity', 2.5, NULL, 202404), "
            "(1e20, NULL, NULL, NULL, NULL, -0.000, 1e300, 'NaN', '1999-12-01', NULL)"
        )
    engine.dispose()
    ctx, t, _ = run(
        pg_url,
        {
            "customers": f"SELECT id AS source_id, 'n' AS name, ts AS updated_at, ts AS opened_on, d AS name_en, "
            f"raw AS registration_number, amount AS score, f AS ratio FROM {s}.v ORDER BY ts",
            "balances": f"SELECT id::text AS account_id, m AS month, amount AS balance, f AS debit_amount, "
            f"n AS txn_count FROM {s}.v ORDER BY ts",
            "accounts": f"SELECT id AS account_id, 'c' AS source_id, tstz AS opened_on FROM {s}.v ORDER BY ts",
        },
    )
    org = t["organization"]
    assert org["source_id"].tolist() == ["1", "2.50", "100000000000000000000"]
    assert org["updated_at"].tolist() == ["2024-03-01T10:00:00.250000", "2024-03-02T00:00:00", None]
    assert org["opened_on"].tolist() == ["2024-03-01", "2024-03-02", None]  # a timestamp cut to its date
    assert org["name_en"].tolist() == ["2024-02-29", None, None]
    assert org["registration_number"].tolist() == ["ab", None, None]
    assert [json.loads(x) for x in org["extra"]] == [
        {"score": 10.5, "ratio": None},
        {"score": "NaN", "ratio": None},
        {"score": 0, "ratio": 1e300},
    ]
    assert t["account"]["opened_on"].tolist()[0] == "2024-03-01"
    bal = t["balance"]
    assert bal["month"].tolist() == ["2024-03", None, "1999-12"]
    assert bal["balance"].tolist()[0] == 10.5 and pd.isna(bal["balance"][1]) and bal["balance"][2] == 0.0
    assert pd.isna(bal["debit_amount"][0]) and pd.isna(bal["debit_amount"][1]) and bal["debit_amount"][2] == 1e300
    assert bal["txn_count"].tolist()[0] == 3 and bal["txn_count"][1:].isna().all()
    assert [(w.line, w.message) for w in ctx.warnings.items if w.code == "bad_number"] == [
        (2, "txn_count Decimal('2.5') is not a number; set to NULL"),
        (3, "txn_count Decimal('NaN') is not a number; set to NULL"),
    ]


def test_aliases_and_registration_scheme_land_in_other_names_and_registration_authority(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE c (id TEXT, name TEXT, aliases TEXT, reg TEXT, scheme TEXT, country TEXT)")
        conn.exec_driver_sql(
            "INSERT INTO c VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    "1",
                    "ПАО Сбербанк",
                    "Sberbank of Russia; PJSC Sberbank;Sberbank of Russia",
                    "7707083893",
                    "RU-INN",
                    "RU",
                ),
                ("2", "TotalEnergies SE", '["Total S.A.", "Total Fina Elf"]', "542051180", None, "FR"),
                ("3", "Beta GmbH", "  ", None, None, "DE"),
            ],
        )
    engine.dispose()
    _, t, _ = run(
        url,
        {
            "customers": "SELECT id AS source_id, name, aliases, reg AS registration_number, "
            "scheme AS registration_scheme, country FROM c ORDER BY id"
        },
    )
    org = t["organization"]
    assert [json.loads(v) if v else None for v in org["other_names"]] == [
        [{"name": "Sberbank of Russia", "type": "ALIAS"}, {"name": "PJSC Sberbank", "type": "ALIAS"}],
        [{"name": "Total S.A.", "type": "ALIAS"}, {"name": "Total Fina Elf", "type": "ALIAS"}],
        None,
    ]
    assert org["registration_authority"].tolist() == ["RU-INN", None, None]
    assert org["extra"].isna().all()  # contract columns, not extras
