"""An incremental run (in place: the published tables updated by the change, not copied) publishes the same
tables as a full run from the same input: cross-reference, golden records, lineage, history, hierarchy,
financial facts, pairs and redirects, compared as multisets of rows without the columns that name the run
(run_id, id_origin, the history's timestamps)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines import runner
from pipelines.sample import generate
from tests.conftest import sample_config

# Columns that name the run or the moment of the run, not the result.
RUN_COLUMNS = {"run_id", "id_origin", "valid_from", "valid_to", "retired_run"}
TABLES = (
    "xref",
    "golden_organization",
    "golden_attribute_lineage",
    "golden_organization_history",
    "golden_hierarchy",
    "golden_financial_fact",
    "golden_id_redirect",
    "organization_record",
    "match_token_frequency",
)


# The load lineage of a record read again by change-data capture differs from a full read's (line numbers of
# the rows read): not the subject here (standardise and extract own it).
LINEAGE_COLUMNS = {"organization_record": {"src_file", "src_line"}}


def _rows(wh: Path, table: str, columns: list[str] | None = None) -> tuple[list[str], Counter[tuple]]:
    con = duckdb.connect(str(wh / "mdm.duckdb"), read_only=True)
    try:
        if columns is None:
            names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]  # table: a constant above
            skip = RUN_COLUMNS | LINEAGE_COLUMNS.get(table, set())
            columns = [c for c in names if c not in skip]
        cols = ", ".join(f'"{c}"' for c in columns)
        return columns, Counter(tuple(map(_hashable, r)) for r in con.execute(f"SELECT {cols} FROM {table}").fetchall())
    finally:
        con.close()


def _hashable(value: object) -> object:
    return tuple(map(_hashable, value)) if isinstance(value, list) else value


def _detail(wh: Path, run_id: str, stage: str) -> dict:
    con = duckdb.connect(str(wh / "mdm.duckdb"), read_only=True)
    try:
        row = con.execute("SELECT detail FROM run_log WHERE run_id = ? AND stage = ?", [run_id, stage]).fetchone()
    finally:
        con.close()
    assert row is not None
    return json.loads(row[0])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A full run; then a CRM change (names edited, a customer added holding a registered LEI, two removed)
    published once incrementally and once by a full run from the same published state."""
    tmp = tmp_path_factory.mktemp("inctables")
    sample = tmp / "sample"
    generate(sample, entities=400, seed=53)
    wh = tmp / "wh"
    runner.run(sample_config(sample, wh, tmp / "mdm.yaml"))
    before = tmp / "wh-before"
    shutil.copytree(wh, before, symlinks=True)
    con = sqlite3.connect(sample / "internal" / "crm.sqlite")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    ids = [r[0] for r in con.execute("SELECT source_id FROM customers ORDER BY source_id")]
    edited, removed = ids[1:12:2], ids[20:22]
    con.executemany(
        "UPDATE customers SET name = name || ' Holdings', updated_at = ? WHERE source_id = ?",
        [(stamp, i) for i in edited],
    )
    lei = duckdb.connect(str(wh / "mdm.duckdb"), read_only=True)
    try:
        row = lei.execute(
            "SELECT id_LEI, name FROM organization_record WHERE source = 'gleif' AND id_LEI IS NOT NULL "
            "ORDER BY rid LIMIT 1"
        ).fetchone()
    finally:
        lei.close()
    assert row is not None
    con.execute(
        "INSERT INTO customers (source_id, name, lei, country, updated_at) VALUES ('CUSTNEW0002', ?, ?, 'GB', ?)",
        (row[1], row[0], stamp),
    )
    for i in removed:
        con.execute(
            "DELETE FROM balances WHERE account_id IN (SELECT account_id FROM accounts WHERE source_id = ?)", (i,)
        )
        con.execute("DELETE FROM accounts WHERE source_id = ?", (i,))
        con.execute("DELETE FROM customers WHERE source_id = ?", (i,))
    con.commit()
    con.close()
    inc = runner.run(sample_config(sample, wh, tmp / "mdm.yaml"))
    full = runner.run(sample_config(sample, before, tmp / "full.yaml", incremental=False))
    return {"wh": wh, "full_wh": before, "inc": inc, "full": full, "edited": edited, "removed": removed}


def test_the_run_was_incremental_in_every_stage(runs: dict) -> None:
    wh, run_id = runs["wh"], runs["inc"].run_id
    assert _detail(wh, run_id, "match")["incremental"] is True
    assert _detail(wh, run_id, "cluster")["incremental"] is True
    survive = _detail(wh, run_id, "survive")
    assert survive["incremental"] is True and 0 < survive["computed"] < survive["carried_over"]
    assert _detail(runs["full_wh"], runs["full"].run_id, "cluster")["incremental"] is False


@pytest.mark.parametrize("table", TABLES)
def test_incremental_tables_equal_the_full_run(runs: dict, table: str) -> None:
    columns, incremental = _rows(runs["wh"], table)
    _, full = _rows(runs["full_wh"], table, columns)
    assert sum(incremental.values()) > 0 or table == "golden_id_redirect"
    assert incremental == full, (table, (incremental - full).most_common(3), (full - incremental).most_common(3))


def test_incremental_pairs_of_the_changed_records_equal_the_full_run(runs: dict) -> None:
    """The pairs touching a new or changed record and their rules. (Pairs between two unchanged records are
    the last run's: a full run also pairs two unchanged records whose blocking keys became neighbours when
    a changed record's key moved away, which an incremental match does not look for.)"""
    changed = {f"crm:{i}" for i in runs["edited"]} | {"crm:CUSTNEW0002"}

    def touching(wh: Path) -> Counter[tuple]:
        _, rows = _rows(wh, "match_pair", ["rid_a", "rid_b", "rule"])
        return Counter({p: n for p, n in rows.items() if p[0] in changed or p[1] in changed})

    incremental = touching(runs["wh"])
    assert len(incremental) >= len(changed)
    assert incremental == touching(runs["full_wh"])


def test_every_row_of_the_cross_reference_carries_this_run(runs: dict) -> None:
    """xref is updated in place: the kept records get this run's id and id_origin 'kept', as a copy did."""
    con = duckdb.connect(str(runs["wh"] / "mdm.duckdb"), read_only=True)
    try:
        runs_of = dict(con.execute("SELECT run_id, count(*) FROM xref GROUP BY 1").fetchall())
        origins = dict(con.execute("SELECT id_origin, count(*) FROM xref GROUP BY 1").fetchall())
        gone = con.execute(
            "SELECT count(*) FROM xref WHERE source = 'crm' AND source_id IN (SELECT unnest(?))", [runs["removed"]]
        ).fetchone()
        orphan = con.execute("SELECT count(*) FROM golden_organization ANTI JOIN xref USING (golden_id)").fetchone()
        lineage_orphan = con.execute(
            "SELECT count(*) FROM golden_attribute_lineage ANTI JOIN golden_organization USING (golden_id)"
        ).fetchone()
    finally:
        con.close()
    assert set(runs_of) == {runs["inc"].run_id}
    assert origins["kept"] > sum(origins.values()) / 2
    assert gone == (0,) and orphan == (0,) and lineage_orphan == (0,)
