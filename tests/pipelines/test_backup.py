"""``mdm backup`` / ``mdm restore`` on a small hand-built warehouse: owner-only archives with a manifest,
refusal of corrupted, truncated, tampered and hostile archives (path traversal, links, sizes), refusal
while a run publishes, a concurrent audit writer during backup, and an undo when a restore fails
part-way. The full round trip on a generated sample run is in test_backup_roundtrip.py."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
import threading
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from pipelines import audit, control, restore, users
from pipelines.backup import FORMAT, FORMAT_V1, BackupError, backup
from pipelines.cli import app
from pipelines.warehouse import FIXED_LINKS, Warehouse

RUN = "20261130T010203040506-abcdef"
RUN2 = "20261130T020203040506-fedcba"
PW = "a long enough secret"


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))


def make_warehouse(root: Path, run_id: str = RUN, value: str = "one", legacy: bool = False) -> Path:
    """A published warehouse as a run leaves it: snapshot folder with database, parquet and docs, the
    ``current`` link and the fixed links, raw. ``legacy``: the older layout (a plain mdm.duckdb file,
    parquet/docs pointing straight into the snapshot)."""
    root.mkdir(parents=True, exist_ok=True)
    snap = root / "snapshots" / run_id
    snap.mkdir(parents=True)
    db = root / "mdm.duckdb" if legacy else snap / "mdm.duckdb"
    if legacy:
        db.unlink(missing_ok=True)  # a publish replaced the database file
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE golden_organization (golden_id VARCHAR, legal_name VARCHAR)")
    con.execute("INSERT INTO golden_organization VALUES ('G1', ?)", [value])
    con.execute("CREATE TABLE run_log (run_id VARCHAR, stage VARCHAR, status VARCHAR, finished_at TIMESTAMP)")
    con.execute("INSERT INTO run_log VALUES (?, 'publish', 'success', now())", [run_id])
    con.close()
    (snap / "parquet").mkdir(parents=True)
    (snap / "docs" / "_results").mkdir(parents=True)
    (snap / "parquet" / "golden_organization.parquet").write_bytes(f"parquet {value}".encode())
    (snap / "docs" / "index.html").write_text(f"<html>{value}</html>")
    (snap / "docs" / "_results" / ".ge_store_backend_id").write_text("id")
    links = (
        {n: f"snapshots/{run_id}/{n}" for n in ("parquet", "docs")}
        if legacy
        else {"current": f"snapshots/{run_id}", **FIXED_LINKS}
    )
    for name, target in links.items():
        link = root / name
        if link.is_symlink():
            link.unlink()
        link.symlink_to(target)
    landing = root / "raw" / "crm" / f"load={run_id}" / "organization"
    landing.mkdir(parents=True)
    (landing / "part-00000.parquet").write_bytes(f"raw {value}".encode())
    return root


LINK_NAMES = ("current", "mdm.duckdb", "parquet", "docs")


def _kind(path: Path) -> str | None:
    """A link's target, or what else is there."""
    if path.is_symlink():
        return os.readlink(path)
    return "file" if path.is_file() else ("folder" if path.is_dir() else None)


def state(root: Path) -> dict:
    """Everything a restore must bring back, as comparable values."""
    con = duckdb.connect(str(root / "mdm.duckdb"), read_only=True)
    golden = con.execute("SELECT * FROM golden_organization ORDER BY ALL").fetchall()
    con.close()
    files = {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and p.parts[len(root.parts)] in ("snapshots", "raw")
    }
    files["(published database)"] = hashlib.sha256((root / "mdm.duckdb").read_bytes()).hexdigest()
    c = control.connect(root)
    try:
        u = users.list_users(c)
        log = [(e.id, e.action, e.subject, e.hash) for e in reversed(audit.entries(c, limit=10_000))]
    finally:
        c.close()
    return {
        "golden": golden,
        "files": files,
        "links": {n: _kind(root / n) for n in LINK_NAMES},
        "users": u,
        "audit": log,
    }


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    root = make_warehouse(tmp_path / "wh")
    con = control.connect(root)
    users.add_user(con, "alice", PW, "steward")
    audit.record(con, "alice", audit.EXPORT, "golden.csv", {"rows": 1})
    con.close()
    return root


