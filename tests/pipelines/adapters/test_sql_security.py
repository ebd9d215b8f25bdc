"""Issue 12: nothing we run writes to a source system. A configured query that is not a single read-only
SELECT is refused before it reaches the database (the generated sample's SQLite CRM and the PostgreSQL
test server), the session itself is read-only where the driver allows, queries have a timeout, and a
plain ``postgresql://`` URL (SQLAlchemy's default driver, psycopg 3) works."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from pipelines.adapters.sql import QUERIES, _Reader, extract
from pipelines.errors import SourceError
from pipelines.sample import generate
from pipelines.sql_guard import QueryRefused, check_query
from tests.conftest import make_ctx
from tests.pipelines.adapters.test_sql import build_crm, check_crm, queries, run

ATTACKS = {
    "drop": "DROP TABLE customers",
    "stacked": "SELECT source_id, name FROM customers; DROP TABLE customers",
    "dml_cte": "WITH gone AS (DELETE FROM customers RETURNING *) SELECT source_id, name FROM gone",
    "select_into": "SELECT * INTO stolen FROM customers",
    "for_update": "SELECT source_id, name FROM customers FOR UPDATE",
    "update": "UPDATE customers SET name = 'x'",
    "insert_select": "INSERT INTO customers SELECT * FROM customers",
    "pragma": "PRAGMA query_only = OFF",
    "attach": "ATTACH DATABASE '/tmp/evil.db' AS evil",
    "set_config": "SELECT set_config('default_transaction_read_only', 'off', false) AS source_id, 'x' AS name",
    "copy": "COPY customers TO '/tmp/customers.csv'",
    "create": "CREATE TABLE evil AS SELECT * FROM customers",
}


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated sample's SQLite CRM."""
    out = tmp_path_factory.mktemp("crm") / "sample"
    generate(out, entities=30, seed=7)
    return out / "internal" / "crm.sqlite"


def count(db: Path, table: str = "customers") -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    finally:
        con.close()


def extract_all(url: str, q: dict[str, str], **extra: object) -> list:
    ctx = make_ctx(name="crm", format="sql", url=url, queries=q, **extra)
    return list(extract(ctx))


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_sqlite_crm_attack_is_refused_and_changes_nothing(crm: Path, attack: str) -> None:
    before = crm.read_bytes()
    n = count(crm)
    with pytest.raises(SourceError, match="query 'customers' refused: it ") as e:
        extract_all(f"sqlite:///{crm}", {"customers": ATTACKS[attack]})
    assert e.value.source == "crm" and e.value.key == "customers"
    assert count(crm) == n > 0
    assert crm.read_bytes() == before
    assert not Path("/tmp/evil.db").exists()


