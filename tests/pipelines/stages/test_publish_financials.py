"""A publish keeps golden_financial_fact when golden/financials.sql would rebuild it as it is
(pipelines.stages.publish.financials_unchanged, sql/golden/financials_unchanged.sql): never when a rebuild
would differ, and in a real incremental run that changes no fact and no filer's golden record."""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines import runner
from pipelines.sample import generate
from pipelines.stages import publish
from pipelines.warehouse import run_sql
from tests.pipelines.stages.test_extract_raw import change_one_sec_fact


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sample's published database after a full run (its SEC filers linked to golden records)."""
    out = tmp_path_factory.mktemp("publish_financials")
    generate(out, entities=150, seed=5)
    return runner.run(out / "mdm.yaml").warehouse / "mdm.duckdb"


def _rows(con: duckdb.DuckDBPyConnection) -> Counter[tuple]:
    return Counter(con.execute("SELECT * FROM golden_financial_fact").fetchall())


def _filer(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    row = con.execute("SELECT source, source_id FROM golden_financial_fact ORDER BY ALL LIMIT 1").fetchone()
    assert row is not None
    return row[0], row[1]


# Changes to the state a publish finds, by what they do to the published inputs of golden/financials.sql.
# Each is SQL with $source/$source_id bound to one linked filer; the bool: whether the table may be kept.
CHANGES: dict[str, tuple[list[str], bool]] = {
    "nothing changed": ([], True),
    "the facts loaded again": (["INSERT INTO run_reloaded VALUES ('financial_fact', $source)"], False),
    "another golden id for a filer": (
        ["UPDATE xref SET golden_id = 'G-ELSEWHERE' WHERE source = $source AND source_id = $source_id"],
        False,
    ),
    "a filer no longer linked": (["DELETE FROM xref WHERE source = $source AND source_id = $source_id"], False),
    "a filer linked twice": (
        ["INSERT INTO xref SELECT * FROM xref WHERE source = $source AND source_id = $source_id"],
        False,
    ),
    "a filer newly linked": (
        [
            "DELETE FROM golden_financial_fact WHERE source = $source AND source_id = $source_id",
        ],
        False,
    ),
    "a kept fact missing": (
        [
            "DELETE FROM golden_financial_fact WHERE rowid = (SELECT min(rowid) FROM golden_financial_fact "
            "WHERE source = $source AND source_id = $source_id)"
        ],
        False,
    ),
    "a kept fact twice": (
        [
            "INSERT INTO golden_financial_fact SELECT * FROM golden_financial_fact "
            "WHERE source = $source AND source_id = $source_id LIMIT 1"
        ],
        False,
    ),
    "the financials SQL changed": (["UPDATE mart_state SET value = 'another digest' WHERE input = 'sql'"], False),
    "no mart state": (["DELETE FROM mart_state"], False),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_kept_only_when_a_rebuild_is_the_same(published: Path, tmp_path: Path, change: str) -> None:
    db = tmp_path / "work.duckdb"
    shutil.copy(published, db)
    con = duckdb.connect(str(db))
    try:
        run_sql(con, "staging/run_reloaded")  # as the extract stage leaves it: nothing loaded again
        source, source_id = _filer(con)
        statements, kept = CHANGES[change]
        for sql in statements:
            params = {k: v for k, v in {"source": source, "source_id": source_id}.items() if f"${k}" in sql}
            con.execute(sql, params)
        assert publish.financials_unchanged(con) is kept
        before = _rows(con)
        run_sql(con, "golden/financials", {"run": "r-rebuild", "now": "2030-01-01 00:00:00"})
        after = _rows(con)
        if kept:  # the rebuild gives every row back, with the run id it had
            assert after == before and sum(after.values()) > 0
        elif change not in ("the facts loaded again", "the financials SQL changed", "no mart state"):
            assert after != before  # the state changed what a rebuild gives
    finally:
        con.close()


def test_a_customer_change_keeps_the_financial_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that changes a CRM customer's name keeps golden_financial_fact (the check said so, and the table
    is the published one, row for row); a run after an SEC fact's value changed rebuilds it."""
    sample = tmp_path / "sample"
    generate(sample, entities=150, seed=5)
    said: list[bool] = []
    real = publish.financials_unchanged

    def recorded(con: duckdb.DuckDBPyConnection) -> bool:
        said.append(real(con))
        return said[-1]

    monkeypatch.setattr(publish, "financials_unchanged", recorded)
    cfg = sample / "mdm.yaml"
    db = runner.run(cfg).warehouse / "mdm.duckdb"
    first = _published_rows(db)
    crm = sqlite3.connect(sample / "internal" / "crm.sqlite")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    crm.execute(
        "UPDATE customers SET name = name || ' Holdings', updated_at = ? "
        "WHERE source_id = (SELECT min(source_id) FROM customers)",
        (stamp,),
    )
    crm.commit()
    crm.close()
    runner.run(cfg)
    assert _published_rows(db) == first and sum(first.values()) > 0
    change_one_sec_fact(sample)
    runner.run(cfg)
    assert said == [False, True, False]  # the first run had nothing to keep; the third read the facts again


def _published_rows(db: Path) -> Counter[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return _rows(con)
    finally:
        con.close()