def test_backup_then_restore_brings_back_every_part(wh: Path, tmp_path: Path) -> None:
    before = state(wh)
    out = tmp_path / "b.tar.gz"
    res = backup(wh, out, actor="os:test")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert res.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    with tarfile.open(out) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("MANIFEST.json").read())
        assert names[0] == "MANIFEST.json"
        for f in manifest["files"]:  # an independent recount of the sums
            assert hashlib.sha256(tar.extractfile("warehouse/" + f["path"]).read()).hexdigest() == f["sha256"]
    assert {f["path"] for f in manifest["files"]} == {
        f"snapshots/{RUN}/mdm.duckdb",
        "control.db",
        "control.audit-head.json",
        f"raw/crm/load={RUN}/organization/part-00000.parquet",
        f"snapshots/{RUN}/parquet/golden_organization.parquet",
        f"snapshots/{RUN}/docs/index.html",
        f"snapshots/{RUN}/docs/_results/.ge_store_backend_id",
    }
    assert manifest["format"] == FORMAT and manifest["run_id"] == RUN
    assert manifest["links"] == {"current": f"snapshots/{RUN}", **FIXED_LINKS}
    assert not any(p.name.startswith(".backup-") for p in wh.iterdir())
    # the backup itself is audited in the live log, after the snapshot
    c = control.connect(wh)
    assert audit.entries(c, limit=1)[0].action == "backup"
    c.close()

    # a later run and user changes
    make_warehouse(wh, RUN2, "two")
    c = control.connect(wh)
    users.set_role(c, "alice", "analyst")
    users.add_user(c, "bob", PW, "auditor")
    c.close()
    assert state(wh) != before

    r = restore.restore(wh, out, actor="os:test")
    after = state(wh)
    assert r.run_id == RUN and r.kept is not None and (r.kept / "control.db").exists()
    assert after["golden"] == before["golden"] == [("G1", "one")]
    assert after["links"] == before["links"] == {"current": f"snapshots/{RUN}", **FIXED_LINKS}
    assert after["files"]["(published database)"] == before["files"]["(published database)"]
    assert {k: v for k, v in after["files"].items() if k.startswith("raw/")} == {
        k: v for k, v in before["files"].items() if k.startswith("raw/")
    }
    assert {k: v for k, v in after["files"].items() if f"snapshots/{RUN}/" in k} == {
        k: v for k, v in before["files"].items() if f"snapshots/{RUN}/" in k
    }
    assert after["users"] == before["users"] == [users.User("alice", "steward", False)]
    assert after["audit"][:-1] == before["audit"] and after["audit"][-1][1] == "restore"
    c = control.connect(wh)
    assert audit.verify(c).ok
    restored_entry = audit.entries(c, limit=1)[0]
    c.close()
    assert restored_entry.detail["sha256"] == res.sha256
    assert restored_entry.detail["replaced_audit_head"]["count"] == len(before["audit"]) + 3
    assert stat.S_IMODE((wh / "mdm.duckdb").stat().st_mode) == 0o600
    assert not any(p.name.startswith(".restore-") for p in wh.iterdir())


def test_backup_refuses_to_overwrite_and_needs_a_published_warehouse(wh: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.tar.gz"
    out.write_text("precious")
    with pytest.raises(BackupError, match="exists already"):
        backup(wh, out)
    assert out.read_text() == "precious"
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackupError, match="no published warehouse"):
        backup(tmp_path / "empty", tmp_path / "c.tar.gz")
    assert not (tmp_path / "c.tar.gz").exists()


