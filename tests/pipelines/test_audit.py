"""The hash-chained audit log: triggers refuse UPDATE/DELETE; an attacker with raw sqlite who drops the
triggers and edits, reorders or deletes entries (in the middle or at the end) is caught by verify with
a message naming the entry; ``mdm audit verify|list|head``."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipelines import audit, control
from pipelines.cli import app


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    return tmp_path / "wh"


def _fill(wh: Path, n: int = 5) -> None:
    con = control.connect(wh)
    try:
        for i in range(1, n + 1):
            audit.record(con, f"user{i}", "review.decide", f"crm:C{i}", {"verdict": "match", "n": i, "名": "公司"})
    finally:
        con.close()


def _raw(wh: Path) -> sqlite3.Connection:
    """What an attacker with file access does: open the file with sqlite and drop the guards."""
    con = sqlite3.connect(control.control_path(wh))
    con.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    con.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    return con


def _verify(wh: Path) -> audit.Verification:
    con = control.connect(wh, read_only=True)
    try:
        return audit.verify(con)
    finally:
        con.close()


def test_chain_hash_is_sha256_of_previous_hash_and_canonical_json(wh: Path) -> None:
    _fill(wh, 3)
    con = control.connect(wh)
    rows = con.execute(
        "SELECT id, ts, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY id"
    ).fetchall()
    con.close()
    prev = "0" * 64
    for id_, ts, actor, action, subject, detail, stored_prev, h in rows:
        body = json.dumps(
            {"action": action, "actor": actor, "detail": json.loads(detail), "id": id_, "subject": subject, "ts": ts},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        assert stored_prev == prev
        assert h == hashlib.sha256((prev + body).encode()).hexdigest()
        prev = h
    assert [r[0] for r in rows] == [1, 2, 3]
    head = json.loads((wh / audit.HEAD_FILE).read_text())
    assert head == {"count": 3, "hash": prev}
    assert stat.S_IMODE((wh / audit.HEAD_FILE).stat().st_mode) == 0o600
    assert _verify(wh).ok


def test_triggers_refuse_update_and_delete(wh: Path) -> None:
    _fill(wh, 2)
    con = sqlite3.connect(control.control_path(wh))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE audit_log SET actor = 'x' WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM audit_log WHERE id = 2")
    con.close()
    assert _verify(wh).ok


def test_an_edited_entry_is_named(wh: Path) -> None:
    _fill(wh)
    con = _raw(wh)
    con.execute("UPDATE audit_log SET detail = ? WHERE id = 3", (json.dumps({"verdict": "no-match"}),))
    con.commit()
    con.close()
    res = _verify(wh)
    assert not res.ok
    assert any(p.startswith("entry 3 (review.decide by user3") and "edited" in p for p in res.problems), res.problems
    assert len(res.problems) == 1


def test_an_edited_entry_with_a_recomputed_hash_is_named(wh: Path) -> None:
    _fill(wh)
    con = _raw(wh)
    ts, prev = con.execute("SELECT ts, prev_hash FROM audit_log WHERE id = 3").fetchone()
    detail = audit.canonical({"verdict": "no-match"})
    h = audit.entry_hash(prev, 3, ts, "user3", "review.decide", "crm:C3", detail)
    con.execute("UPDATE audit_log SET detail = ?, hash = ? WHERE id = 3", (detail, h))
    con.commit()
    con.close()
    res = _verify(wh)
    assert res.problems == ["entry 3 was edited or replaced: entry 4 links to a hash that entry 3 no longer has"]


def test_reordered_entries_are_named(wh: Path) -> None:
    _fill(wh)
    con = _raw(wh)
    con.execute("UPDATE audit_log SET id = -2 WHERE id = 2")
    con.execute("UPDATE audit_log SET id = 2 WHERE id = 3")
    con.execute("UPDATE audit_log SET id = 3 WHERE id = -2")
    con.commit()
    con.close()
    res = _verify(wh)
    assert not res.ok
    assert res.problems == [
        "entry 2 is out of order: it was written as entry 3 (entries were reordered)",
        "entry 3 is out of order: it was written as entry 2 (entries were reordered)",
    ]


def test_a_deleted_middle_entry_is_named(wh: Path) -> None:
    _fill(wh)
    con = _raw(wh)
    con.execute("DELETE FROM audit_log WHERE id = 3")
    con.commit()
    con.close()
    res = _verify(wh)
    assert res.problems == ["entry 3 missing (deleted): entry 4 follows entry 2"]


def test_deleted_newest_entries_are_named(wh: Path) -> None:
    _fill(wh)
    con = _raw(wh)
    con.execute("DELETE FROM audit_log WHERE id = 5")
    con.commit()
    con.close()
    res = _verify(wh)
    assert not res.ok
    assert res.problems[0].startswith("entry 5 missing: the head file records 5 entries, the table ends at entry 4")
    con = _raw(wh)
    con.execute("DELETE FROM audit_log WHERE id >= 3")
    con.commit()
    con.close()
    assert _verify(wh).problems[0].startswith("entries 3-5 missing")


def test_deleting_the_head_file_too_is_reported(wh: Path) -> None:
    _fill(wh)
    (wh / audit.HEAD_FILE).unlink()
    res = _verify(wh)
    assert not res.ok and "head file is missing" in res.problems[0]


def test_a_rewritten_chain_is_caught_by_an_anchor_kept_elsewhere(wh: Path) -> None:
    _fill(wh, 3)
    con = control.connect(wh)
    anchor = "3:" + con.execute("SELECT hash FROM audit_log WHERE id = 3").fetchone()[0]
    con.close()
    # The attacker rebuilds the whole chain from entry 2 on and rewrites the head file consistently.
    con = _raw(wh)
    con.execute("DELETE FROM audit_log WHERE id >= 2")
    con.commit()
    con.close()
    con = control.connect(wh)
    (wh / audit.HEAD_FILE).write_text(
        json.dumps({"count": 1, "hash": con.execute("SELECT hash FROM audit_log WHERE id = 1").fetchone()[0]})
    )
    audit.record(con, "user2", "review.decide", "crm:C2", {"verdict": "no-match"})
    audit.record(con, "user3", "review.decide", "crm:C3", {"verdict": "no-match"})
    assert audit.verify(con).ok  # consistent without the anchor: a chain without a secret cannot tell
    res = audit.verify(con, anchor=anchor)
    con.close()
    assert res.problems == [
        (f"entry 3 does not have the anchored hash {anchor[2:14]}...: the chain up to it was rewritten")
    ]


def test_an_entry_committed_without_its_head_update_is_a_warning_only(wh: Path) -> None:
    _fill(wh, 3)
    head = (wh / audit.HEAD_FILE).read_text()
    _fill(wh, 1)
    (wh / audit.HEAD_FILE).write_text(head)  # as if the writer died between commit and head update
    res = _verify(wh)
    assert res.ok and res.warnings and "entries 4-4" in res.warnings[0]


def test_record_refuses_bad_actions_and_details_and_keeps_caller_changes_atomic(wh: Path) -> None:
    con = control.connect(wh)
    with pytest.raises(audit.AuditError, match="dotted lower case"):
        audit.record(con, "a", "DROP TABLE", "", {})
    with pytest.raises(audit.AuditError, match="plain JSON"):
        audit.record(con, "a", "export", "", {"x": float("nan")})
    with pytest.raises(audit.AuditError, match="larger than"):
        audit.record(con, "a", "export", "", {"x": "y" * (audit.MAX_DETAIL + 1)})
    assert audit.entries(con) == []
    con.execute("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
    con.execute("INSERT INTO probe VALUES (2)")
    with pytest.raises(audit.AuditError):
        audit.record(con, "a", "export", "f.csv", {"bad": object()})
    con.execute("INSERT INTO probe VALUES (1)")  # the change whose entry failed was rolled back
    audit.record(con, "a", "export", "f.csv", {"rows": 1})
    con.close()
    con = control.connect(wh)
    assert [tuple(r) for r in con.execute("SELECT x FROM probe").fetchall()] == [(1,)]
    assert [e.action for e in audit.entries(con)] == ["export"]
    con.close()


def test_concurrent_writers_keep_one_chain(wh: Path) -> None:
    import threading

    def work(k: int) -> None:
        con = control.connect(wh)
        for i in range(10):
            audit.record(con, f"w{k}", "sql.query", "", {"i": i})
        con.close()

    control.connect(wh).close()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    res = _verify(wh)
    assert res.ok and res.entries == 40 and not res.warnings


# --- mdm audit ---------------------------------------------------------------------------------------

cli = CliRunner()


@pytest.fixture
def config(tmp_path: Path, wh: Path) -> Path:
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


def test_cli_verify_list_head(config: Path, wh: Path) -> None:
    _fill(wh, 4)
    res = cli.invoke(app, ["audit", "verify", "--config", str(config)])
    assert res.exit_code == 0, res.output
    assert "audit log OK: 4 entries" in res.output
    head = cli.invoke(app, ["audit", "head", "--config", str(config)]).output.strip()
    assert head.startswith("4:") and len(head) == 66
    res = cli.invoke(app, ["audit", "verify", "--config", str(config), "--anchor", head])
    assert res.exit_code == 0, res.output
    res = cli.invoke(app, ["audit", "list", "--config", str(config), "--json", "--limit", "2"])
    lines = [json.loads(ln) for ln in res.output.splitlines()]
    assert [x["id"] for x in lines] == [4, 3] and lines[0]["actor"] == "user4"
    con = _raw(wh)
    con.execute("DELETE FROM audit_log WHERE id = 2")
    con.commit()
    con.close()
    res = cli.invoke(app, ["audit", "verify", "--config", str(config)])
    assert res.exit_code == 1
    assert "entry 2 missing (deleted)" in res.output and "FAILED" in res.output and "Traceback" not in res.output


def test_cli_on_a_warehouse_without_a_store_is_a_clear_error(config: Path) -> None:
    res = cli.invoke(app, ["audit", "verify", "--config", str(config)])
    assert res.exit_code == 1 and "no control store" in res.output
    res = cli.invoke(app, ["audit", "verify", "--config", str(config).replace("mdm.yaml", "nope.yaml")])
    assert res.exit_code == 1 and "Traceback" not in res.output


def test_record_at_opens_the_store_of_a_warehouse(wh: Path) -> None:
    assert audit.record_at(wh, "system", audit.RUN_START, "20261130T010203040506-abcdef", {"full": True}) == 1
    assert audit.record_at(wh, "system", audit.RUN_PUBLISH, "20261130T010203040506-abcdef", {"golden": 10}) == 2
    res = _verify(wh)
    assert res.ok and res.entries == 2


def test_every_audit_command_has_an_example() -> None:
    for cmd in ("verify", "list", "head"):
        res = cli.invoke(app, ["audit", cmd, "--help"])
        assert res.exit_code == 0 and "Example:" in res.output and f"mdm audit {cmd}" in res.output
