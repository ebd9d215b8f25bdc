"""The Parquet exports: each written file holds exactly its table's rows and column types, unchanged tables are
carried over by hard link, and the fingerprint that decides it sees every change of content but not a change
of row order."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines import exports
from pipelines.warehouse import Warehouse

TABLES = ("golden_organization", "balance", "v_golden_organization", "empty_one")


@pytest.fixture
def con(monkeypatch: pytest.MonkeyPatch) -> duckdb.DuckDBPyConnection:
    """A database with a few exported tables of varied types (NULLs, decimals, dates, lists, structs) and a
    view over them; PARQUET_TABLES narrowed to them."""
    monkeypatch.setattr(exports, "PARQUET_TABLES", TABLES)
    c = duckdb.connect()
    c.execute(
        "CREATE TABLE golden_organization AS SELECT range::VARCHAR AS golden_id, 'Acme ' || range AS legal_name, "
        "CASE WHEN range % 7 = 0 THEN NULL ELSE DATE '2020-01-01' + range::INTEGER END AS founded, "
        "[range, range + 1] AS ids, {'lei': 'LEI' || range, 'n': range % 3} AS extra FROM range(30000)"
    )
    c.execute(
        "CREATE TABLE balance AS SELECT (range % 5000)::VARCHAR AS golden_id, (range * 1.25)::DECIMAL(18, 2) "
        "AS amount, range::DOUBLE / 3 AS ratio, range % 2 = 0 AS flag FROM range(50000)"
    )
    c.execute(
        "CREATE VIEW v_golden_organization AS SELECT g.golden_id, g.legal_name, sum(b.amount) AS total "
        "FROM golden_organization AS g LEFT JOIN balance AS b USING (golden_id) GROUP BY ALL"
    )
    c.execute("CREATE TABLE empty_one (a INTEGER, b VARCHAR)")
    return c


def _state(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT table_name, fingerprint, changed, row_count FROM export_state").fetchall()


def _same_content(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    p = {"p": str(path)}
    described = con.execute("SELECT column_name, column_type FROM (DESCRIBE FROM read_parquet($p))", p).fetchall()
    expected = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE FROM {table})").fetchall()  # constant
    assert described == expected, table
    diff = con.execute(
        f"SELECT count(*) FROM ((FROM {table} EXCEPT ALL FROM read_parquet($p)) "  # constants
        f"UNION ALL (FROM read_parquet($p) EXCEPT ALL FROM {table}))",
        p,
    ).fetchall()[0][0]
    n_file = con.execute("SELECT count(*) FROM read_parquet($p)", p).fetchall()[0][0]
    n_table = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]  # constant
    assert (diff, n_file) == (0, n_table), table


def test_every_export_holds_its_table_and_unchanged_ones_are_carried_over(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    wh = Warehouse(tmp_path / "wh")
    exports.record_state(con, "r1")
    out1, carried1 = exports.export(con, wh, "r1", None)
    assert carried1 == []
    for table in TABLES:
        _same_content(con, table, out1 / f"{table}.parquet")
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0] is True

    con.execute("UPDATE balance SET amount = amount + 1 WHERE golden_id = '42'")
    changed = exports.record_state(con, "r2")
    assert changed == {"golden_organization": False, "balance": True, "v_golden_organization": True, "empty_one": False}
    exports.export(con, wh, "r2", "r1")
    out2, carried2 = exports.export(con, wh, "r2", "r1")  # a retried publish writes the same again
    assert sorted(carried2) == ["empty_one", "golden_organization"]
    for table in TABLES:
        _same_content(con, table, out2 / f"{table}.parquet")
        same_file = (out2 / f"{table}.parquet").stat().st_ino == (out1 / f"{table}.parquet").stat().st_ino
        assert same_file == (table in carried2), table


def test_the_fingerprint_sees_every_change_of_content_but_not_of_row_order(con: duckdb.DuckDBPyConnection) -> None:
    def fingerprint() -> str:
        exports.record_state(con, "r")
        return dict((t, fp) for t, fp, _, _ in _state(con))["balance"]

    before = fingerprint()
    assert fingerprint() == before
    con.execute("CREATE OR REPLACE TABLE balance AS FROM balance ORDER BY random()")  # same rows, other order
    assert fingerprint() == before
    # the flags of two rows swapped (range 8: true, range 9: false): every column holds the same values
    con.execute("UPDATE balance SET flag = NOT flag WHERE amount IN (10.00, 11.25)")
    assert con.execute("SELECT count(*) FILTER (flag) FROM balance").fetchall()[0][0] == 25000
    swapped = fingerprint()
    assert swapped != before
    con.execute("UPDATE balance SET ratio = ratio + 1e-9 WHERE amount = 10.00")  # one value, slightly
    assert fingerprint() not in {before, swapped}
    con.execute("CREATE OR REPLACE TABLE balance AS FROM balance")
    last = fingerprint()
    con.execute("ALTER TABLE balance RENAME COLUMN flag TO flag2")  # a column renamed, same values
    assert fingerprint() != last
    con.execute("ALTER TABLE balance RENAME COLUMN flag2 TO flag")
    assert fingerprint() == last
    con.execute("ALTER TABLE balance ALTER ratio TYPE FLOAT")  # a type changed
    assert fingerprint() != last


def test_a_failed_write_fails_the_export(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    exports.record_state(con, "r1")
    con.execute("DROP VIEW v_golden_organization")
    with pytest.raises(duckdb.Error):
        exports.export(con, Warehouse(tmp_path / "wh"), "r1", None)
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0] is True


def test_a_table_extract_kept_keeps_its_fingerprint_unread_and_any_other_is_fingerprinted(
    con: duckdb.DuckDBPyConnection,
) -> None:
    exports.record_state(con, "r1")
    first = {t: fp for t, fp, _, _ in _state(con)}
    # The balance is replaced by a table the fingerprint would tell apart; only an unread table keeps its print.
    con.execute("CREATE OR REPLACE TABLE balance AS SELECT * REPLACE (amount + 1 AS amount) FROM balance")

    con.execute("CREATE TABLE run_reloaded (table_name VARCHAR, source VARCHAR)")  # extract kept every table
    con.execute("INSERT INTO run_reloaded VALUES ('golden_organization', 'crm'), ('empty_one', 'crm')")
    changed = exports.record_state(con, "r2")
    state = {t: (fp, n) for t, fp, _, n in _state(con)}
    assert changed["balance"] is False and state["balance"] == (first["balance"], 50000)
    # a view over it is not read either: its print is derived from its tables', the kept one's included
    assert changed["v_golden_organization"] is False and state["v_golden_organization"][0].startswith("view:")

    for listed in ("balance", "raw_balance"):  # named by run_reloaded: loaded again, so fingerprinted
        con.execute("DELETE FROM run_reloaded")
        con.execute("INSERT INTO run_reloaded VALUES ($t, 'crm')", {"t": listed})
        con.execute("DELETE FROM export_state")
        exports.record_state(con, "r1")  # the state of a run that published the first balance
        con.execute("UPDATE export_state SET fingerprint = $f WHERE table_name = 'balance'", {"f": first["balance"]})
        assert exports.record_state(con, "r3")["balance"] is True
    con.execute("DROP TABLE run_reloaded")  # no run_reloaded (a database from before it): fingerprinted
    con.execute("UPDATE export_state SET fingerprint = $f WHERE table_name = 'balance'", {"f": first["balance"]})
    assert exports.record_state(con, "r4")["balance"] is True


def test_a_table_holding_rows_of_this_run_is_changed_without_a_fingerprint(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """golden_organization gets a run_id column: rows of run r2 mark it changed (state 'run:r2', not read for
    a fingerprint). In r3, with no row of r3, it is fingerprinted and compared with the file r2 published: the
    same rows, so it keeps 'run:r2' and its file is carried over, in r4 too. A row deleted in r5 (no row
    stamped) changes it. Without the last snapshot's file to compare with, a 'run:' state is changed once.
    Its export always holds its rows."""
    wh = Warehouse(tmp_path / "wh")
    con.execute("ALTER TABLE golden_organization ADD COLUMN run_id VARCHAR DEFAULT 'r1'")
    exports.record_state(con, "r1")
    exports.export(con, wh, "r1", None)
    con.execute("UPDATE golden_organization SET legal_name = 'Acme plc', run_id = 'r2' WHERE golden_id = '7'")
    read: list[str] = []
    real = exports.query_sql

    def spy(c: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> duckdb.DuckDBPyConnection:
        if name == "publish/fingerprint":
            read.append(str((params or {})["table"]))
        return real(c, name, params)

    monkeypatch.setattr(exports, "query_sql", spy)
    changed = exports.record_state(con, "r2")
    monkeypatch.setattr(exports, "query_sql", real)
    state = {t: (fp, n) for t, fp, _, n in _state(con)}
    assert changed["golden_organization"] is True and state["golden_organization"] == ("run:r2", 30000)
    assert "golden_organization" not in read and "balance" in read
    out2, carried2 = exports.export(con, wh, "r2", "r1")
    assert "golden_organization" not in carried2
    _same_content(con, "golden_organization", out2 / "golden_organization.parquet")
    for run, base in (("r3", "r2"), ("r4", "r3")):
        assert exports.record_state(con, run, exports.export_dir(wh, base))["golden_organization"] is False
        assert {t: (fp, n) for t, fp, _, n in _state(con)}["golden_organization"] == ("run:r2", 30000)
        out, carried = exports.export(con, wh, run, base)
        assert "golden_organization" in carried
        linked = (out / "golden_organization.parquet").stat().st_ino
        assert linked == (out2 / "golden_organization.parquet").stat().st_ino
    con.execute("DELETE FROM golden_organization WHERE golden_id = '8'")  # rows of earlier runs only
    assert exports.record_state(con, "r5", exports.export_dir(wh, "r4"))["golden_organization"] is True
    fingerprint, rows = {t: (fp, n) for t, fp, _, n in _state(con)}["golden_organization"]
    assert rows == 29999 and not fingerprint.startswith("run:")
    out5, carried5 = exports.export(con, wh, "r5", "r4")
    assert "golden_organization" not in carried5
    _same_content(con, "golden_organization", out5 / "golden_organization.parquet")
    assert exports.record_state(con, "r6", exports.export_dir(wh, "r5"))["golden_organization"] is False

    con.execute("UPDATE golden_organization SET run_id = 'r7' WHERE golden_id = '9'")
    exports.record_state(con, "r7", exports.export_dir(wh, "r6"))
    exports.export(con, wh, "r7", "r6")
    damaged = exports.export_dir(wh, "r7") / "golden_organization.parquet"
    damaged.write_bytes(damaged.read_bytes()[:1000])  # a damaged file: written again, the run goes on
    assert exports.record_state(con, "r8", exports.export_dir(wh, "r7"))["golden_organization"] is True
    _, carried8 = exports.export(con, wh, "r8", "r7")
    assert "golden_organization" not in carried8
    _same_content(con, "golden_organization", exports.export_dir(wh, "r8") / "golden_organization.parquet")
    con.execute("UPDATE export_state SET fingerprint = 'run:r7' WHERE table_name = 'golden_organization'")
    damaged.unlink()  # no file to compare with
    assert exports.record_state(con, "r8", exports.export_dir(wh, "r7"))["golden_organization"] is True
    con.execute("UPDATE export_state SET fingerprint = 'run:r7' WHERE table_name = 'golden_organization'")
    assert exports.record_state(con, "r8", None)["golden_organization"] is True  # no snapshot: changed


def test_a_view_is_never_computed_for_a_fingerprint(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v_golden_organization reads golden_organization and balance; v_top reads it (a view over a view) and a
    reference table that is not exported. When balance changes, both views are marked changed unread, and their
    row counts are those the COPY wrote. When nothing they read changed, their fingerprints are derived from
    their SQL and their tables' (the reference table is fingerprinted, the exported ones are already): equal
    to the last run's, so the files are carried over. A change of the reference table changes v_top only."""
    tables = (*TABLES, "v_top")
    monkeypatch.setattr(exports, "PARQUET_TABLES", tables)
    con.execute("CREATE TABLE ref AS SELECT 1000 AS floor")
    con.execute(
        "CREATE VIEW v_top AS WITH big AS (FROM v_golden_organization WHERE total > (SELECT floor FROM ref)) "
        "SELECT * FROM big"
    )
    reads = exports._view_reads(con, "v_top")
    assert reads is not None and reads.tables == {"golden_organization", "balance", "ref"} and len(reads.sql) == 2
    assert exports._view_reads(con, "balance") is None
    wh = Warehouse(tmp_path / "wh")
    read: list[str] = []
    real = exports.query_sql

    def spy(c: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> duckdb.DuckDBPyConnection:
        if name in ("publish/fingerprint", "publish/export_by_run"):
            read.append(str((params or {})["table"]))
        return real(c, name, params)

    monkeypatch.setattr(exports, "query_sql", spy)

    def state() -> dict[str, tuple[str, int]]:
        return {t: (fp, n) for t, fp, _, n in _state(con)}

    def views_counted(out: Path) -> None:
        for view in ("v_top", "v_golden_organization"):
            _same_content(con, view, out / f"{view}.parquet")
            assert state()[view][1] == con.execute(f"SELECT count(*) FROM {view}").fetchall()[0][0] > 0  # constant

    exports.record_state(con, "r1")
    assert read == ["golden_organization", "balance", "empty_one", "ref"]  # no view read; ref for v_top's print
    views_counted(exports.export(con, wh, "r1", None)[0])

    read.clear()
    con.execute("UPDATE balance SET amount = amount + 1 WHERE golden_id = '42'")
    changed = exports.record_state(con, "r2")
    assert changed["v_golden_organization"] and changed["v_top"] and not changed["golden_organization"]
    assert read == ["golden_organization", "balance", "empty_one", "ref"]  # ref: for v_top's derived print
    assert state()["v_top"][0].startswith("view:") and state()["v_top"][1] == exports.UNCOUNTED
    out2, carried2 = exports.export(con, wh, "r2", "r1")
    assert "v_top" not in carried2 and "v_golden_organization" not in carried2
    views_counted(out2)

    read.clear()
    assert not any(exports.record_state(con, "r3").values())  # nothing changed: the same derived prints
    assert "v_top" not in read and "v_golden_organization" not in read
    assert sorted(exports.export(con, wh, "r3", "r2")[1]) == sorted(tables)
    views_counted(wh.root / "snapshots" / "r3" / "parquet")

    # A table stamped with the run (golden_organization gets a run_id column): the views take 'run:r4' in their
    # print. In r5 the table, fingerprinted and compared with the file r4 published, keeps 'run:r4', so the
    # views' prints are the same and nothing is written again.
    con.execute("ALTER TABLE golden_organization ADD COLUMN run_id VARCHAR DEFAULT 'r4'")
    assert exports.record_state(con, "r4")["v_top"] is True
    exports.export(con, wh, "r4", "r3")
    read.clear()
    assert not any(exports.record_state(con, "r5", exports.export_dir(wh, "r4")).values())
    assert "v_top" not in read and "v_golden_organization" not in read
    assert sorted(exports.export(con, wh, "r5", "r4")[1]) == sorted(tables)
    assert not any(exports.record_state(con, "r6", exports.export_dir(wh, "r5")).values())
    exports.export(con, wh, "r6", "r5")
    views_counted(wh.root / "snapshots" / "r6" / "parquet")

    con.execute("UPDATE ref SET floor = 2000")  # not exported: its change reaches v_top through the derived print
    changed = exports.record_state(con, "r7", exports.export_dir(wh, "r6"))
    assert [t for t, c in changed.items() if c] == ["v_top"]
    views_counted(exports.export(con, wh, "r7", "r6")[0])
