"""The output suites judge the rows checked (an incremental run's rows computed again) by the columns they
read, the column set by the whole table, and the Data Docs sample holds the checked rows' whole rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.quality_docs import DocsJob
from pipelines.quality_outputs import check_outputs
from pipelines.suites import SUITES_DIR


def _columns(suite: str) -> list[str]:
    spec = json.loads((SUITES_DIR / f"{suite}.json").read_text(encoding="utf-8"))
    (cols,) = [
        e["kwargs"]["column_set"] for e in spec["expectations"] if e["type"] == "expect_table_columns_to_match_set"
    ]
    return list(cols)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    rec, gold = _columns("organization_record"), _columns("golden_organization")
    c.execute(
        "CREATE TABLE new_organization_record AS SELECT "
        + ", ".join(f'NULL::VARCHAR AS "{x}"' for x in rec if x not in ("rid", "golden_id", "country_iso"))
        + ", 'r' || i AS rid, 'g' || (i % 50) AS golden_id, CASE WHEN i IN (7, 3007) THEN 'XX' ELSE 'GB' END AS country_iso,"
        " ['a'] AS aliases FROM range(5000) t(i)"
    )
    c.execute(
        "CREATE TABLE new_golden_organization AS SELECT "
        + ", ".join(
            f'NULL::VARCHAR AS "{x}"' for x in gold if x not in ("golden_id", "legal_name", "record_count", "country")
        )
        + ", 'g' || i AS golden_id, 'Name ' || i AS legal_name, 100 AS record_count, 'GB' AS country FROM range(50) t(i)"
    )
    c.execute("CREATE TABLE run_changed AS SELECT 'r' || i AS rid FROM range(3000, 3010) t(i)")
    c.execute("CREATE TABLE affected AS SELECT 'g1' AS golden_id")
    yield c
    c.close()


def test_an_incremental_check_judges_the_rows_computed_again(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    job = DocsJob(tmp_path, "run", in_worker=False)
    failures = check_outputs(con, "run", job, incremental=True)
    # The checked rows: g1's 100 records and the 10 changed ones (3001 is both), in table order. Record 3007
    # was computed again (run_changed) and fails; record 7 (golden id g7, not affected) is not checked.
    expected = sorted({i for i in range(5000) if i % 50 == 1} | set(range(3000, 3010)))
    row = expected.index(3007)
    assert failures == [f"organization_record: rule country_iso_alpha2 failed on row {row} (value 'XX')"]
    record, golden = job._samples
    # The sample holds the whole rows but the list column.
    assert record.rows == len(expected) == len(record.frame)
    assert list(record.frame["rid"]) == [f"r{i}" for i in expected]
    assert "aliases" not in record.frame and set(_columns("organization_record")) <= set(record.frame.columns)
    assert golden.rows == 1 and list(golden.frame["golden_id"]) == ["g1"]


def test_a_full_check_judges_every_row_and_the_column_set_by_the_table(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("ALTER TABLE new_golden_organization DROP COLUMN lei")
    job = DocsJob(tmp_path, "run", in_worker=False)
    failures = check_outputs(con, "run", job, incremental=False)
    assert failures[:2] == [
        "organization_record: rule country_iso_alpha2 failed on row 7 (value 'XX')",
        "organization_record: rule country_iso_alpha2 failed on row 3007 (value 'XX')",
    ]
    assert len(failures) == 3 and "expect_table_columns_to_match_set" in failures[2] and "'lei'" in failures[2]
    assert [s.rows for s in job._samples] == [5000, 50]