def test_an_attack_in_a_later_query_stops_before_any_query_runs(crm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard checks every configured query before connecting at all."""
    connected: list[str] = []
    real = _Reader.connect
    monkeypatch.setattr(_Reader, "connect", lambda self, engine, q: connected.append(q.key) or real(self, engine, q))
    with pytest.raises(SourceError, match="query 'balances' refused"):
        extract_all(
            f"sqlite:///{crm}",
            {"customers": "SELECT source_id, name FROM customers", "balances": "DROP TABLE balances"},
        )
    assert connected == []
    assert count(crm, "balances") > 0


def test_words_in_comments_and_strings_are_no_false_positive(crm: Path) -> None:
    sql = (
        "SELECT source_id, name, 'DROP TABLE customers; DELETE FROM x' AS note -- DROP TABLE customers\n"
        "FROM customers /* INSERT INTO customers */ WHERE name <> 'UPDATE' ORDER BY source_id"
    )
    batches = extract_all(f"sqlite:///{crm}", {"customers": sql})
    assert sum(len(b.frame) for b in batches) == count(crm)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 AS source_id, 'a' AS name UNION ALL SELECT 2, 'b'",
        "WITH c AS (SELECT source_id, name FROM customers) SELECT * FROM c",
        "SELECT source_id, name FROM customers WHERE name LIKE '%Ltd%';",
        "select c.source_id, upper(c.name) as name from customers c where c.updated_at >= '2020-01-01'",
    ],
)
def test_plain_queries_pass_the_guard(sql: str) -> None:
    check_query(sql, "sqlite")
    check_query(sql, "postgresql")


def test_the_sqlite_session_is_read_only_without_the_guard(crm: Path) -> None:
    """Second line: the connection the adapter makes refuses writes even when a statement got past the guard."""
    n = count(crm)
    reader = _Reader(make_ctx(name="crm", format="sql", url=f"sqlite:///{crm}", queries={"customers": "SELECT 1"}))
    engine = reader.engine()
    try:
        for stmt in ("DROP TABLE customers", "DELETE FROM customers", "CREATE TABLE evil (a)"):
            with reader.connect(engine, QUERIES[0]) as conn, pytest.raises(SQLAlchemyError, match="readonly"):
                conn.exec_driver_sql(stmt)
    finally:
        engine.dispose()
    assert count(crm) == n


def test_sqlite_query_past_its_timeout_is_interrupted(crm: Path) -> None:
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
        "SELECT i AS source_id, 'x' AS name FROM n WHERE i < 0"
    )
    start = time.monotonic()
    with pytest.raises(SourceError, match=r"interrupted \(ran longer than the source's timeout of 0.5 s\)"):
        extract_all(f"sqlite:///{crm}", {"customers": endless}, timeout=0.5)
    assert time.monotonic() - start < 10


def test_guard_names_what_it_refuses() -> None:
    with pytest.raises(QueryRefused, match="holds 2 statements"):
        check_query("SELECT 1; SELECT 2", "postgresql")
    with pytest.raises(QueryRefused, match=r"contains SELECT \.\.\. INTO"):
        check_query("SELECT * INTO t2 FROM t", "postgresql")
    with pytest.raises(QueryRefused, match="contains a DELETE statement"):
        check_query("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "postgresql")
    with pytest.raises(QueryRefused, match="not a SELECT query but a DROP statement"):
        check_query("DROP TABLE t", "sqlite")
    with pytest.raises(QueryRefused, match=r"calls lo_export\(\)"):
        check_query("SELECT lo_export(1, '/tmp/x')", "postgresql")


# --- PostgreSQL ---------------------------------------------------------------------------------------


def pg_count(url: str, table: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("attack", ["drop", "stacked", "dml_cte", "select_into", "for_update", "set_config", "copy"])
def test_postgres_attack_is_refused_and_the_table_stays(pg_url: str, pg_schema: str, attack: str) -> None:
    build_crm(pg_url, pg_schema)
    sql = ATTACKS[attack].replace("customers", f"{pg_schema}.customers").replace("source_id", "cust_no AS source_id")
    sql = sql.replace(" name ", " legal_name AS name ").replace(" name,", " legal_name AS name,")
    with pytest.raises(SourceError, match="query 'customers' refused"):
        extract_all(pg_url, {"customers": sql})
    assert pg_count(pg_url, f"{pg_schema}.customers") == 5


@pytest.mark.postgres
def test_postgres_session_is_read_only_and_times_out(pg_url: str, pg_schema: str) -> None:
    """Without the guard, the adapter's own connection still refuses DROP TABLE and a data-modifying CTE
    (read-only transaction), and a slow statement hits statement_timeout."""
    build_crm(pg_url, pg_schema)
    ctx = make_ctx(name="crm", format="sql", url=pg_url, queries={"customers": "SELECT 1"}, timeout=0.5)
    reader = _Reader(ctx)
    engine = reader.engine()
    try:
        for stmt in (
            f"DROP TABLE {pg_schema}.customers",
            f"WITH x AS (DELETE FROM {pg_schema}.customers RETURNING *) SELECT count(*) FROM x",
            "SELECT set_config('transaction_read_only', 'off', true)",
        ):
            with (
                reader.connect(engine, QUERIES[0]) as conn,
                pytest.raises(SQLAlchemyError, match=r"read-only|read-write mode"),
            ):
                conn.exec_driver_sql(stmt)
        with reader.connect(engine, QUERIES[0]) as conn:
            assert conn.exec_driver_sql("SHOW transaction_read_only").scalar_one() == "on"
    finally:
        engine.dispose()
    assert pg_count(pg_url, f"{pg_schema}.customers") == 5
    start = time.monotonic()
    with pytest.raises(SourceError, match=r"statement timeout .*timeout of 0.5 s"):
        extract_all(pg_url, {"customers": "SELECT 1 AS source_id, 'x' AS name FROM pg_sleep(5)"}, timeout=0.5)
    assert time.monotonic() - start < 4


@pytest.mark.postgres
def test_plain_postgresql_url_uses_psycopg3(pg_url: str, pg_schema: str) -> None:
    plain = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    assert plain.startswith("postgresql://")
    build_crm(plain, pg_schema)
    ctx, t, _ = run(plain, queries(pg_schema))
    check_crm(ctx, t, make_url(plain).render_as_string(hide_password=True))
    assert create_engine(plain).dialect.driver == "psycopg"
