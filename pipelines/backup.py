"""``mdm backup``: one archive of a warehouse and its control store, with a manifest of sha256 sums.

The archive (tar, gzip) holds ``MANIFEST.json`` first, then under ``warehouse/``:

- ``snapshots/<run_id>/``, the published snapshot: ``mdm.duckdb`` (the database), ``parquet/`` and
  ``docs/`` (Data Docs). The links ``current -> snapshots/<run_id>`` and the fixed ``mdm.duckdb``,
  ``parquet``, ``docs -> current/...`` are recorded in the manifest; the archive holds no link. A warehouse
  still in the older layout (a plain ``mdm.duckdb`` file, ``parquet -> snapshots/<run_id>/parquet``) is
  archived the same way, so a restore brings it back in the current layout;
- ``raw/``, every raw landing (an incremental run starts from the latest ones);
- ``control.db``, the control store (steward decisions, users, audit log), copied with SQLite's online
  backup API while holding the audit append lock, so a concurrent writer is safe and the copied chain
  matches the copied head file ``control.audit-head.json``.

Archives of format ``mdm-backup/1`` (made before the ``current`` link: ``mdm.duckdb`` at the top) can
still be restored.

A publishing run is kept out by the warehouse lock while the published files are linked (or copied)
into a private staging folder; the slow part (hashing, compressing) runs after the lock is released.
The manifest's sums detect corruption and truncation, not a forger who rewrites the manifest too: keep
the archive's own sha256 (printed, and written to the audit log) where that forger cannot reach.
Encryption keys are not in the archive (they live outside the warehouse); back them up separately.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

from pipelines import audit, control
from pipelines.errors import MdmError
from pipelines.warehouse import DB_NAME, FIXED_LINKS, RUN_ID, Warehouse

FORMAT = "mdm-backup/2"
FORMAT_V1 = "mdm-backup/1"  # before the current link: mdm.duckdb at the top, parquet/docs -> snapshots/<run>/
MANIFEST = "MANIFEST.json"
PREFIX = "warehouse/"
CURRENT = "current"
LINKS = ("parquet", "docs")  # the snapshot sub-folders (and, in the old layout, the links into them)
CHUNK = 1 << 20


class BackupError(MdmError):
    """A backup cannot be made or an archive cannot be restored; nothing was changed."""


class ArchivedFile(TypedDict):
    """One file of an archive, as its manifest lists it."""

    path: str  # relative to the archive's data prefix, POSIX separators
    size: int
    sha256: str


@dataclass
class BackupResult:
    archive: Path
    sha256: str
    files: int
    bytes: int
    run_id: str | None
    audit_entries: int


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def private_dir(path: Path) -> Path:
    """``path`` created owner-only, with every missing parent owner-only too."""
    for p in reversed([path, *path.parents]):
        if not p.exists():
            p.mkdir(mode=0o700)
            os.chmod(p, 0o700)  # whatever the umask
    return path


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


def _link_or_copy(src: Path, dest: Path) -> None:
    private_dir(dest.parent)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def snapshot_links(run_id: str) -> dict[str, str]:
    """Every link of a warehouse whose published snapshot is ``run_id``, with its (relative) target."""
    return {CURRENT: f"snapshots/{run_id}", **FIXED_LINKS}


def _published_snapshot(wh: Warehouse) -> tuple[str, Path]:
    """The run id of the published snapshot and its database file.

    The current layout: ``current -> snapshots/<run_id>`` (the one link a publish switches), the database
    in that folder. The older layout: a plain ``mdm.duckdb`` and ``parquet``/``docs`` pointing straight
    into ``snapshots/<run_id>/``. Anything else is refused rather than guessed at."""
    current = wh.root / CURRENT
    if current.is_symlink():
        target = os.readlink(current)
        parts = Path(target).parts
        if len(parts) != 2 or parts[0] != "snapshots" or not RUN_ID.match(parts[1]):
            raise BackupError(f"{current} points to {target!r}, not to snapshots/<run_id>")
        db = wh.root / "snapshots" / parts[1] / DB_NAME
        if db.is_symlink() or not db.is_file():
            raise BackupError(f"the published snapshot has no database file {db}")
        return parts[1], db
    if current.exists():
        raise BackupError(f"{current} is not a symlink: not a warehouse layout mdm knows")
    if not wh.db_path.exists() and not wh.db_path.is_symlink():
        raise BackupError(f"no published warehouse at {wh.db_path}: nothing to back up")
    if wh.db_path.is_symlink() or not wh.db_path.is_file():
        raise BackupError(f"{wh.db_path} is a link but {current} is missing: not a warehouse layout mdm knows")
    run_id = None
    for name in LINKS:
        link = wh.root / name
        if not link.is_symlink():
            continue
        target = os.readlink(link)
        parts = Path(target).parts
        if len(parts) != 3 or parts[0] != "snapshots" or not RUN_ID.match(parts[1]) or parts[2] != name:
            raise BackupError(f"{link} points to {target!r}, not into snapshots/<run_id>/{name}")
        if run_id not in (None, parts[1]):
            raise BackupError(f"parquet and docs point into different snapshots ({run_id}, {parts[1]})")
        run_id = parts[1]
    if run_id is None:
        raise BackupError(
            f"{wh.root} has a database but no published snapshot (no current, parquet or docs link): "
            "run the pipeline once, then back it up"
        )
    return run_id, wh.db_path


def backup_control(wh_root: Path, dest_dir: Path) -> tuple[int, str] | None:
    """Copy the control store with SQLite's online backup API, and its audit head, into ``dest_dir``.

    Holds the audit append lock so the copied chain and head file belong together. Returns the head
    (count, hash) of the copy, or None when the warehouse has no control store yet."""
    store = control.control_path(wh_root)
    if not store.exists():
        return None
    src = control.connect(wh_root)
    try:
        with audit.append_lock(store):
            target = dest_dir / control.CONTROL_DB
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file in the archive
            finally:
                dst.close()
            head = audit.head_path(store)
            if head.exists():
                shutil.copy2(head, dest_dir / audit.HEAD_FILE)
                os.chmod(dest_dir / audit.HEAD_FILE, 0o600)
            row = src.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        src.close()
    return (row[0], row[1]) if row else (0, audit.GENESIS)


def _stage(wh: Warehouse, staging: Path) -> dict[str, Any]:
    """Link the published files into ``staging`` under the warehouse lock; returns manifest metadata."""
    with wh.lock():
        run_id, db = _published_snapshot(wh)
        snap = Path("snapshots") / run_id
        private_dir(staging / snap)
        shutil.copy2(db, staging / snap / DB_NAME)  # copied: a database file is the one thing opened for write
        for name in LINKS:
            folder = wh.root / snap / name
            for p in sorted(folder.rglob("*")) if folder.is_dir() and not folder.is_symlink() else ():
                if p.is_file() and not p.is_symlink():
                    _link_or_copy(p, staging / p.relative_to(wh.root))
        raw = wh.root / "raw"
        if raw.is_dir():
            for p in sorted(raw.rglob("*")):
                if p.is_file() and not p.is_symlink():
                    _link_or_copy(p, staging / p.relative_to(wh.root))
        head = backup_control(wh.root, staging)
    return {
        "run_id": run_id,
        "links": snapshot_links(run_id),
        "audit": None if head is None else {"count": head[0], "hash": head[1]},
    }


def backup(warehouse: Path, out: Path, *, actor: str = "system", force: bool = False) -> BackupResult:
    """Write a verified archive of ``warehouse`` to ``out`` (owner-only) and record it in the audit log."""
    wh = Warehouse(Path(warehouse))
    out = Path(out)
    if out.exists() and not force:
        raise BackupError(f"{out} exists already; choose another name (or --force to replace it)")
    if not out.parent.is_dir():
        raise BackupError(f"folder {out.parent} does not exist")
    if not wh.root.is_dir():
        raise BackupError(f"no warehouse at {wh.root}")
    staging = private_dir(wh.root / f".backup-{stamp()}")
    partial = out.with_name(f".{out.name}.partial")
    try:
        meta = _stage(wh, staging)
        files: list[ArchivedFile] = []
        for p in sorted(x for x in staging.rglob("*") if x.is_file()):
            rel = p.relative_to(staging).as_posix()
            files.append({"path": rel, "size": p.stat().st_size, "sha256": sha256_file(p)})
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "created_by": actor,
            "source": str(wh.root.resolve()),
            **meta,
            "files": files,
        }
        body = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
        fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw_out, tarfile.open(fileobj=raw_out, mode="w:gz", compresslevel=3) as tar:
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(body), 0o600, int(datetime.now(UTC).timestamp())
            tar.addfile(info, io.BytesIO(body))
            for f in files:
                src = staging / f["path"]
                info = tarfile.TarInfo(PREFIX + f["path"])
                info.size, info.mode, info.mtime = f["size"], 0o600, int(src.stat().st_mtime)
                with open(src, "rb") as fh:
                    tar.addfile(info, fh)
            raw_out.flush()
            os.fsync(raw_out.fileno())
        digest = sha256_file(partial)
        os.replace(partial, out)
    except (OSError, sqlite3.Error, tarfile.TarError) as e:
        raise BackupError(f"backup of {wh.root} failed: {e}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if partial.exists():
            partial.unlink()
    total = sum(f["size"] for f in files)
    con = control.connect(wh.root)
    try:
        audit.record(
            con,
            actor,
            audit.BACKUP,
            str(out.resolve()),
            {
                "sha256": digest,
                "files": len(files),
                "bytes": total,
                "run_id": meta["run_id"],
                "audit_head": meta["audit"],
            },
        )
    finally:
        con.close()
    return BackupResult(
        out, digest, len(files), total, meta["run_id"], 0 if meta["audit"] is None else meta["audit"]["count"]
    )
