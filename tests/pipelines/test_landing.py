"""Landing of a database source by change-data capture (pipelines.landing): the rows read again because the
changes query includes its watermark keep their kept row as it was, and a table without a real change carries
its last landing over by hard link."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.engine import Engine

from pipelines import landing_merge
from pipelines.adapters.sql import _Reader
from pipelines.config import Config
from pipelines.landing import LANDED, LandingJob, land_source

STAMP = "2024-05-01 12:00:00"  # every row's last update: all of them are at the watermark
LATER = "2024-06-01 08:00:00"


def _crm(path: Path) -> None:
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE customers (source_id TEXT, name TEXT, city TEXT, phone TEXT, updated_at TEXT);
        CREATE TABLE accounts (account_id TEXT, source_id TEXT, product TEXT, updated_at TEXT);
        CREATE TABLE balances (account_id TEXT, month TEXT, balance REAL, txn_count INTEGER, updated_at TEXT);
        """
    )
    con.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
        [
            ("C1", "Alpha Ltd", "London", "+44 20 7946 0000", "2024-01-01 00:00:00"),
            ("C2", "Beta GmbH", "Berlin", None, STAMP),
            ("C3", "Gamma SA", None, "+33 1 23 45 67 89", STAMP),
        ],
    )
    con.executemany(
        "INSERT INTO accounts VALUES (?, ?, ?, ?)",
        [("A1", "C1", "CURRENT", STAMP), ("A2", "C2", "LOAN", STAMP), ("A3", "C3", "CURRENT", STAMP)],
    )
    con.executemany(
        "INSERT INTO balances VALUES (?, ?, ?, ?, ?)",
        [(f"A{a}", f"2024-0{m}-28", a * 100.5 + m, m, STAMP) for a in (1, 2, 3) for m in (1, 2, 3)],
    )
    con.commit()
    con.close()


@pytest.fixture
def crm(tmp_path: Path) -> tuple[Config, Path]:
    db = tmp_path / "crm.sqlite"
    _crm(db)
    config = Config.model_validate(
        {
            "warehouse": str(tmp_path / "wh"),
            "sources": [
                {
                    "name": "crm",
                    "format": "sql",
                    "url": f"sqlite:///{db}",
                    # Three rows a batch: every table lands in several parts.
                    "chunk_size": 3,
                    "queries": {
                        "customers": "SELECT source_id, name, city, phone, updated_at FROM customers",
                        "accounts": "SELECT account_id, source_id, product, updated_at FROM accounts",
                        "balances": "SELECT account_id, month, balance, txn_count, updated_at FROM balances",
                    },
                    "changes": {"customers": "updated_at", "accounts": "updated_at", "balances": "updated_at"},
                }
            ],
        }
    )
    (tmp_path / "wh").mkdir(mode=0o700)
    return config, db


def _land(config: Config, tmp: Path, run_id: str, base: str | None = None, since: dict | None = None) -> dict:
    """Land the CRM as run ``run_id`` and publish the landing as the warehouse does (raw/crm/load=<run>)."""
    staging = tmp / f"staging-{run_id}"
    mode = "changes" if base else "read"
    land_source(LandingJob(config, "crm", mode, base, since or {}, staging, config.warehouse, run_id))
    dest = config.warehouse / "raw" / "crm" / f"load={run_id}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staging / "raw" / "crm"), str(dest))
    return json.loads((dest / LANDED).read_text(encoding="utf-8"))


