"""``mdm restore``: put a warehouse and its control store back to the state of an ``mdm backup`` archive.

Order of work, so that a bad archive or a busy warehouse changes nothing:

1. take the warehouse lock without waiting: a run that is publishing (or another restore) makes the
   restore refuse at once, and no run can publish until it has finished;
2. read the archive as a stream into a private folder inside the warehouse (same file system, so the
   final moves are renames): ``MANIFEST.json`` must come first; every member must be a regular file
   whose name the manifest lists, inside the known layout (no ``..``, no absolute path, no link or
   device), no larger than the manifest says; every sha256 must match; nothing may be missing; the total
   must fit the size limit and the free disk space;
3. check what was unpacked: the database opens, the control store passes SQLite's integrity check and
   its audit chain verifies against the archived head;
4. swap: the snapshot folder ``snapshots/<run_id>/`` (database, Parquet, Data Docs) and ``raw/`` by
   renames, then ``current -> snapshots/<run_id>`` and the fixed links ``mdm.duckdb``, ``parquet``,
   ``docs -> current/...`` by atomic renames of fresh symlinks (a warehouse still in the older layout,
   with a plain ``mdm.duckdb`` file, is migrated so), and the control store with SQLite's online backup
   API (readers keep working); a failure part-way undoes the steps already taken, the plain database
   file of an older layout included. The control store being replaced is kept in
   ``<warehouse>/.pre-restore/<time>/`` (the audit entries written after the backup are evidence);
5. record the restore in the restored audit log (archive sha256, the replaced log's head).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import tarfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, cast

import duckdb

from pipelines import audit, control
from pipelines.backup import (
    CHUNK,
    FORMAT,
    FORMAT_V1,
    LINKS,
    MANIFEST,
    PREFIX,
    BackupError,
    backup_control,
    private_dir,
    sha256_file,
    snapshot_links,
    stamp,
)
from pipelines.sqlrow import one_row
from pipelines.warehouse import DB_NAME, RUN_ID, Warehouse

MAX_MANIFEST = 64 << 20
MAX_FILES = 2_000_000
MAX_TOTAL = 1 << 40  # 1 TiB unpacked
NAME = re.compile(r"^[^\x00-\x1f\x7f/\\]{1,255}$")  # one path part: no control character, no separator
TOP_FILES = (control.CONTROL_DB, audit.HEAD_FILE)  # and, in format 1 only, DB_NAME
HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class RestoreResult:
    run_id: str | None
    files: int
    bytes: int
    audit_entries: int
    kept: Path | None


def _allowed(rel: str, run_id: str, v1: bool = False) -> bool:
    """Whether ``rel`` (relative to the warehouse) is a path a backup (of format 1 when ``v1``) can hold."""
    if len(rel) > 4096 or "\\" in rel or "\x00" in rel:
        return False
    parts = PurePosixPath(rel).parts
    if not parts or rel.startswith("/") or any(p in ("", ".", "..") or not NAME.match(p) for p in parts):
        return False
    if len(parts) == 1:
        return parts[0] in TOP_FILES or (v1 and parts[0] == DB_NAME)
    if parts[0] == "snapshots":
        if len(parts) == 3 and not v1:
            return parts[1] == run_id and parts[2] == DB_NAME
        return len(parts) >= 4 and parts[1] == run_id and parts[2] in LINKS
    if parts[0] == "raw":
        return len(parts) >= 4 and parts[2].startswith("load=") and bool(RUN_ID.match(parts[2][5:]))
    return False


def check_manifest(manifest: Any, max_bytes: int) -> dict[str, dict[str, Any]]:
    """The files a valid manifest lists, by path; raises BackupError naming the first problem."""
    if not isinstance(manifest, dict) or manifest.get("format") not in (FORMAT, FORMAT_V1):
        raise BackupError(f"not an mdm backup manifest (format must be {FORMAT} or {FORMAT_V1})")
    v1 = manifest["format"] == FORMAT_V1
    run_id = manifest.get("run_id")
    if run_id is None:
        raise BackupError("the archive holds no published snapshot (its manifest names no run id): refused")
    if not (isinstance(run_id, str) and RUN_ID.match(run_id)):
        raise BackupError(f"manifest names an invalid run id {str(run_id)[:80]!r}")
    links = manifest.get("links") or {}
    if v1:
        if not isinstance(links, dict) or any(
            k not in LINKS or v != f"snapshots/{run_id}/{k}" for k, v in links.items()
        ):
            raise BackupError("manifest links must point parquet/docs into snapshots/<its run id>/")
    elif links != snapshot_links(run_id):
        raise BackupError(
            "manifest links must be current -> snapshots/<its run id> and mdm.duckdb, parquet, docs -> current/..."
        )
    files = manifest.get("files")
    if not isinstance(files, list) or len(files) > MAX_FILES:
        raise BackupError(f"manifest must list at most {MAX_FILES:,} files")
    out: dict[str, dict[str, Any]] = {}
    for f in files:
        if not (
            isinstance(f, dict)
            and isinstance(f.get("path"), str)
            and isinstance(f.get("size"), int)
            and f["size"] >= 0
            and isinstance(f.get("sha256"), str)
            and HEX64.match(f["sha256"])
        ):
            raise BackupError(f"manifest entry {str(f)[:120]} needs a path, a size and a sha256")
        if not _allowed(f["path"], run_id, v1):
            raise BackupError(f"manifest lists {f['path'][:200]!r}, a path outside the warehouse layout: refused")
        if f["path"] in out:
            raise BackupError(f"manifest lists {f['path']!r} twice")
        out[f["path"]] = f
    if (DB_NAME if v1 else f"snapshots/{run_id}/{DB_NAME}") not in out:
        raise BackupError(f"the archive holds no {DB_NAME}")
    total = sum(f["size"] for f in out.values())
    if total > max_bytes:
        raise BackupError(f"the archive unpacks to {total:,} bytes, more than the limit of {max_bytes:,}")
    return out


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, expected: dict[str, Any]) -> None:
    src = tar.extractfile(member)
    if src is None:
        raise BackupError(f"archive member {member.name} cannot be read")
    private_dir(dest.parent)
    h, n = hashlib.sha256(), 0
    fd = os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := src.read(CHUNK):
            n += len(chunk)
            if n > expected["size"]:
                raise BackupError(f"archive member {member.name} is larger than the manifest says: refused")
            h.update(chunk)
            out.write(chunk)
    if n != expected["size"] or h.hexdigest() != expected["sha256"]:
        raise BackupError(f"archive member {member.name} is corrupted: its sha256 differs from the manifest")


def unpack(archive: Path, dest: Path, max_bytes: int = MAX_TOTAL) -> dict[str, Any]:
    """Check and unpack ``archive`` into ``dest`` (which must be empty); returns the manifest."""
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isreg() or first.size > MAX_MANIFEST:
                raise BackupError(f"{archive} is not an mdm backup: it must start with {MANIFEST}")
            fh = tar.extractfile(first)
            try:
                manifest = json.loads(fh.read(MAX_MANIFEST + 1)) if fh else None
            except ValueError as e:
                raise BackupError(f"{MANIFEST} in {archive} is not valid JSON: {e}") from None
            expected = check_manifest(manifest, max_bytes)
            need = sum(f["size"] for f in expected.values())
            free = shutil.disk_usage(dest).free
            if need > free:
                raise BackupError(f"the archive unpacks to {need:,} bytes; only {free:,} are free beside the warehouse")
            seen: set[str] = set()
            while (member := tar.next()) is not None:
                rel = member.name[len(PREFIX) :] if member.name.startswith(PREFIX) else None
                if not member.isreg():
                    raise BackupError(
                        f"archive member {member.name[:200]!r} is not a regular file (a link, device "
                        "or folder): refused"
                    )
                if rel is None or rel not in expected or rel in seen:
                    raise BackupError(
                        f"archive member {member.name[:200]!r} is not listed in the manifest (or comes twice): refused"
                    )
                if member.size != expected[rel]["size"]:
                    raise BackupError(
                        f"archive member {member.name} has {member.size:,} bytes, the manifest says "
                        f"{expected[rel]['size']:,}: refused"
                    )
                seen.add(rel)
                _write_member(tar, member, dest / rel, expected[rel])
    except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
        raise BackupError(f"{archive} is corrupted or truncated: {e}") from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(
            f"{archive} is incomplete: {len(missing)} file(s) of the manifest are missing, e.g. {missing[0]}"
        )
    return cast(dict[str, Any], manifest)  # check_manifest accepted it, so it is a dict


def normalise(new: Path, manifest: dict[str, Any]) -> Path:
    """The unpacked snapshot folder, with the database inside it (where format 1 kept it at the top)."""
    snap = private_dir(new / "snapshots" / manifest["run_id"])
    if manifest["format"] == FORMAT_V1:
        os.rename(new / DB_NAME, snap / DB_NAME)
    return snap


def check_unpacked(new: Path, manifest: dict[str, Any]) -> None:
    """The unpacked database opens and the control store is sound, its audit chain intact."""
    try:
        con = duckdb.connect(str(new / "snapshots" / manifest["run_id"] / DB_NAME), read_only=True)
        con.execute("SELECT count(*) FROM information_schema.tables").fetchone()
        con.close()
    except duckdb.Error as e:
        raise BackupError(f"the archived {DB_NAME} does not open: {e}") from None
    if not (new / control.CONTROL_DB).exists():
        return
    try:
        ctl = sqlite3.connect(f"file:{(new / control.CONTROL_DB).as_posix()}?mode=ro", uri=True)
        try:
            if one_row(ctl.execute("PRAGMA integrity_check"))[0] != "ok":
                raise BackupError("the archived control store fails SQLite's integrity check")
            has_log = one_row(ctl.execute("SELECT count(*) FROM sqlite_master WHERE name = 'audit_log'"))[0]
            res = audit.verify(ctl) if has_log else None
        finally:
            ctl.close()
    except sqlite3.Error as e:
        raise BackupError(f"the archived control store cannot be read: {e}") from None
    if res is not None and not res.ok:
        raise BackupError("the archived audit log fails verification: " + "; ".join(res.problems[:3]))
    head = manifest.get("audit")
    if res is not None and head and (head.get("count"), head.get("hash")) != (res.entries, res.head):
        raise BackupError("the archived audit log does not end at the head the manifest records")


@contextmanager
def refuse_if_busy(wh: Warehouse) -> Iterator[None]:
    """The warehouse lock (the one a run takes to publish), taken without waiting."""
    private_dir(wh.root)
    fd = os.open(wh.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"a run is publishing to {wh.root} (its lock is held): nothing was restored; "
                "try again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _swap_link(root: Path, name: str, target: str | None) -> None:
    link = root / name
    if target is None:
        if link.is_symlink():
            link.unlink()
        return
    tmp = root / f".{name}-restore"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target)
    os.replace(tmp, link)


def _restore_control(root: Path, new: Path) -> None:
    """Replace the live control store's content with the archived one (online backup API), and its head."""
    src_path = new / control.CONTROL_DB
    if not src_path.exists():
        sqlite3.connect(src_path).close()  # the backup had no store: restore an empty one
    store = control.control_path(root)
    dst = control.connect(root)
    src = sqlite3.connect(src_path)
    try:
        with audit.append_lock(store):
            src.backup(dst)
            head = audit.head_path(store)
            if (new / audit.HEAD_FILE).exists():
                shutil.copy2(new / audit.HEAD_FILE, head.with_name(head.name + ".tmp"))
                os.chmod(head.with_name(head.name + ".tmp"), 0o600)
                os.replace(head.with_name(head.name + ".tmp"), head)
            elif head.exists():
                head.unlink()
    finally:
        src.close()
        dst.close()


