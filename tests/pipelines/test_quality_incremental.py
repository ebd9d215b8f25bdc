"""An incremental run's quality results equal a full run's from the same input, while the metrics of a
change-captured load are counted over the rows that changed only (its base load's tally carried)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mdm import quality as dq
from pipelines import quality_sql, runner
from pipelines.quality_carry import TALLY_FILE, read_tally, write_tally
from pipelines.sample import generate
from tests.conftest import query_warehouse, sample_config

# Table -> (columns compared, order). A change-captured row's file and line are those of the changes query.
_TABLES = {
    "quality_metrics": ("* EXCLUDE (run_id)", "source, attribute"),
    "identifier_quality": ("* EXCLUDE (run_id)", 'source, attribute, "class"'),
    "quarantine": ("* EXCLUDE (run_id, file, line)", "source, source_id, rule"),
    "validation_result": ("* EXCLUDE (run_id)", "suite, batch"),
}


def _rows(wh: Path, table: str, run_id: str) -> list[tuple]:
    columns, order = _TABLES[table]  # constants of this test
    return query_warehouse(wh, f"SELECT {columns} FROM {table} WHERE run_id = ? ORDER BY {order}", [run_id])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("quality-incremental")
    sample = tmp / "sample"
    generate(sample, entities=300, seed=43)
    crm = sqlite3.connect(sample / "internal" / "crm.sqlite")
    ids = [r[0] for r in crm.execute("SELECT source_id FROM customers ORDER BY source_id LIMIT 6")]
    crm.execute("UPDATE customers SET opened_on = 'someday' WHERE source_id IN (?, ?)", ids[:2])  # quarantined
    crm.commit()
    wh = tmp / "wh"
    first = runner.run(sample_config(sample, wh, tmp / "mdm.yaml"))
    before = tmp / "wh-before"
    shutil.copytree(wh, before, symlinks=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    edits = [
        ("UPDATE customers SET opened_on = '2020-01-01', updated_at = ? WHERE source_id = ?", ids[0]),  # fixed
        ("UPDATE customers SET opened_on = 'later', updated_at = ? WHERE source_id = ?", ids[2]),  # broken
        ("UPDATE customers SET lei = '529900T8BM49AURSDO56', updated_at = ? WHERE source_id = ?", ids[3]),  # bad check
        (
            "UPDATE customers SET name = name || ' Trading', postal_code = NULL, updated_at = ? WHERE source_id = ?",
            ids[4],
        ),
    ]
    for sql, key in edits:
        crm.execute(sql, (stamp, key))
    crm.execute(
        "INSERT INTO customers (source_id, name, country, city, lei, updated_at) "
        "VALUES ('CUSTNEW0001', 'Brand New Widgets Ltd', 'GB', 'York', '5493001KJTIIGC8Y1R12', ?)",
        (stamp,),
    )
    crm.execute("DELETE FROM accounts WHERE source_id = ?", (ids[5],))
    crm.execute("DELETE FROM customers WHERE source_id = ?", (ids[5],))
    crm.commit()
    crm.close()
    names: Counter[str] = Counter()
    rule = dq.RULES["name"]
    assert rule is not None

    def counted(v: str, row: object) -> bool | None:
        names[v] += 1
        return rule(v, row)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(dq.RULES, "name", counted)
        second = runner.run(sample_config(sample, wh, tmp / "mdm.yaml"))
    full = runner.run(sample_config(sample, before, tmp / "full.yaml", incremental=False))
    crm_rows = query_warehouse(wh, "SELECT count(*) FROM organization_record WHERE source = 'crm'")[0][0]
    return {
        "wh": wh,
        "full_wh": before,
        "first": first,
        "second": second,
        "full": full,
        "names": names,
        "crm_rows": crm_rows,
    }


@pytest.mark.parametrize("table", sorted(_TABLES))
def test_incremental_quality_results_equal_the_full_run(runs: dict, table: str) -> None:
    got = _rows(runs["wh"], table, runs["second"].run_id)
    want = _rows(runs["full_wh"], table, runs["full"].run_id)
    assert got and got == want


def test_the_change_captured_load_judged_only_the_changed_rows(runs: dict) -> None:
    """The CRM was read by change-data capture and its metrics were carried from the first load's tally:
    the name rule judged the names of the rows that left and came, not the source's hundreds of names."""
    detail = json.loads(
        query_warehouse(
            runs["wh"], "SELECT detail FROM run_log WHERE run_id = ? AND stage = 'extract'", [runs["second"].run_id]
        )[0][0]
    )
    assert "crm" in detail["changes"]
    judged = sum(runs["names"].values())
    assert 0 < judged <= 2 * 10 < runs["crm_rows"]
    assert "Brand New Widgets Ltd" in runs["names"]


def test_the_tally_is_kept_with_every_landing(runs: dict) -> None:
    for run in ("first", "second"):
        kept = json.loads((runs["wh"] / "raw" / "crm" / f"load={runs[run].run_id}" / TALLY_FILE).read_text())
        assert kept["source"] == "crm" and kept["tally"]["rows"] > 0
    # A reused landing keeps its base load's tally.
    base = runs["wh"] / "raw" / "gleif" / f"load={runs['first'].run_id}" / TALLY_FILE
    reused = runs["wh"] / "raw" / "gleif" / f"load={runs['second'].run_id}" / TALLY_FILE
    assert json.loads(base.read_text()) == json.loads(reused.read_text())


def test_the_tally_adds_up_to_the_rows(runs: dict) -> None:
    """The carried tally's counts are those of a recount of the published CRM metrics."""
    kept = json.loads((runs["wh"] / "raw" / "crm" / f"load={runs['second'].run_id}" / TALLY_FILE).read_text())
    tally = kept["tally"]
    metrics = {
        a: (n, c)
        for a, n, c in query_warehouse(
            runs["wh"],
            "SELECT attribute, rows, completeness FROM quality_metrics WHERE run_id = ? AND source = 'crm'",
            [runs["second"].run_id],
        )
    }
    for attr, (n, completeness) in metrics.items():
        assert tally["rows"] == n
        assert tally["present"][attr] == round((completeness or 0) * n)


def test_combine_adds_and_takes_away_counts() -> None:
    a = {"rows": 5, "present": {"name": 4}, "classes": {"lei": {"lei": 3, "missing": 2}}}
    b = {"rows": 2, "present": {"name": 1}, "classes": {"lei": {"missing": 2}}}
    assert quality_sql.combine(a, b, -1) == {
        "rows": 3,
        "present": {"name": 3},
        "classes": {"lei": {"lei": 3, "missing": 0}},
    }
    assert quality_sql.combine(quality_sql.combine(a, b, -1), b) == a


def test_a_tally_is_read_only_under_its_key(tmp_path: Path) -> None:
    """Another version, rules' code or column set (another key), another source or a damaged file: no tally,
    so the metrics are counted over every row."""
    tally = {"rows": 3, "present": {"name": 3}}
    write_tally(tmp_path, "crm", "k1", tally)
    assert read_tally(tmp_path, "crm", "k1") == tally
    assert read_tally(tmp_path, "crm", "k2") is None
    assert read_tally(tmp_path, "gleif", "k1") is None
    (tmp_path / TALLY_FILE).write_text("{not json", encoding="utf-8")
    assert read_tally(tmp_path, "crm", "k1") is None
    assert read_tally(tmp_path / "missing", "crm", "k1") is None