def _rows(config: Config, run_id: str, table: str) -> list[dict]:
    parts = sorted((config.warehouse / "raw" / "crm" / f"load={run_id}" / table).glob("*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts]).to_pylist() if parts else []


def _inodes(config: Config, run_id: str, table: str) -> set[int]:
    return {p.stat().st_ino for p in (config.warehouse / "raw" / "crm" / f"load={run_id}" / table).glob("*.parquet")}


def test_rows_read_again_unchanged_keep_the_kept_row(crm: tuple[Config, Path], tmp_path: Path) -> None:
    config, db = crm
    first = _land(config, tmp_path, "r1")
    assert json.loads(first["watermarks"]["customers"])["value"] == STAMP
    con = sqlite3.connect(db)
    con.execute("UPDATE customers SET name = 'Beta Holding GmbH', updated_at = ? WHERE source_id = 'C2'", (LATER,))
    con.commit()
    con.close()
    second = _land(config, tmp_path, "r2", "r1", first["watermarks"])
    changes = second["changes"]
    # C2 and C3 are read again (C3 stamped at the watermark), and every account and balance.
    assert changes["changed_rows"] == 2
    orgs = {r["source_id"]: r for r in _rows(config, "r2", "organization")}
    before = {r["source_id"]: r for r in _rows(config, "r1", "organization")}
    assert set(orgs) == {"C1", "C2", "C3"} and second["rows"] == 3
    # C3 did not change: its row is the kept one, provenance and (encrypted) phone included.
    assert orgs["C3"] == before["C3"] and orgs["C1"] == before["C1"]
    assert orgs["C3"]["phone"].startswith("enc:")
    assert orgs["C2"]["name"] == "Beta Holding GmbH" and "?changed_since=" in orgs["C2"]["src_file"]
    assert changes["unchanged_rows"] == 1 + 3 + 9
    # Only the part holding C2 is checked again by validation.
    (part,) = changes["files"]
    assert [
        r["source_id"] for r in pq.read_table(part.replace("staging-r2/raw/crm", "wh/raw/crm/load=r2")).to_pylist()
    ] == ["C2"]
    # Accounts and balances did not change: the last landing's parts are carried over by hard link.
    for table in ("account", "balance"):
        assert _rows(config, "r2", table) == _rows(config, "r1", table)
        assert _inodes(config, "r2", table) == _inodes(config, "r1", table)
    assert changes["linked_parts"] >= 1 + 3  # accounts in one part, balances in three
    assert not (config.warehouse / "raw" / "crm" / "load=r2" / "_keys").exists()


def test_a_deleted_or_changed_row_rewrites_only_its_part(crm: tuple[Config, Path], tmp_path: Path) -> None:
    config, db = crm
    first = _land(config, tmp_path, "r1")
    con = sqlite3.connect(db)
    con.execute("DELETE FROM balances WHERE account_id = 'A1' AND month = '2024-02-28'")
    con.execute(
        "UPDATE balances SET balance = 0, updated_at = ? WHERE account_id = 'A3' AND month = '2024-03-28'", (LATER,)
    )
    con.commit()
    con.close()
    second = _land(config, tmp_path, "r2", "r1", first["watermarks"])
    old = _rows(config, "r1", "balance")
    new = _rows(config, "r2", "balance")
    key = [(r["account_id"], r["month"]) for r in new]
    assert len(key) == len(set(key)) == 8 and ("A1", "2024-02") not in key
    by_key = {(r["account_id"], r["month"]): r for r in new}
    assert by_key[("A3", "2024-03")]["balance"] == 0 and "?changed_since=" in by_key[("A3", "2024-03")]["src_file"]
    # Every other row is the one of the last landing, provenance included.
    assert [r for r in new if r["src_file"].endswith("#balances")] == [
        r for r in old if (r["account_id"], r["month"]) not in {("A1", "2024-02"), ("A3", "2024-03")}
    ]
    # Balances landed in three parts of three rows (one per account): the one of A2 is carried over as it was.
    assert len(_inodes(config, "r2", "balance") & _inodes(config, "r1", "balance")) == 1
    assert second["changes"]["unchanged_rows"] == 2 + 3 + 7
    assert _rows(config, "r2", "account") == _rows(config, "r1", "account")


def test_a_changed_row_replaces_every_old_row_of_its_key(crm: tuple[Config, Path], tmp_path: Path) -> None:
    """Two rows of one key are never taken as unchanged: the rows read again replace both, as before."""
    config, db = crm
    con = sqlite3.connect(db)
    con.execute("INSERT INTO customers VALUES ('C3', 'Gamma SA', NULL, '+33 1 23 45 67 89', ?)", (STAMP,))
    con.commit()
    con.close()
    first = _land(config, tmp_path, "r1")
    second = _land(config, tmp_path, "r2", "r1", first["watermarks"])
    orgs = _rows(config, "r2", "organization")
    c3 = [r for r in orgs if r["source_id"] == "C3"]
    assert len(c3) == 2 and all("?changed_since=" in r["src_file"] for r in c3)
    assert second["changes"]["unchanged_rows"] == 1 + 3 + 9  # C2, accounts, balances
    assert os.path.exists(config.warehouse / "raw" / "crm" / "load=r2" / LANDED)


# --- deletions seen by a count of distinct keys (pipelines.adapters.sql_deletions) ---------------------------


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement sent to a database through SQLAlchemy while the test runs."""
    seen: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", spy)


def _keys_scans(seen: list[str]) -> list[str]:
    """The statements reading the keys of all rows (the count statement reads only ``count(*)``...)."""
    return [s for s in seen if s.startswith("SELECT cdc_q.")]


def _land_by_keys(config: Config, tmp: Path, run_id: str, base: str, since: dict) -> dict:
    """:func:`_land` as before the count: the adapter always reads the keys of all rows."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_Reader, "nothing_deleted", lambda *a, **k: False)
        return _land(config, tmp, run_id, base, since)


def _same_landing(config: Config, a: str, b: str) -> None:
    """Two landings of one source state hold the same rows in the same parts, in the same order (the extract
    stage reads them sorted by name; the numbers of the parts read again differ, the keys took some)."""
    for table in ("organization", "account", "balance"):
        folder_a, folder_b = (config.warehouse / "raw" / "crm" / f"load={r}" / table for r in (a, b))
        parts_a, parts_b = (sorted(f.glob("*.parquet")) for f in (folder_a, folder_b))
        assert [p.name.split("-")[0] for p in parts_a] == [p.name.split("-")[0] for p in parts_b]
        assert [pq.read_table(p).to_pylist() for p in parts_a] == [pq.read_table(p).to_pylist() for p in parts_b]
        assert _rows(config, a, table) == _rows(config, b, table)
    la, lb = (json.loads((config.warehouse / "raw" / "crm" / f"load={r}" / LANDED).read_text()) for r in (a, b))
    for key in ("unchanged_rows", "linked_parts", "changed_rows"):
        assert la["changes"][key] == lb["changes"][key]
    assert la["rows"] == lb["rows"] and la["watermarks"] == lb["watermarks"]


def _sql(db: Path, *statements: tuple[str, tuple]) -> None:
    con = sqlite3.connect(db)
    for stmt, params in statements:
        con.execute(stmt, params)
    con.commit()
    con.close()


def _plain_months(db: Path) -> None:
    """Balances by ``YYYY-MM`` month (a day in a month column lands as its month: such keys are not
    counted), all but those of A3 last changed before the watermark."""
    _sql(
        db,
        (
            "UPDATE balances SET month = substr(month, 1, 7), "
            "updated_at = CASE WHEN account_id = 'A3' THEN updated_at ELSE '2024-01-01 00:00:00' END",
            (),
        ),
    )


def test_nothing_deleted_reads_no_keys(crm: tuple[Config, Path], tmp_path: Path, statements: list[str]) -> None:
    config, db = crm
    _plain_months(db)
    first = _land(config, tmp_path, "r1")
    _sql(
        db,
        ("UPDATE customers SET name = 'Beta Holding GmbH', updated_at = ? WHERE source_id = 'C2'", (LATER,)),
        ("INSERT INTO balances VALUES ('A1', '2024-04', 1.5, 1, ?)", (LATER,)),
    )
    statements.clear()
    second = _land(config, tmp_path, "r2", "r1", first["watermarks"])
    assert second["changes"]["counted_tables"] == ["account", "balance", "organization"]
    assert _keys_scans(statements) == []
    assert sum("count(*)" in s for s in statements) == 3
    reference = _land_by_keys(config, tmp_path, "r2k", "r1", first["watermarks"])
    assert reference["changes"]["counted_tables"] == [] and len(_keys_scans(statements)) == 3
    _same_landing(config, "r2", "r2k")
    assert len(_rows(config, "r2", "balance")) == 10
    assert _inodes(config, "r2", "account") == _inodes(config, "r1", "account")


def test_a_deletion_falls_back_to_the_keys(crm: tuple[Config, Path], tmp_path: Path, statements: list[str]) -> None:
    config, db = crm
    _plain_months(db)
    first = _land(config, tmp_path, "r1")
    _sql(db, ("DELETE FROM customers WHERE source_id = 'C1'", ()))
    statements.clear()
    second = _land(config, tmp_path, "r2", "r1", first["watermarks"])
    assert second["changes"]["counted_tables"] == ["account", "balance"]
    assert len(_keys_scans(statements)) == 1
    assert [r["source_id"] for r in _rows(config, "r2", "organization")] == ["C2", "C3"]
    _land_by_keys(config, tmp_path, "r2k", "r1", first["watermarks"])
    _same_landing(config, "r2", "r2k")


def test_a_key_deleted_and_another_inserted(crm: tuple[Config, Path], tmp_path: Path) -> None:
    """As many rows as before, but one key is gone: the distinct keys of the landing and of the rows read
    again (10) differ from the source's (9); a count of rows would see 9 rows in both and keep the deleted one."""
    config, db = crm
    _plain_months(db)
    first = _land(config, tmp_path, "r1")
    _sql(
        db,
        ("DELETE FROM balances WHERE account_id = 'A1' AND month = '2024-01'", ()),
        ("INSERT INTO balances VALUES ('A2', '2024-04', 7.0, 2, ?)", (LATER,)),
    )
    second = _land(config, tmp_path, "r2", "r1", first["watermarks"])
    assert second["changes"]["counted_tables"] == ["account", "organization"]
    keys = [(r["account_id"], r["month"]) for r in _rows(config, "r2", "balance")]
    assert len(keys) == 9 and ("A1", "2024-01") not in keys and ("A2", "2024-04") in keys
    _land_by_keys(config, tmp_path, "r2k", "r1", first["watermarks"])
    _same_landing(config, "r2", "r2k")


@pytest.mark.parametrize("deleted", [None, "C1"])
def test_duplicate_keys_in_the_source(crm: tuple[Config, Path], tmp_path: Path, deleted: str | None) -> None:
    """Keys, not rows, are counted: with C3 twice, deleting C1 leaves as many rows in the source (3) as the
    landing has distinct keys (C1, C2, C3), and must still be seen."""
    config, db = crm
    _sql(db, ("INSERT INTO customers VALUES ('C3', 'Gamma SA', 'Paris', NULL, '2024-01-01 00:00:00')", ()))
    first = _land(config, tmp_path, "r1")
    if deleted:
        _sql(db, ("DELETE FROM customers WHERE source_id = ?", (deleted,)))
    second = _land(config, tmp_path, "r2", "r1", first["watermarks"])
    assert ("organization" in second["changes"]["counted_tables"]) == (deleted is None)
    ids = sorted(r["source_id"] for r in _rows(config, "r2", "organization"))
    # C3 read again (at the watermark) replaces both old rows of its key, as ever.
    assert ids == (["C2", "C3"] if deleted else ["C1", "C2", "C3"])
    _land_by_keys(config, tmp_path, "r2k", "r1", first["watermarks"])
    _same_landing(config, "r2", "r2k")


def test_keys_the_count_cannot_tell_apart_fall_back(crm: tuple[Config, Path], tmp_path: Path) -> None:
    """'C1 ' lands as 'C1': with C2 deleted and 'C1 ' inserted the database counts three keys (C1, 'C1 ', C3),
    the landing three (C1, C2, C3), yet C2 is gone. Keys that are not plain text are never counted."""
    config, db = crm
    first = _land(config, tmp_path, "r1")
    _sql(
        db,
        ("DELETE FROM customers WHERE source_id IN ('C2', 'C3')", ()),
        ("INSERT INTO customers VALUES ('C1 ', 'Alpha Ltd', 'London', NULL, ?)", (LATER,)),
        ("INSERT INTO customers VALUES ('C3', 'Gamma SA', NULL, NULL, ?)", (LATER,)),
    )
    second = _land(config, tmp_path, "r2", "r1", first["watermarks"])
    assert "organization" not in second["changes"]["counted_tables"]
    assert sorted(r["source_id"] for r in _rows(config, "r2", "organization")) == ["C1", "C3"]
    _land_by_keys(config, tmp_path, "r2k", "r1", first["watermarks"])
    _same_landing(config, "r2", "r2k")


_ACCOUNTS = st.sampled_from(["A1", "A2", "A3", "A4"])
# 2024-01-15 lands as 2024-01: a key the count cannot tell from A?/2024-01.
_MONTHS = st.sampled_from(["2024-01", "2024-02", "2024-04", "2024-01-15"])
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("delete"), _ACCOUNTS, _MONTHS),
        st.tuples(st.just("insert"), _ACCOUNTS, _MONTHS),
        st.tuples(st.just("update"), _ACCOUNTS, _MONTHS),
    ),
    max_size=4,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS, nulls=st.booleans())
