"""The audit trail: an append-only, hash-chained log in the control store (``audit_log``).

Each entry's ``hash`` is ``sha256(prev_hash + canonical JSON of the entry)``, where the entry is its
id, time, actor, action, subject and detail; the first entry's ``prev_hash`` is 64 zeros. SQLite
triggers refuse UPDATE and DELETE on the table. The head of the chain (entry count and newest hash) is
also written, on every append, to ``control.audit-head.json`` beside the store (owner-only, replaced by
an atomic rename); appends are serialised by an exclusive lock on ``control.audit.lock``.

What :func:`verify` detects, and what it cannot:

- An entry edited in place (after dropping the trigger): its hash no longer matches its content.
- Entries reordered or renumbered: the id is hashed, and each entry must link to the one before it.
- An entry deleted from the middle: a gap in the ids, and the next entry's link points to nothing.
- The newest entries deleted (or the whole store rolled back to an older copy): the head file names
  an entry count and hash the table no longer has.
- An attacker who can write both ``control.db`` and the head file (the same Unix user) can rewrite
  the whole chain consistently: a hash chain without a secret cannot stop that. What stops it is a
  copy of the head kept where that user cannot write: ``mdm audit head`` prints ``COUNT:HASH``; ship
  it to syslog/SIEM or a ticket regularly, and ``mdm audit verify --anchor COUNT:HASH`` then proves
  that the first COUNT entries are exactly those that existed when the anchor was taken. Backups
  (``mdm backup``) carry the head too, so an old archive is an anchor as well.
- Appending forged entries at the end is possible for anyone who can write the store; they show as
  ordinary entries. Keep the warehouse folder owner-only (it is created so).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.errors import MdmError

GENESIS = "0" * 64
HEAD_FILE = "control.audit-head.json"
LOCK_FILE = "control.audit.lock"
ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
MAX_FIELD = 512  # actor, subject
MAX_DETAIL = 64 * 1024  # canonical JSON bytes of one entry's detail

# The actions the project records (other dotted lower-case names are accepted too).
RUN_START, RUN_PUBLISH, RUN_ABORT = "run.start", "run.publish", "run.abort"
REVIEW_DECIDE, REVIEW_OVERRIDE, REVIEW_SPLIT, REVIEW_UNDO = (
    "review.decide",
    "review.override",
    "review.split",
    "review.undo",
)
SIGN_IN_SUCCESS, SIGN_IN_FAILURE = "sign_in.success", "sign_in.failure"
USER_ADD, USER_SET_ROLE, USER_DISABLE, USER_ENABLE, USER_PASSWORD = (
    "user.add",
    "user.set_role",
    "user.disable",
    "user.enable",
    "user.password",
)
EXPORT, SQL_QUERY, BACKUP, RESTORE = "export", "sql.query", "backup", "restore"


class AuditError(MdmError):
    """The audit log cannot be written or read (not a verification failure: see :class:`Verification`)."""


def canonical(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text kept, NaN refused."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(prev_hash: str, id_: int, ts: str, actor: str, action: str, subject: str, detail: str) -> str:
    """The chain hash of one entry; ``detail`` is its stored canonical JSON text."""
    body = canonical(
        {"id": id_, "ts": ts, "actor": actor, "action": action, "subject": subject, "detail": json.loads(detail)}
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def store_path(con: sqlite3.Connection) -> Path:
    """The file of the control store ``con`` is connected to."""
    for row in con.execute("PRAGMA database_list").fetchall():
        if row[1] == "main" and row[2]:
            return Path(row[2])
    raise AuditError("the audit log needs a control store on disk, not an in-memory database")


def head_path(store: Path) -> Path:
    return store.parent / HEAD_FILE


@contextmanager
def append_lock(store: Path) -> Iterator[None]:
    """Exclusive lock serialising appends (and backups, which must see the table and head together)."""
    lock = store.parent / LOCK_FILE
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read_head(store: Path) -> tuple[int, str] | None:
    """(count, newest hash) from the head file, None when there is none. Raises AuditError when unreadable."""
    path = head_path(store)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8")[:4096])
        return int(data["count"]), str(data["hash"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise AuditError(f"the audit head file {path} is unreadable: {e}") from None


def _write_head(store: Path, count: int, hash_: str) -> None:
    path = head_path(store)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(canonical({"count": count, "hash": hash_}) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def os_actor() -> str:
    """The actor of work started from a shell or a scheduler: ``os:<login>`` of the process."""
    import getpass

    try:
        return f"os:{getpass.getuser()}"
    except (OSError, KeyError):
        return f"os:uid{os.getuid()}"


def _checked(actor: str, action: str, detail: dict[str, Any] | None) -> str:
    """The canonical JSON of ``detail`` once actor, action and detail are acceptable."""
    if not ACTION.match(action or ""):
        raise AuditError(f"audit action must be dotted lower case (e.g. user.add), not {action!r}")
    if not str(actor or ""):
        raise AuditError("an audit entry needs an actor")
    try:
        detail_text = canonical(detail or {})
    except (TypeError, ValueError) as e:
        raise AuditError(f"audit detail must be plain JSON: {e}") from None
    if len(detail_text.encode("utf-8")) > MAX_DETAIL:
        raise AuditError(f"audit detail is larger than {MAX_DETAIL} bytes")
    return detail_text


def record(
    con: sqlite3.Connection, actor: str, action: str, subject: str = "", detail: dict[str, Any] | None = None
) -> int:
    """Append one entry and return its id.

    Commits ``con``'s transaction: a change made on ``con`` before the call (a user added, a decision
    taken) and its audit entry are committed together, or neither is."""
    try:
        detail_text = _checked(actor, action, detail)
    except AuditError:
        if con.in_transaction:
            con.rollback()  # the change this entry was to record must not be committed without it
        raise
    actor, subject = str(actor)[:MAX_FIELD], str(subject or "")[:MAX_FIELD]
    store = store_path(con)
    with append_lock(store):
        try:
            if not con.in_transaction:
                con.execute("BEGIN IMMEDIATE")
            last = con.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
            id_, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            ts = _now()
            h = entry_hash(prev, id_, ts, actor, action, subject, detail_text)
            con.execute(
                "INSERT INTO audit_log (id, ts, actor, action, subject, detail, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (id_, ts, actor, action, subject, detail_text, prev, h),
            )
            con.commit()
        except sqlite3.Error as e:
            con.rollback()
            raise AuditError(f"cannot write the audit log: {e}") from None
        # After the commit, still under the lock: a crash in between leaves one valid entry not yet
        # anchored (reported by verify as a warning), never a head ahead of the table.
        _write_head(store, id_, h)
    return id_


def record_at(warehouse: Path, actor: str, action: str, subject: str = "", detail: dict[str, Any] | None = None) -> int:
    """:func:`record` on the control store of ``warehouse`` (opened and closed here), for callers that hold
    no control-store connection, e.g. the runner: ``record_at(cfg.warehouse, "system", RUN_PUBLISH, run_id)``."""
    from pipelines import control

    con = control.connect(warehouse)
    try:
        return record(con, actor, action, subject, detail)
    finally:
        con.close()


@dataclass
class Entry:
    id: int
    ts: str
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    hash: str


@dataclass
class Verification:
    """The outcome of :func:`verify`: ``ok`` when no problem was found; each problem names an entry."""

    entries: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _parse_anchor(anchor: str) -> tuple[int, str]:
    m = re.fullmatch(r"(\d+):([0-9a-f]{64})", anchor.strip().lower())
    if not m:
        raise AuditError(f"an anchor is COUNT:HASH as printed by `mdm audit head`, not {anchor!r}")
    return int(m.group(1)), m.group(2)


def verify(con: sqlite3.Connection, anchor: str | None = None, limit_problems: int = 50) -> Verification:
    """Recompute the chain and compare it with the head file (and an optional ``COUNT:HASH`` anchor)."""
    res = Verification()
    rows = con.execute(
        "SELECT id, ts, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY id"
    ).fetchall()
    # Where each entry was written: walk the links from the first entry (prev_hash -> next entry).
    by_prev: dict[str, int] = {}
    for r in rows:
        by_prev.setdefault(r[6], r[0])
    hashes = {r[0]: r[7] for r in rows}
    written_as: dict[int, int] = {}
    link, k = GENESIS, 1
    while link in by_prev and by_prev[link] not in written_as:
        written_as[by_prev[link]] = k
        link, k = hashes[by_prev[link]], k + 1
    expected_id, prev = 1, GENESIS
    for id_, ts, actor, action, subject, detail, stored_prev, stored_hash in rows:
        if id_ != expected_id:
            gone = f"entry {expected_id}" if id_ == expected_id + 1 else f"entries {expected_id}-{id_ - 1}"
            res.problems.append(f"{gone} missing (deleted): entry {id_} follows entry {expected_id - 1}")
        original = written_as.get(id_, id_)
        if original != id_:
            res.problems.append(
                f"entry {id_} is out of order: it was written as entry {original} (entries were reordered)"
            )
        elif stored_prev != prev and id_ == expected_id and written_as.get(id_ - 1, id_ - 1) == id_ - 1:
            res.problems.append(
                f"entry {id_ - 1} was edited or replaced: entry {id_} links to a hash that "
                f"entry {id_ - 1} no longer has"
            )
        try:
            actual = entry_hash(stored_prev, original, ts, actor, action, subject, detail)
        except (ValueError, TypeError):
            actual = ""
        if actual != stored_hash:
            res.problems.append(
                f"entry {id_} ({action} by {actor} at {ts}) was edited: its hash does not match its content"
            )
        prev, expected_id = stored_hash, id_ + 1
        if len(res.problems) >= limit_problems:
            res.problems.append("... stopped after too many problems")
            break
    res.entries, res.head = len(rows), prev
    count = rows[-1][0] if rows else 0
    try:
        head = read_head(store_path(con))
    except AuditError as e:
        res.problems.append(str(e))
        head = None
    if head is None:
        if rows:
            res.problems.append(
                f"the audit head file is missing: deletion of the newest entries cannot be "
                f"ruled out (the table ends at entry {count})"
            )
    else:
        h_count, h_hash = head
        tail = {r[0]: r[7] for r in rows}
        if h_count > count:
            gone = f"entry {h_count}" if h_count == count + 1 else f"entries {count + 1}-{h_count}"
            res.problems.append(
                f"{gone} missing: the head file records {h_count} entries, the table ends at "
                f"entry {count} (the newest entries were deleted or the store was rolled back)"
            )
        elif h_count > 0 and tail.get(h_count) != h_hash:
            res.problems.append(
                f"entry {h_count} does not have the hash the head file records for it: the "
                "chain was rewritten or replaced"
            )
        elif h_count < count:
            res.warnings.append(
                f"entries {h_count + 1}-{count} are not yet anchored in the head file (a writer "
                "may have stopped between commit and head update); the next entry anchors them"
            )
    if anchor:
        a_count, a_hash = _parse_anchor(anchor)
        got = {r[0]: r[7] for r in rows}.get(a_count)
        if got is None:
            res.problems.append(f"entry {a_count} named by the anchor is missing")
        elif got != a_hash:
            res.problems.append(
                f"entry {a_count} does not have the anchored hash {a_hash[:12]}...: the chain up to it was rewritten"
            )
    return res


def entries(
    con: sqlite3.Connection,
    limit: int = 100,
    action: str | None = None,
    actor: str | None = None,
    since: str | None = None,
) -> list[Entry]:
    """The newest entries first, optionally filtered by action (prefix, e.g. ``user``), actor or time."""
    sql = "SELECT id, ts, actor, action, subject, detail, hash FROM audit_log WHERE 1 = 1"
    params: list[Any] = []
    if action:
        sql += " AND (action = ? OR action LIKE ? ESCAPE '\\')"
        params += [action, action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%"]
    if actor:
        sql += " AND actor = ?"
        params.append(actor)
    if since:
        sql += " AND ts >= ?"
        params.append(since)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(int(limit))
    out = []
    for id_, ts, actor_, action_, subject, detail, h in con.execute(sql, params).fetchall():
        try:
            d = json.loads(detail)
        except ValueError:
            d = {"unreadable": detail[:200]}
        out.append(Entry(id_, ts, actor_, action_, subject, d, h))
    return out
