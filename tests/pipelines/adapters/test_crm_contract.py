"""The CRM column contract is defined once (pipelines.adapters.crm_contract): the SQL adapter reads by it, and
the sample world's CRM database and mdm.yaml queries are built from it."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import yaml

from pipelines.adapters import crm_contract, sql
from pipelines.adapters.crm_contract import AUDIT_COLUMN, TABLES, Column, CrmTable
from pipelines.errors import SourceError
from pipelines.sample import generate
from tests.conftest import make_ctx

# The SQLite type a sample column of each contract type must have (dates as ISO text).
_SQLITE = {
    "text": "TEXT",
    "date": "TEXT",
    "timestamp": "TEXT",
    "month": "TEXT",
    "real": "REAL",
    "integer": "INTEGER",
    "names": "TEXT",
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("crm_sample")
    generate(out, 150, seed=5)
    return out


def test_sample_database_has_exactly_the_contract_columns(sample: Path) -> None:
    con = sqlite3.connect(sample / "internal" / "crm.sqlite")
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {t.key for t in TABLES}
        for t in TABLES:
            info = con.execute("SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", (t.key,)).fetchall()
            names = [n for n, _, _ in info]
            # Exactly the contract's columns in its order, plus the audit stamp where the contract has none.
            assert [n for n in names if n != AUDIT_COLUMN.name or n in t.names] == list(t.names)
            assert names.count(AUDIT_COLUMN.name) == 1
            types = {n: ty for n, ty, _ in info}
            for c in t.columns:
                assert types[c.name] == _SQLITE[c.type], (t.key, c.name)
            pk = [n for n, _, p in sorted(info, key=lambda r: r[2]) if p]
            assert tuple(pk) == t.natural_key
            assert con.execute(f"SELECT count(*) FROM {t.key}").fetchone()[0] > 0
            for col in t.required:
                assert con.execute(f"SELECT count(*) FROM {t.key} WHERE {col} IS NULL").fetchone()[0] == 0
    finally:
        con.close()


def test_sample_config_queries_select_the_contract(sample: Path) -> None:
    crm = next(
        s for s in yaml.safe_load((sample / "mdm.yaml").read_text(encoding="utf-8"))["sources"] if s["format"] == "sql"
    )
    assert set(crm["queries"]) == {t.key for t in TABLES}
    for t in TABLES:
        m = re.fullmatch(r"SELECT (.+) FROM (\w+)", crm["queries"][t.key])
        assert m is not None and m.group(2) == t.key
        selected = [c.strip() for c in m.group(1).split(",")]
        assert [c for c in selected if c != AUDIT_COLUMN.name or c in t.names] == list(t.names)
        assert crm["changes"][t.key] == AUDIT_COLUMN.name and AUDIT_COLUMN.name in selected


def test_adapter_query_contract_equals_it() -> None:
    assert sql.QUERIES == crm_contract.TABLES
    assert [(q.key, q.table) for q in sql.QUERIES] == [
        ("customers", "organization"),
        ("accounts", "account"),
        ("balances", "balance"),
    ]
    by_type: dict[str, set[str]] = {}
    for t in TABLES:
        for c in t.columns:
            by_type.setdefault(c.type, set()).add(c.name)
    assert by_type["date"] == sql._DATE_COLUMNS
    assert by_type["timestamp"] == sql._TIMESTAMP_COLUMNS
    assert by_type["month"] == sql._MONTH_COLUMNS
    assert by_type["real"] == sql._FLOAT_COLUMNS
    assert by_type["integer"] == sql._INT_COLUMNS
    assert sql._NAMES_COLUMNS == by_type["names"] == {"aliases"}
    # Columns landing under another canonical name: aliases -> other_names, registration_scheme ->
    # registration_authority; every landing column is a canonical organisation column.
    assert sql._LANDS_IN == {"aliases": "other_names", "registration_scheme": "registration_authority"}


def test_adapter_lands_exactly_the_contract_columns(sample: Path) -> None:
    """The adapter, reading the sample CRM, gives each canonical table the contract's columns (plus lineage,
    and ``extra`` where the contract keeps other columns) and no warning about columns outside it."""
    crm = next(
        s for s in yaml.safe_load((sample / "mdm.yaml").read_text(encoding="utf-8"))["sources"] if s["format"] == "sql"
    )
    ctx = make_ctx(
        name="crm",
        format="sql",
        url=f"sqlite:///{sample / 'internal' / 'crm.sqlite'}",
        queries=crm["queries"],
        changes=crm["changes"],
    )
    seen: dict[str, list[str]] = {}
    for batch in sql.extract(ctx):
        seen.setdefault(batch.table, list(batch.frame.columns))
    for t in TABLES:
        expected = ["src_file", "src_line", *(c.lands_in for c in t.columns), *(["extra"] if t.has_extra else [])]
        assert seen[t.table] == expected, t.key
    assert "extra_columns" not in ctx.warnings.counts


def test_adapter_refuses_a_query_without_a_required_column(sample: Path) -> None:
    db = f"sqlite:///{sample / 'internal' / 'crm.sqlite'}"
    for t in TABLES:
        for col in t.required:
            kept = ", ".join(n for n in t.names if n != col)
            queries = {
                "customers": f"SELECT {', '.join(crm_contract.CUSTOMERS.names)} FROM customers",
                t.key: f"SELECT {kept} FROM {t.key}",
            }
            ctx = make_ctx(name="crm", format="sql", url=db, queries=queries)
            with pytest.raises(SourceError, match=f"no column '{col}'"):
                list(sql.extract(ctx))


def test_contract_rejects_inconsistent_declarations() -> None:
    with pytest.raises(ValueError, match="distinct lower-case identifiers"):
        CrmTable("x", "organization", (Column("a", required=True), Column("a")), ("a",), False)
    with pytest.raises(ValueError, match="distinct lower-case identifiers"):
        CrmTable("x", "organization", (Column("a; DROP TABLE y", required=True),), ("a; DROP TABLE y",), False)
    with pytest.raises(ValueError, match="natural key"):
        CrmTable("x", "organization", (Column("a"),), ("a",), False)