def test_counted_landing_equals_the_keys_landing(
    tmp_path_factory: pytest.TempPathFactory, ops: list, nulls: bool
) -> None:
    """Any delta (deletions, inserts, updates, duplicate keys, NULL keys) lands as the keys scan lands it."""
    tmp = tmp_path_factory.mktemp("cdc")
    db = tmp / "crm.sqlite"
    _crm(db)
    _plain_months(db)
    if nulls:
        _sql(db, ("INSERT INTO balances VALUES ('A9', NULL, 1.0, 1, ?)", (STAMP,)))
    config = Config.model_validate(
        {
            "warehouse": str(tmp / "wh"),
            "sources": [
                {
                    "name": "crm",
                    "format": "sql",
                    "url": f"sqlite:///{db}",
                    "chunk_size": 3,
                    "queries": {
                        "customers": "SELECT source_id, name FROM customers",
                        "balances": "SELECT account_id, month, balance, txn_count, updated_at FROM balances",
                    },
                    "changes": {"balances": "updated_at"},
                }
            ],
        }
    )
    (tmp / "wh").mkdir(mode=0o700)
    first = _land(config, tmp, "r1")
    for i, (op, account, month) in enumerate(ops):
        where = ("DELETE FROM balances WHERE account_id = ? AND month = ?", (account, month))
        change = f"2024-07-0{i + 1} 00:00:00"
        _sql(
            db,
            *{
                "delete": [where],
                "insert": [("INSERT INTO balances VALUES (?, ?, ?, ?, ?)", (account, month, float(i), i, change))],
                "update": [
                    (
                        "UPDATE balances SET balance = -1, updated_at = ? WHERE account_id = ? AND month = ?",
                        (change, account, month),
                    )
                ],
            }[op],
        )
    second = _land(config, tmp, "r2", "r1", first["watermarks"])
    _land_by_keys(config, tmp, "r2k", "r1", first["watermarks"])
    for table in ("balance",):
        assert _rows(config, "r2", table) == _rows(config, "r2k", table)
    # Nothing deleted and every key plain: counted (a NULL key is plain).
    if all(op != "delete" and len(m) == 7 for op, _, m in ops):
        assert second["changes"]["counted_tables"] == ["balance"]
    # The landing is the source as it is now: the rows read again, and the others of keys not read again
    # (a NULL key is never kept, it equals no key).
    con = sqlite3.connect(db)
    rows = con.execute("SELECT account_id, month, balance, updated_at FROM balances").fetchall()
    source = [(a, m and m[:7], b, c >= _watermark(first)) for a, m, b, c in rows]
    con.close()
    again = {(a, m) for a, m, _, read in source if read}
    now = sorted((a, m, b) for a, m, b, read in source if read or (m is not None and (a, m) not in again))
    assert sorted((r["account_id"], r["month"], r["balance"]) for r in _rows(config, "r2", "balance")) == now


