"""Backup and restore of a real run on a generated sample: the warehouse tables, the Parquet snapshot, the
users and the audit log after a restore equal the backed-up state although a later run and user changes
came in between; ``mdm audit verify`` passes; and the next run builds on the restored warehouse."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines import audit, control, runner, users
from pipelines.cli import app
from pipelines.sample import generate
from pipelines.warehouse import FIXED_LINKS, Warehouse
from tests.conftest import query_warehouse, sample_config

TABLES = ("golden_organization", "xref", "organization_record", "golden_id_redirect", "run_log")
PW = "a long enough secret"


def _tables(wh: Path) -> dict[str, list[tuple]]:
    return {t: query_warehouse(wh, f"SELECT * FROM {t} ORDER BY ALL") for t in TABLES}  # constant table names


def _parquet(wh: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (wh / "parquet").iterdir()}


def _control(wh: Path) -> tuple[list[users.User], list[tuple]]:
    con = control.connect(wh)
    try:
        return users.list_users(con), [
            (e.id, e.actor, e.action, e.subject, e.hash) for e in reversed(audit.entries(con, limit=100_000))
        ]
    finally:
        con.close()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("roundtrip")
    generate(tmp / "sample", entities=300, seed=7)
    return tmp, sample_config(tmp / "sample", tmp / "wh", tmp / "mdm.yaml")


def test_backup_restore_roundtrip_on_a_real_run(sample: tuple[Path, Path]) -> None:
    tmp, cfg = sample
    wh = tmp / "wh"
    first = runner.run(cfg)
    con = control.connect(wh)
    users.add_user(con, "alice", PW, "steward", actor="os:ops")
    audit.record(con, "alice", audit.REVIEW_DECIDE, "crm:CUST1|gleif:X", {"verdict": "no-match", "reason": "test"})
    con.close()
    tables, parquet, (who, log) = _tables(wh), _parquet(wh), _control(wh)
    # the run itself is audited too (run.start, run.publish)
    assert len(tables["golden_organization"]) > 50 and [e[2] for e in log] == [
        "run.start",
        "run.publish",
        "user.add",
        "review.decide",
    ]

    cli = CliRunner()
    archive = tmp / "backup.tar.gz"
    res = cli.invoke(app, ["backup", "--config", str(cfg), "--out", str(archive)])
    assert res.exit_code == 0, res.output

    second = runner.run(cfg)
    assert Warehouse(wh).latest_run() == second.run_id != first.run_id
    con = control.connect(wh)
    users.set_role(con, "alice", "analyst")
    users.add_user(con, "bob", PW, "auditor")
    con.close()
    assert _tables(wh)["run_log"] != tables["run_log"] and _control(wh)[0] != who

    res = cli.invoke(app, ["restore", "--config", str(cfg), "--from", str(archive), "--yes"])
    assert res.exit_code == 0, res.output
    assert Warehouse(wh).latest_run() == first.run_id
    assert _tables(wh) == tables
    assert os.readlink(wh / "current") == f"snapshots/{first.run_id}"
    assert {n: os.readlink(wh / n) for n in FIXED_LINKS} == FIXED_LINKS
    assert (wh / "snapshots" / first.run_id / "mdm.duckdb").is_file()
    assert _parquet(wh) == parquet
    who_after, log_after = _control(wh)
    assert who_after == who == [users.User("alice", "steward", False)]
    assert log_after[:-1] == log and log_after[-1][2] == "restore"
    res = cli.invoke(app, ["audit", "verify", "--config", str(cfg)])
    assert res.exit_code == 0 and f"audit log OK: {len(log) + 1} entries" in res.output, res.output
    con = control.connect(wh)
    assert users.authenticate(con, "alice", PW).role == "steward"
    con.close()

    third = runner.run(cfg)  # a run builds on the restored state (its raw landings are back)
    assert Warehouse(wh).latest_run() == third.run_id
    assert len(query_warehouse(wh, "SELECT * FROM golden_organization")) == len(tables["golden_organization"])
