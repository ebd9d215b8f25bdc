"""Landing of a database source by change-data capture (pipelines.landing): the rows read again because the
changes query includes its watermark keep their kept row as it was, and a table without a real change carries
its last landing over by hard link."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

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
