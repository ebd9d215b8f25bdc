"""``mdm sql --user``: the role decides what a signed-in user can query (analysts stay inside the database
file, auditors see only the audit log), sign-in failures are refused and audited, and every query is in
the audit log (sha256 and text, rows) before its result is shown."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
import yaml
from argon2 import PasswordHasher
from typer.testing import CliRunner

from pipelines import audit, control, users
from pipelines.cli import app

PW = "a long enough secret"
cli = CliRunner()


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    monkeypatch.setattr(users, "_dummy_hash", None)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    wh = tmp_path / "wh"
    wh.mkdir()
    con = duckdb.connect(str(wh / "mdm.duckdb"))
    con.execute("CREATE TABLE golden_organization (golden_id VARCHAR, legal_name VARCHAR)")
    con.execute("INSERT INTO golden_organization VALUES ('G1', 'Acme Ltd'), ('G2', 'Beta GmbH')")
    con.execute("CREATE SCHEMA analyst")  # a published warehouse has its masked analyst views (publish stage)
    con.execute("CREATE VIEW analyst.v_golden_organization AS SELECT * FROM main.golden_organization")
    con.close()
    ctl = control.connect(wh)
    for name, role in (("ana", "analyst"), ("aud", "auditor"), ("stew", "steward"), ("eng", "engineer")):
        users.add_user(ctl, name, PW, role)
    ctl.close()
    cfg = tmp_path / "mdm.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "warehouse": str(wh),
                "sources": [{"name": "ch", "format": "companies_house_csv", "path": str(tmp_path / "x.csv")}],
            }
        ),
        encoding="utf-8",
    )
    return cfg


def sql(config: Path, user: str, *args: str, password: str = PW, input: str | None = None):
    return cli.invoke(
        app,
        ["sql", "--config", str(config), "--user", user, "--format", "json", *args],
        env={"MDM_PASSWORD": password},
        input=input,
    )


def log(config: Path, action: str | None = None) -> list[audit.Entry]:
    con = control.connect(config.parent / "wh")
    try:
        return list(reversed(audit.entries(con, limit=1000, action=action)))
    finally:
        con.close()


def test_analyst_queries_the_warehouse_and_each_query_is_audited(config: Path) -> None:
    q = "SELECT golden_id, legal_name FROM golden_organization ORDER BY golden_id"
    res = sql(config, "ana", q)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == [
        {"golden_id": "G1", "legal_name": "Acme Ltd"},
        {"golden_id": "G2", "legal_name": "Beta GmbH"},
    ]
    entries = log(config, "sql.query")
    assert len(entries) == 1
    e = entries[0]
    assert e.actor == "ana" and e.detail["role"] == "analyst" and e.detail["rows"] == 2
    assert e.detail["text"] == q and e.detail["sha256"] == hashlib.sha256(q.encode()).hexdigest()
    assert [x.action for x in log(config, "sign_in")][-1] == "sign_in.success"


@pytest.mark.parametrize(
    "attack",
    [
        "SELECT * FROM read_csv('{ctl}')",
        "SELECT * FROM read_text('{head}')",
        "ATTACH '{ctl}' AS c (TYPE sqlite)",
        "INSTALL sqlite",
        "SET enable_external_access = true",
        "SELECT * FROM audit_log",
    ],
)
def test_analyst_cannot_reach_the_control_store_or_the_audit_log(config: Path, attack: str) -> None:
    wh = config.parent / "wh"
    q = attack.format(ctl=wh / "control.db", head=wh / audit.HEAD_FILE)
    res = sql(config, "ana", q)
    assert res.exit_code == 1, res.output
    assert "error:" in res.output and "Traceback" not in res.output
    assert "sign_in" not in res.output and "$argon2" not in res.output
    e = log(config, "sql.query")[-1]
    assert e.actor == "ana" and e.detail["text"] == q and "error" in e.detail


def test_auditor_sees_only_the_audit_log(config: Path) -> None:
    res = sql(config, "aud", "SELECT action, subject FROM audit_log WHERE action = 'user.add' ORDER BY id")
    assert res.exit_code == 0, res.output
    assert [r["subject"] for r in json.loads(res.output)] == ["ana", "aud", "stew", "eng"]
    res = sql(config, "aud", "SELECT * FROM golden_organization")
    assert res.exit_code == 1 and "golden_organization" in res.output
    res = sql(config, "aud", f"SELECT * FROM read_csv('{config.parent / 'wh' / 'control.db'}')")
    assert res.exit_code == 1
    res = sql(config, "aud", f"ATTACH '{config.parent / 'wh' / 'mdm.duckdb'}' AS w")
    assert res.exit_code == 1


def test_stewards_and_engineers_read_the_warehouse(config: Path) -> None:
    for name in ("stew", "eng"):
        res = sql(config, name, "SELECT count(*) AS n FROM golden_organization")
        assert res.exit_code == 0 and json.loads(res.output) == [{"n": 2}]
    assert [e.actor for e in log(config, "sql.query")] == ["stew", "eng"]


def test_failed_sign_ins_are_refused_and_audited(config: Path) -> None:
    res = sql(config, "ana", "SELECT 1", password="not the password")
    assert res.exit_code == 1 and "sign-in failed" in res.output and "[{" not in res.output
    res = sql(config, "nobody", "SELECT 1")
    assert res.exit_code == 1 and "sign-in failed" in res.output
    ctl = control.connect(config.parent / "wh")
    users.disable(ctl, "ana")
    ctl.close()
    res = sql(config, "ana", "SELECT 1")
    assert res.exit_code == 1 and "sign-in failed" in res.output
    fails = log(config, "sign_in.failure")
    assert [(e.subject, e.detail["reason"], e.detail["channel"]) for e in fails] == [
        ("ana", "wrong password", "sql"),
        ("nobody", "unknown user", "sql"),
        ("ana", "disabled", "sql"),
    ]
    assert log(config, "sql.query") == []


def test_the_interactive_shell_audits_every_statement(config: Path) -> None:
    res = sql(config, "ana", input="SELECT 1 AS a;\nSELECT legal_name\n FROM golden_organization;\n.tables\n")
    assert res.exit_code == 0, res.output
    texts = [e.detail["text"] for e in log(config, "sql.query")]
    assert texts == ["SELECT 1 AS a;", "SELECT legal_name\n FROM golden_organization;"]
    assert [e.detail["rows"] for e in log(config, "sql.query")] == [1, 2]


def test_no_result_is_shown_when_the_audit_log_cannot_be_written(config: Path, monkeypatch) -> None:
    real = audit.record

    def failing(con, actor, action, subject="", detail=None):
        if action == audit.SQL_QUERY:
            raise audit.AuditError("cannot write the audit log: disk full")
        return real(con, actor, action, subject, detail)

    monkeypatch.setattr(audit, "record", failing)
    res = sql(config, "ana", "SELECT legal_name FROM golden_organization")
    assert res.exit_code == 1 and "disk full" in res.output and "Acme" not in res.output
