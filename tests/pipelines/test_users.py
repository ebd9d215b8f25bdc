"""Users and roles in the control store: Argon2id hashes, the password policy, sign-in, role changes,
the permission map, the audit entries each change writes, and the ``mdm users`` commands."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml
from argon2 import PasswordHasher
from typer.testing import CliRunner

from pipelines import audit, control, users
from pipelines.cli import app

PW = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    """Cheap Argon2id parameters so the tests run fast (the real default is tested separately)."""
    h = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    monkeypatch.setattr(users, "HASHER", h)
    monkeypatch.setattr(users, "_dummy_hash", None)
    return h


@pytest.fixture
def con(tmp_path: Path):
    c = control.connect(tmp_path / "wh")
    yield c
    c.close()


def test_permission_map_gives_each_role_its_permissions_only() -> None:
    assert users.can("engineer", "run") and users.can("engineer", "configure")
    assert users.can("engineer", "manage_users")
    assert users.can("steward", "review") and users.can("steward", "override")
    assert users.can("steward", "read_clear")
    assert users.can("analyst", "read_masked")
    assert not users.can("analyst", "read_clear")
    assert not users.can("analyst", "read_audit")
    assert not users.can("analyst", "review")
    assert users.can("auditor", "read_audit")
    assert not users.can("auditor", "read_masked") and not users.can("auditor", "read_clear")
    assert not users.can("steward", "run") and not users.can("steward", "manage_users")
    assert not users.can("nobody", "read_masked")
    with pytest.raises(ValueError, match="unknown permission"):
        users.can("engineer", "fly")
    assert not users.User("x", "engineer", disabled=True).can("run")


def test_password_is_stored_as_an_argon2id_hash_never_in_clear(con: sqlite3.Connection) -> None:
    users.add_user(con, "Alice", PW, "steward")
    stored = con.execute("SELECT name, password_hash FROM app_user").fetchall()
    assert [r[0] for r in stored] == ["alice"]
    assert stored[0][1].startswith("$argon2id$")
    raw = (control.control_path(Path(con.execute("PRAGMA database_list").fetchone()[2]).parent)).read_bytes()
    assert PW.encode() not in raw


def test_authenticate_accepts_the_right_password_only(con: sqlite3.Connection) -> None:
    users.add_user(con, "alice", PW, "steward")
    assert users.authenticate(con, "ALICE", PW) == users.User("alice", "steward", False)
    assert users.authenticate(con, "alice", PW + "x") is None
    assert users.authenticate(con, "alice", "") is None
    assert users.authenticate(con, "bob", PW) is None
    assert users.authenticate(con, "'; DROP TABLE app_user; --", PW) is None
    assert users.list_users(con) == [users.User("alice", "steward", False)]


@pytest.mark.parametrize(
    "password, message",
    [
        ("short1!", "at least 12"),
        ("alice-is-my-password", "user name"),
        ("aaaaaaaaaaaaaaaa", "repeated"),
        ("x" * 2000 + "abcd", "at most"),
    ],
)
def test_weak_passwords_are_refused(con: sqlite3.Connection, password: str, message: str) -> None:
    with pytest.raises(users.UserError, match=message):
        users.add_user(con, "alice", password, "analyst")
    assert users.list_users(con) == []


def test_bad_names_roles_and_duplicates_are_refused(con: sqlite3.Connection) -> None:
    with pytest.raises(users.UserError, match="role must be one of"):
        users.add_user(con, "alice", PW, "admin")
    with pytest.raises(users.UserError, match="user name"):
        users.add_user(con, "alice smith", PW, "analyst")
    with pytest.raises(users.UserError, match="user name"):
        users.add_user(con, "../etc", PW, "analyst")
    users.add_user(con, "alice", PW, "analyst")
    with pytest.raises(users.UserError, match="exists already"):
        users.add_user(con, "ALICE", PW, "engineer")
    with pytest.raises(users.UserError, match="no user named"):
        users.set_role(con, "bob", "steward")


def test_disabled_users_cannot_sign_in_and_role_changes_apply(con: sqlite3.Connection) -> None:
    users.add_user(con, "alice", PW, "analyst")
    assert users.set_role(con, "alice", "steward").role == "steward"
    assert users.authenticate(con, "alice", PW).role == "steward"
    users.disable(con, "alice")
    assert users.authenticate(con, "alice", PW) is None
    assert users.list_users(con) == [users.User("alice", "steward", True)]
    users.enable(con, "alice")
    assert users.authenticate(con, "alice", PW) is not None
    users.set_password(con, "alice", "another long secret")
    assert users.authenticate(con, "alice", PW) is None
    assert users.authenticate(con, "alice", "another long secret") is not None


def test_unknown_and_disabled_users_cost_one_hash_verification(con: sqlite3.Connection, monkeypatch) -> None:
    users.add_user(con, "alice", PW, "analyst")
    users.disable(con, "alice")
    calls: list[str] = []

    class Spy(PasswordHasher):
        def verify(self, hash: str, password: str) -> bool:
            calls.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(users, "HASHER", Spy(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    assert users.authenticate(con, "nobody", PW) is None
    assert users.authenticate(con, "alice", PW) is None
    assert users.authenticate(con, "not a valid name!", PW) is None
    assert len(calls) == 3 and all(h.startswith("$argon2id$") for h in calls)


def test_hash_with_old_parameters_is_replaced_at_sign_in(con: sqlite3.Connection, monkeypatch) -> None:
    users.add_user(con, "alice", PW, "analyst")
    old = con.execute("SELECT password_hash FROM app_user").fetchone()[0]
    assert "m=8192" in old
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=2, memory_cost=16 * 1024, parallelism=1))
    assert users.authenticate(con, "alice", PW) is not None
    new = con.execute("SELECT password_hash FROM app_user").fetchone()[0]
    assert new != old and "m=16384" in new and "t=2" in new
    assert users.authenticate(con, "alice", PW) is not None  # the new hash verifies
    assert con.execute("SELECT password_hash FROM app_user").fetchone()[0] == new


def test_default_hasher_is_argon2id_with_rfc9106_parameters() -> None:
    h = PasswordHasher().hash("x" * 12)
    assert h.startswith("$argon2id$") and "m=65536" in h


def test_user_changes_and_sign_ins_are_audited(con: sqlite3.Connection) -> None:
    users.add_user(con, "alice", PW, "analyst", actor="os:root")
    users.set_role(con, "alice", "auditor", actor="os:root")
    users.authenticate(con, "alice", "wrong password!!", channel="web")
    users.authenticate(con, "alice", PW, channel="sql")
    users.authenticate(con, "mallory", PW)
    users.disable(con, "alice", actor="os:root")
    got = [(e.actor, e.action, e.subject, e.detail) for e in reversed(audit.entries(con))]
    assert got == [
        ("os:root", "user.add", "alice", {"role": "analyst"}),
        ("os:root", "user.set_role", "alice", {"from": "analyst", "to": "auditor"}),
        ("alice", "sign_in.failure", "alice", {"channel": "web", "reason": "wrong password"}),
        ("alice", "sign_in.success", "alice", {"channel": "sql", "role": "auditor"}),
        ("mallory", "sign_in.failure", "mallory", {"channel": "cli", "reason": "unknown user"}),
        ("os:root", "user.disable", "alice", {}),
    ]
    assert audit.verify(con).ok


def test_a_refused_change_writes_no_audit_entry(con: sqlite3.Connection) -> None:
    with pytest.raises(users.UserError):
        users.add_user(con, "alice", "short", "analyst")
    assert audit.entries(con) == []


# --- the mdm users commands -------------------------------------------------------------------------

cli = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    cfg = tmp_path / "mdm.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "warehouse": str(tmp_path / "wh"),
                "sources": [{"name": "crm", "format": "companies_house_csv", "path": str(tmp_path / "x.csv")}],
            }
        ),
        encoding="utf-8",
    )
    return cfg


def test_cli_add_list_set_role_disable(config: Path, tmp_path: Path) -> None:
    res = cli.invoke(
        app,
        ["users", "add", "--config", str(config), "alice", "--role", "steward", "--password-stdin"],
        input=PW + "\n",
    )
    assert res.exit_code == 0, res.output
    res = cli.invoke(app, ["users", "set-role", "--config", str(config), "alice", "--role", "analyst"])
    assert res.exit_code == 0, res.output
    res = cli.invoke(
        app,
        ["users", "add", "--config", str(config), "bob", "--role", "auditor"],
        input="the long secret of b\nthe long secret of b\n",
    )
    assert res.exit_code == 0, res.output
    res = cli.invoke(app, ["users", "disable", "--config", str(config), "bob"])
    assert res.exit_code == 0, res.output
    res = cli.invoke(app, ["users", "list", "--config", str(config)])
    assert res.exit_code == 0
    lines = [ln for ln in res.output.splitlines() if "alice" in ln or "bob" in ln]
    assert "analyst" in lines[0] and "active" in lines[0]
    assert "auditor" in lines[1] and "disabled" in lines[1]
    con = control.connect(tmp_path / "wh")
    try:
        assert users.authenticate(con, "alice", PW).role == "analyst"
        assert users.authenticate(con, "bob", "the long secret of b") is None
        actors = {e.actor for e in audit.entries(con, action="user")}
        assert len(actors) == 1 and actors.pop().startswith("os:")
    finally:
        con.close()


def test_cli_errors_are_one_line_without_traceback(config: Path) -> None:
    res = cli.invoke(
        app, ["users", "add", "--config", str(config), "alice", "--role", "boss", "--password-stdin"], input=PW + "\n"
    )
    assert res.exit_code == 1
    assert "role must be one of" in res.output and "Traceback" not in res.output
    res = cli.invoke(
        app,
        ["users", "add", "--config", str(config), "alice", "--role", "analyst", "--password-stdin"],
        input="short\n",
    )
    assert res.exit_code == 1 and "at least 12" in res.output
    res = cli.invoke(app, ["users", "disable", "--config", str(config), "nobody"])
    assert res.exit_code == 1 and "no user named" in res.output


def test_cli_has_no_password_option_and_every_command_has_an_example() -> None:
    for cmd in ("add", "list", "disable", "enable", "set-role", "passwd"):
        res = cli.invoke(app, ["users", cmd, "--help"])
        assert res.exit_code == 0
        assert "Example:" in res.output and f"mdm users {cmd}" in res.output
    res = cli.invoke(app, ["users", "add", "--help"])
    assert "--password " not in res.output.replace("--password-stdin", "")