def _put_back(dest: Path, aside: Path, had: bool) -> None:
    if dest.is_dir() and not dest.is_symlink():
        shutil.rmtree(dest)
    elif dest.is_symlink() or dest.exists():
        dest.unlink()
    if had:
        os.rename(aside, dest)


def _replace_path(new_path: Path, dest: Path, aside: Path, undo: list[Callable[[], None]]) -> None:
    """Move ``dest`` aside (when there) and ``new_path`` (when there) into its place, by renames."""
    had = dest.exists()
    if had:
        os.rename(dest, aside)
    undo.append(lambda: _put_back(dest, aside, had))
    if new_path.exists():
        os.rename(new_path, dest)


def _set_link(root: Path, name: str, target: str, aside: Path, undo: list[Callable[[], None]]) -> None:
    """Point ``root/name`` at ``target`` by an atomic rename of a fresh symlink; registers how to undo it.

    A plain file there (the database of the older layout) is kept by a hard link in ``aside`` first, so
    the name never disappears and the undo puts the very file back; a folder is moved aside."""
    path = root / name
    if path.is_symlink():
        before = os.readlink(path)
        if before == target:
            return
        _swap_link(root, name, target)
        undo.append(lambda: _swap_link(root, name, before))
    elif path.is_dir():
        os.rename(path, aside)
        undo.append(lambda: _put_back(path, aside, True))
        _swap_link(root, name, target)
    elif path.exists():
        os.link(path, aside)
        undo.append(lambda: os.replace(aside, path))
        _swap_link(root, name, target)
    else:
        undo.append(lambda: path.unlink() if path.is_symlink() else None)
        _swap_link(root, name, target)


