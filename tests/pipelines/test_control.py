from __future__ import annotations

import sqlite3
import stat

import pytest

from pipelines import control


def test_store_is_created_owner_only_and_read_only_connections_cannot_write(tmp_path):
    con = control.connect(tmp_path / "wh")
    con.execute("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
    con.execute("INSERT INTO probe VALUES (1)")
    con.commit()
    con.close()
    path = control.control_path(tmp_path / "wh")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ro = control.connect(tmp_path / "wh", read_only=True)
    assert ro.execute("SELECT x FROM probe").fetchall()[0][0] == 1
    with pytest.raises(sqlite3.OperationalError):
        ro.execute("INSERT INTO probe VALUES (2)")
    ro.close()


def test_read_only_connect_does_not_create_a_store(tmp_path):
    with pytest.raises(sqlite3.OperationalError):
        control.connect(tmp_path / "nowhere", read_only=True).execute("SELECT 1 FROM sqlite_master").fetchall()
    assert not control.control_path(tmp_path / "nowhere").exists()
