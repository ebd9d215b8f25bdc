"""An incremental run after a small change publishes what a full computation would: golden records equal to
survivorship over every published record, every Parquet export equal to its table (the unchanged ones carried
over from the last snapshot by hard link), every documented comment in place, one current history version
per golden record."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from mdm import survivorship
from pipelines import runner
from pipelines.comments import wanted_comments
from pipelines.config import load_config
from pipelines.sample import generate
from pipelines.warehouse import PARQUET_TABLES
from tests.conftest import sample_config


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, runner.RunSummary, runner.RunSummary]:
    """A full run, 2% of the CRM customers changed, then an incremental run."""
    root = tmp_path_factory.mktemp("pubinc")
    sample = root / "sample"
    generate(sample, entities=300, seed=29)
    cfg = sample_config(sample, root / "wh", root / "mdm.yaml")
    full = runner.run(cfg)
    con = sqlite3.connect(sample / "internal" / "crm.sqlite")
    try:
        ids = [r[0] for r in con.execute("SELECT source_id FROM customers ORDER BY source_id")][::50]
        con.executemany(
            "UPDATE customers SET name = name || ' Trading', city = 'Leeds', updated_at = '2026-11-30 07:00:00' "
            "WHERE source_id = ?",
            [(i,) for i in ids],
        )
        con.commit()
    finally:
        con.close()
    inc = runner.run(cfg)
    return cfg, full, inc


def _db(cfg: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(load_config(cfg).warehouse / "mdm.duckdb"), read_only=True)


def _rows_differing(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> int:
    """Rows of ``table`` not in the Parquet file ``path`` and rows of the file not in the table (as multisets)."""
    return int(
        con.execute(
            f"SELECT count(*) FROM ((FROM {table} EXCEPT ALL FROM read_parquet($p)) "  # constants
            f"UNION ALL (FROM read_parquet($p) EXCEPT ALL FROM {table}))",
            {"p": str(path)},
        ).fetchall()[0][0]
    )


def _stage(summary: runner.RunSummary, name: str) -> dict:
    return next(s for s in summary.stages if s.stage == name).detail


def test_incremental_golden_records_equal_survivorship_over_every_published_record(runs) -> None:
    cfg, _, inc = runs
    detail = _stage(inc, "survive")
    assert detail["incremental"] and 0 < detail["computed"] < detail["computed"] + detail["carried_over"]
    config = load_config(cfg)
    con = _db(cfg)
    try:
        records = con.execute("SELECT * FROM organization_record").df()
        published = con.execute("SELECT * EXCLUDE (run_id) FROM golden_organization ORDER BY golden_id").df()
        lineage = con.execute(
            "SELECT * EXCLUDE (run_id) FROM golden_attribute_lineage ORDER BY golden_id, attribute"
        ).df()
    finally:
        con.close()
    prio = {s.name: config.priority(s.name) for s in config.sources}
    golden, expected_lineage = survivorship.survive(records, prio)
    pd.testing.assert_frame_equal(published.reset_index(drop=True), golden.astype(published.dtypes.to_dict()))
    pd.testing.assert_frame_equal(
        lineage.reset_index(drop=True), expected_lineage.astype(lineage.dtypes.to_dict()), check_dtype=False
    )


def test_every_export_holds_its_table_and_unchanged_ones_are_carried_over(runs) -> None:
    cfg, full, inc = runs
    wh = load_config(cfg).warehouse
    now = wh / "snapshots" / inc.run_id / "parquet"
    before = wh / "snapshots" / full.run_id / "parquet"
    con = _db(cfg)
    try:
        for table in PARQUET_TABLES:
            assert _rows_differing(con, table, now / f"{table}.parquet") == 0, table
        state = dict(con.execute("SELECT table_name, changed FROM export_state").fetchall())
    finally:
        con.close()
    assert set(state) == set(PARQUET_TABLES)
    carried = {t for t, changed in state.items() if not changed}
    assert carried and {"golden_organization", "organization_record", "customer_360"}.isdisjoint(carried)
    for table in PARQUET_TABLES:  # carried over: the very file of the last snapshot; written: a new one
        same = (now / f"{table}.parquet").stat().st_ino == (before / f"{table}.parquet").stat().st_ino
        assert same == (table in carried), table


def test_a_table_is_written_again_exactly_when_its_rows_changed(runs) -> None:
    """Each exported table (not a view: a view over a changed table is written again even when the columns it
    reads did not change) is carried over when it holds the rows of the last snapshot's file, written again
    when not, by a comparison of every row. golden_financial_fact and golden_hierarchy, stamped by the full run
    (a run id in every row) and unchanged by the incremental one, are carried over."""
    cfg, full, _ = runs
    wh = load_config(cfg).warehouse
    before = wh / "snapshots" / full.run_id / "parquet"
    con = _db(cfg)
    try:
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        state = dict(con.execute("SELECT table_name, changed FROM export_state").fetchall())
        same = {}
        for table in sorted(set(PARQUET_TABLES) - views):
            same[table] = _rows_differing(con, table, before / f"{table}.parquet") == 0
        stamped = con.execute(
            "SELECT (SELECT bool_and(run_id = $full) FROM golden_financial_fact), "
            "(SELECT bool_and(run_id = $full) FROM golden_hierarchy)",
            {"full": full.run_id},
        ).fetchall()[0]
    finally:
        con.close()
    assert {t: not state[t] for t in same} == same
    assert stamped == (True, True) and same["golden_financial_fact"] and same["golden_hierarchy"]
    assert not same["organization_record"]


def test_every_documented_comment_is_in_place_after_an_incremental_publish(runs) -> None:
    cfg, _, _ = runs
    con = _db(cfg)
    try:
        assert wanted_comments(con) == []
        comment = con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'customer_360' AND column_name = 'golden_id'"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert comment and "golden record" in comment


def test_history_keeps_one_current_version_per_golden_record(runs) -> None:
    cfg, _, inc = runs
    con = _db(cfg)
    try:
        current, golden, distinct, new_versions = con.execute(
            "SELECT (SELECT count(*) FROM golden_organization_history WHERE valid_to IS NULL), "
            "(SELECT count(*) FROM golden_organization), "
            "(SELECT count(DISTINCT golden_id) FROM golden_organization_history WHERE valid_to IS NULL), "
            "(SELECT count(*) FROM golden_organization_history WHERE run_id = $r)",
            {"r": inc.run_id},
        ).fetchall()[0]
    finally:
        con.close()
    assert current == golden == distinct
    assert 0 < new_versions < golden