def _swap(wh: Warehouse, new: Path, old: Path, manifest: dict[str, Any]) -> None:
    """Move the unpacked state into place; on failure undo what was done, newest first."""
    undo: list[Callable[[], None]] = []
    root, run_id = wh.root, manifest["run_id"]
    private_dir(old)
    try:
        private_dir(root / "snapshots")
        _replace_path(new / "snapshots" / run_id, root / "snapshots" / run_id, old / "snapshot", undo)
        _replace_path(new / "raw", root / "raw", old / "raw", undo)
        for name, target in snapshot_links(run_id).items():  # current first: the one switch readers follow
            _set_link(root, name, target, old / f"link-{name}", undo)
        _restore_control(root, new)
    except BaseException:
        for step in reversed(undo):
            with contextlib.suppress(OSError):
                step()
        raise


def restore(warehouse: Path, archive: Path, *, actor: str = "system", max_bytes: int = MAX_TOTAL) -> RestoreResult:
    """Restore ``warehouse`` from ``archive`` (see the module docstring); refuses a bad archive or a busy warehouse."""
    wh, archive = Warehouse(Path(warehouse)), Path(archive)
    if not archive.is_file():
        raise BackupError(f"no archive at {archive}")
    digest = sha256_file(archive)
    with refuse_if_busy(wh):
        work = private_dir(wh.root / f".restore-{stamp()}")
        try:
            new = private_dir(work / "new")
            manifest = unpack(archive, new, max_bytes)
            normalise(new, manifest)
            check_unpacked(new, manifest)
            kept, replaced = None, None
            if control.control_path(wh.root).exists():
                kept = private_dir(wh.root / ".pre-restore" / stamp())  # every new level owner-only
                replaced = backup_control(wh.root, kept)
            try:
                _swap(wh, new, work / "old", manifest)
            except (OSError, sqlite3.Error) as e:
                if kept is not None:
                    shutil.rmtree(kept, ignore_errors=True)
                raise BackupError(f"restore of {wh.root} failed and was undone: {e}") from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
    con = control.connect(wh.root)
    try:
        head = manifest.get("audit") or {"count": 0}
        audit.record(
            con,
            actor,
            audit.RESTORE,
            str(archive.resolve()),
            {
                "sha256": digest,
                "backup_created_at": manifest.get("created_at"),
                "run_id": manifest.get("run_id"),
                "audit_head": manifest.get("audit"),
                "replaced_audit_head": None if replaced is None else {"count": replaced[0], "hash": replaced[1]},
                "replaced_control_store_kept_in": None if kept is None else str(kept),
            },
        )
    finally:
        con.close()
    files = manifest["files"]
    return RestoreResult(manifest.get("run_id"), len(files), sum(f["size"] for f in files), int(head["count"]), kept)