def _watermark(landed: dict) -> str:
    return json.loads(landed["watermarks"]["balances"])["value"]


def test_a_table_is_merged_while_the_next_queries_are_read(
    crm: tuple[Config, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The customers' landing is completed (merged with the last one) as soon as their count is in, while the
    balances are still being read and counted; the landing is the one a merge after the read gives."""
    config, db = crm
    _plain_months(db)
    first = _land(config, tmp_path, "r1")
    _sql(db, ("UPDATE customers SET name = 'Beta Holding GmbH', updated_at = ? WHERE source_id = 'C2'", (LATER,)))
    merged = {t: threading.Event() for t in ("organization", "account", "balance")}
    seen_when_counting: dict[str, bool] = {}
    real_merge, real_count = landing_merge.merge_table, landing_merge.key_count

    def merge(con: Any, table: str, *args: Any) -> tuple[int, int]:
        try:
            return real_merge(con, table, *args)
        finally:
            merged[table].set()

    def key_count(base: Path, target: Path, files: dict, table: str) -> int:
        if table == "balance":  # a merge after the read never comes: the wait ends after 20 s
            seen_when_counting["organization"] = merged["organization"].wait(timeout=20)
        return real_count(base, target, files, table)

    monkeypatch.setattr(landing_merge, "merge_table", merge)
    monkeypatch.setattr(landing_merge, "key_count", key_count)
    second = _land(config, tmp_path, "r2", "r1", first["watermarks"])
    assert seen_when_counting == {"organization": True}
    assert second["changes"]["counted_tables"] == ["account", "balance", "organization"]
    monkeypatch.undo()
    _land_by_keys(config, tmp_path, "r2k", "r1", first["watermarks"])
    _same_landing(config, "r2", "r2k")


def test_a_failed_merge_fails_the_landing(
    crm: tuple[Config, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _db = crm
    first = _land(config, tmp_path, "r1")
    real_merge = landing_merge.merge_table

    def merge(con: Any, table: str, *args: Any) -> tuple[int, int]:
        if table == "organization":
            raise OSError("disk full")
        return real_merge(con, table, *args)

    monkeypatch.setattr(landing_merge, "merge_table", merge)
    with pytest.raises(OSError, match="disk full"):
        _land(config, tmp_path, "r2", "r1", first["watermarks"])
    assert not (tmp_path / "staging-r2" / "raw" / "crm" / LANDED).exists()