def _rewrite(archive: Path, dest: Path, change) -> Path:
    """A copy of ``archive`` with ``change(manifest, members)`` applied (members: name -> bytes)."""
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("MANIFEST.json").read())
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.name != "MANIFEST.json"}
    extra = change(manifest, members) or []
    with tarfile.open(dest, "w:gz") as tar:
        body = json.dumps(manifest).encode()
        info = tarfile.TarInfo("MANIFEST.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isreg() else None)
    return dest


@pytest.fixture
def archive(wh: Path, tmp_path: Path) -> Path:
    out = tmp_path / "b.tar.gz"
    backup(wh, out)
    c = control.connect(wh)
    users.add_user(c, "carol", PW, "analyst")  # the live state differs from the archive
    c.close()
    return out


def _refused(wh: Path, archive: Path, match: str, **kw) -> None:
    before = state(wh)
    with pytest.raises(BackupError, match=match):
        restore.restore(wh, archive, **kw)
    assert state(wh) == before
    assert not any(p.name.startswith(".restore-") for p in wh.iterdir())


def test_a_corrupted_archive_is_refused_and_nothing_changes(wh: Path, archive: Path, tmp_path: Path) -> None:
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(bytes(data))
    _refused(wh, bad, "corrupted")
    short = tmp_path / "short.tar.gz"
    short.write_bytes(archive.read_bytes()[: len(data) // 2])
    _refused(wh, short, "corrupted or truncated")
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive at all")
    _refused(wh, junk, "corrupted")


def test_a_member_that_differs_from_its_sum_is_refused(wh: Path, archive: Path, tmp_path: Path) -> None:
    def tamper(manifest, members):
        name = f"warehouse/snapshots/{RUN}/parquet/golden_organization.parquet"
        members[name] = b"parquet ONE"  # same length, other bytes

    _refused(wh, _rewrite(archive, tmp_path / "t.tar.gz", tamper), "golden_organization.parquet is corrupted")

    def drop(manifest, members):
        del members[f"warehouse/raw/crm/load={RUN}/organization/part-00000.parquet"]

    _refused(wh, _rewrite(archive, tmp_path / "d.tar.gz", drop), "incomplete: 1 file")


def test_an_archive_whose_audit_log_was_tampered_is_refused(wh: Path, archive: Path, tmp_path: Path) -> None:
    def tamper(manifest, members):
        import sqlite3

        p = tmp_path / "c.db"
        p.write_bytes(members["warehouse/control.db"])
        con = sqlite3.connect(p)
        con.execute("DROP TRIGGER audit_log_no_delete")
        con.execute("DELETE FROM audit_log WHERE id = 1")
        con.commit()
        con.close()
        members["warehouse/control.db"] = p.read_bytes()
        f = next(f for f in manifest["files"] if f["path"] == "control.db")
        f["size"], f["sha256"] = p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest()

    _refused(wh, _rewrite(archive, tmp_path / "a.tar.gz", tamper), "audit log fails verification: entry 1 missing")


@pytest.mark.parametrize(
    "evil",
    [
        "../../evil.txt",
        "/tmp/evil.txt",
        "raw/../../evil.txt",
        "snapshots/x/../../e",
        "control.db/../../evil",
        "notes.txt",
        "raw/crm/evil.txt",
        "mdm.duckdb",
        f"snapshots/{RUN}/mdm.duckdb.wal",
        f"snapshots/{RUN2}/mdm.duckdb",
        f"snapshots/{RUN}/notes.txt",
    ],
)
def test_paths_outside_the_layout_are_refused(wh: Path, archive: Path, tmp_path: Path, evil: str) -> None:
    def add(manifest, members):
        manifest["files"].append({"path": evil, "size": 1, "sha256": hashlib.sha256(b"x").hexdigest()})
        members["warehouse/" + evil] = b"x"

    _refused(wh, _rewrite(archive, tmp_path / "e.tar.gz", add), "outside the warehouse layout")
    assert not (tmp_path / "evil.txt").exists() and not (wh.parent.parent / "evil.txt").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.DIRTYPE])
def test_links_devices_and_unlisted_members_are_refused(wh: Path, archive: Path, tmp_path: Path, kind) -> None:
    def add(manifest, members):
        info = tarfile.TarInfo(f"warehouse/raw/crm/load={RUN}/organization/evil")
        info.type, info.linkname = kind, "/etc/passwd"
        return [info]

    _refused(wh, _rewrite(archive, tmp_path / "l.tar.gz", add), "not a regular file")

    def unlisted(manifest, members):
        info = tarfile.TarInfo("warehouse/../../evil.txt")
        info.size = 1
        return [info]

    _refused(wh, _rewrite(archive, tmp_path / "u.tar.gz", unlisted), "not listed in the manifest")
    assert not (tmp_path.parent / "evil.txt").exists()


def test_size_limits(wh: Path, archive: Path, tmp_path: Path) -> None:
    _refused(wh, archive, "more than the limit of 1,000", max_bytes=1000)

    def lie(manifest, members):
        f = next(f for f in manifest["files"] if f["path"] == f"snapshots/{RUN}/mdm.duckdb")
        f["size"] = 10  # the member is far larger than the manifest says

    _refused(wh, _rewrite(archive, tmp_path / "s.tar.gz", lie), "mdm.duckdb has .* bytes, the manifest says 10")

    def bomb(manifest, members):
        manifest["files"].append({"path": f"raw/crm/load={RUN}/x/huge", "size": 1 << 50, "sha256": "0" * 64})

    _refused(wh, _rewrite(archive, tmp_path / "h.tar.gz", bomb), "more than the limit")

    def foreign(manifest, members):
        manifest["format"] = "zip-of-anything"

    _refused(wh, _rewrite(archive, tmp_path / "f.tar.gz", foreign), f"format must be {FORMAT}")


def test_restore_refuses_while_a_run_is_publishing(wh: Path, archive: Path) -> None:
    held, release = threading.Event(), threading.Event()

    def publisher() -> None:
        with Warehouse(wh).lock():
            held.set()
            release.wait(10)

    t = threading.Thread(target=publisher)
    t.start()
    held.wait(10)
    try:
        _refused(wh, archive, "a run is publishing")
    finally:
        release.set()
        t.join()
    restore.restore(wh, archive)  # once the run is done it goes through


def test_backup_while_an_audit_writer_appends(wh: Path, tmp_path: Path) -> None:
    stop = threading.Event()

    def writer() -> None:
        c = control.connect(wh)
        i = 0
        while not stop.is_set() and i < 2000:
            audit.record(c, "w", audit.SQL_QUERY, "", {"i": i})
            i += 1
        c.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        outs = [backup(wh, tmp_path / f"b{i}.tar.gz") for i in range(3)]
    finally:
        stop.set()
        t.join()
    for o in outs:  # each archive's chain is whole and ends at its manifest's head (checked by restore)
        restore.restore(wh, o.archive)
        c = control.connect(wh)
        assert audit.verify(c).ok
        assert len(audit.entries(c, limit=100_000)) == o.audit_entries + 1
        c.close()


def test_a_failure_part_way_is_undone(wh: Path, archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(root, new):
        raise OSError("disk on fire")

    monkeypatch.setattr(restore, "_restore_control", boom)
    _refused(wh, archive, "failed and was undone: disk on fire")


def test_cli_backup_and_restore(wh: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "mdm.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "warehouse": str(wh),
                "sources": [{"name": "crm", "format": "companies_house_csv", "path": str(tmp_path / "x.csv")}],
            }
        ),
        encoding="utf-8",
    )
    cli = CliRunner()
    out = tmp_path / "cli.tar.gz"
    res = cli.invoke(app, ["backup", "--config", str(cfg), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert hashlib.sha256(out.read_bytes()).hexdigest() in res.output
    res = cli.invoke(app, ["backup", "--config", str(cfg), "--out", str(out)])
    assert res.exit_code == 1 and "exists already" in res.output and "Traceback" not in res.output
    res = cli.invoke(app, ["restore", "--config", str(cfg), "--from", str(out)], input="n\n")
    assert res.exit_code == 1
    res = cli.invoke(app, ["restore", "--config", str(cfg), "--from", str(out), "--yes"])
    assert res.exit_code == 0, res.output
    assert "restored" in res.output
    res = cli.invoke(app, ["restore", "--config", str(cfg), "--from", str(tmp_path / "nope.tar.gz"), "--yes"])
    assert res.exit_code == 1 and "no archive" in res.output
    for cmd in ("backup", "restore"):
        h = cli.invoke(app, [cmd, "--help"]).output
        assert "Example:" in h and f"mdm {cmd}" in h


def test_restore_into_a_new_folder_recovers_everything(wh: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.tar.gz"
    before = state(wh)
    backup(wh, out)
    fresh = tmp_path / "new-machine" / "wh"
    res = restore.restore(fresh, out, actor="os:ops")
    assert res.kept is None
    after = state(fresh)
    assert after["golden"] == before["golden"] and after["links"] == before["links"]
    assert after["files"] == before["files"] and after["users"] == before["users"]
    assert after["audit"][:-1] == before["audit"]
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    assert stat.S_IMODE((fresh / "raw").stat().st_mode) == 0o700
    assert stat.S_IMODE((fresh / "control.db").stat().st_mode) == 0o600
    c = control.connect(fresh)
    assert users.authenticate(c, "alice", PW).role == "steward"
    assert audit.verify(c).ok
    c.close()


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    """A warehouse in the layout from before the current link, as an older version left it."""
    root = make_warehouse(tmp_path / "old-wh", legacy=True)
    con = control.connect(root)
    users.add_user(con, "alice", PW, "steward")
    con.close()
    return root


def test_a_warehouse_in_the_older_layout_is_backed_up_and_restored_in_the_current_one(
    legacy: Path, tmp_path: Path
) -> None:
    before = state(legacy)
    assert before["links"] == {
        "current": None,
        "mdm.duckdb": "file",
        "parquet": f"snapshots/{RUN}/parquet",
        "docs": f"snapshots/{RUN}/docs",
    }
    out = tmp_path / "old.tar.gz"
    res = backup(legacy, out)
    assert res.run_id == RUN
    with tarfile.open(out) as tar:
        manifest = json.loads(tar.extractfile("MANIFEST.json").read())
    assert manifest["format"] == FORMAT and manifest["links"] == {"current": f"snapshots/{RUN}", **FIXED_LINKS}
    assert f"snapshots/{RUN}/mdm.duckdb" in {f["path"] for f in manifest["files"]}

    fresh = restore.restore(tmp_path / "fresh", out)
    assert fresh.run_id == RUN
    after = state(tmp_path / "fresh")
    assert after["links"] == {"current": f"snapshots/{RUN}", **FIXED_LINKS}
    assert after["golden"] == before["golden"] and after["users"] == before["users"]
    assert {k: v for k, v in after["files"].items() if k != f"snapshots/{RUN}/mdm.duckdb"} == before["files"]

    restore.restore(legacy, out)  # in place: the older layout is migrated, the plain database file replaced
    after = state(legacy)
    assert after["links"] == {"current": f"snapshots/{RUN}", **FIXED_LINKS}
    assert after["golden"] == before["golden"] and after["users"] == before["users"]
    assert (legacy / "snapshots" / RUN / "mdm.duckdb").is_file() and (legacy / "mdm.duckdb").is_symlink()
    assert Warehouse(legacy).latest_run() == RUN


def test_a_failure_part_way_restores_the_older_layout_as_it_was(
    legacy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "b.tar.gz"
    backup(legacy, out)

    def boom(root, new):
        raise OSError("disk on fire")

    monkeypatch.setattr(restore, "_restore_control", boom)
    _refused(legacy, out, "failed and was undone: disk on fire")
    assert not (legacy / "current").is_symlink() and not (legacy / "mdm.duckdb").is_symlink()


def test_an_archive_of_format_1_is_restored_in_the_current_layout(wh: Path, archive: Path, tmp_path: Path) -> None:
    before = state(wh)

    def v1(manifest, members):  # an archive as the version before the current link wrote it
        manifest["format"] = FORMAT_V1
        manifest["links"] = {n: f"snapshots/{RUN}/{n}" for n in ("parquet", "docs")}
        next(f for f in manifest["files"] if f["path"] == f"snapshots/{RUN}/mdm.duckdb")["path"] = "mdm.duckdb"
        members["warehouse/mdm.duckdb"] = members.pop(f"warehouse/snapshots/{RUN}/mdm.duckdb")

    old = _rewrite(archive, tmp_path / "v1.tar.gz", v1)
    restore.restore(tmp_path / "fresh", old)
    after = state(tmp_path / "fresh")
    assert after["links"] == {"current": f"snapshots/{RUN}", **FIXED_LINKS}
    assert after["golden"] == before["golden"] and after["files"] == before["files"]

    def misplaced(manifest, members):  # format 2 keeps the database in the snapshot folder only
        v1(manifest, members)
        manifest["format"] = FORMAT
        manifest["links"] = {"current": f"snapshots/{RUN}", **FIXED_LINKS}

    _refused(wh, _rewrite(archive, tmp_path / "m.tar.gz", misplaced), "outside the warehouse layout")


@pytest.mark.parametrize(
    "links",
    [
        {"current": "/etc", **FIXED_LINKS},
        {"current": f"snapshots/{RUN}/../../..", **FIXED_LINKS},
        {"current": f"snapshots/{RUN2}", **FIXED_LINKS},
        {"current": f"snapshots/{RUN}", **FIXED_LINKS, "mdm.duckdb": "/etc/passwd"},
        {"current": f"snapshots/{RUN}", **FIXED_LINKS, "evil": "current/parquet"},
        {"parquet": f"snapshots/{RUN}/parquet"},
    ],
)
def test_links_other_than_the_layout_are_refused(wh: Path, archive: Path, tmp_path: Path, links) -> None:
    def change(manifest, members):
        manifest["links"] = links

    _refused(wh, _rewrite(archive, tmp_path / "k.tar.gz", change), "manifest links must be")


def test_backup_refuses_a_current_link_outside_the_snapshots(wh: Path, tmp_path: Path) -> None:
    (wh / "current").unlink()
    (wh / "current").symlink_to(tmp_path)
    with pytest.raises(BackupError, match="not to snapshots/<run_id>"):
        backup(wh, tmp_path / "b.tar.gz")
    assert not (tmp_path / "b.tar.gz").exists()
