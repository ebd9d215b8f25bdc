"""Steward decisions in the control store (``steward_decision`` in ``<warehouse>/control.db``).

Every decision is validated when it is made, against the published warehouse (records, golden ids,
clusters) and against the live decisions (no contradiction the run could not honour), then appended
with its user, time and reason; a refusal raises :class:`DecisionError` with a message for the steward.
Nothing is ever updated or deleted (the table's triggers refuse it); an undo is a decision of its own.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from mdm import decisions as dm
from mdm.standardise import IDENTITY_COLUMNS, identity_keys
from mdm.survivorship import ATTRIBUTES
from pipelines import audit, control, users
from pipelines.config import Config
from pipelines.errors import MdmError
from pipelines.sqlrow import one_row
from pipelines.warehouse import Warehouse

MAX_REASON = 2000
MAX_VALUE = 1000
MAX_USER = 100
VERDICTS = {"match": "match", "no-match": "no_match", "no_match": "no_match", "nomatch": "no_match"}
COLUMNS = (
    "seq",
    "id",
    "kind",
    "rid_a",
    "rid_b",
    "golden_id",
    "attribute",
    "value",
    "target_id",
    "cannot_link",
    "item_id",
    "reason",
    "user_name",
    "decided_at",
    "origin",
    "import_key",
)


class DecisionError(MdmError):
    """A decision refused when made; the message says why and what to do."""


def now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def from_row(row: Any) -> dm.Decision:
    r = dict(row)
    return dm.Decision(
        id=r["id"],
        seq=int(r["seq"]),
        kind=r["kind"],
        reason=r["reason"],
        user=r["user_name"],
        decided_at=r["decided_at"],
        rid_a=r["rid_a"],
        rid_b=r["rid_b"],
        golden_id=r["golden_id"],
        attribute=r["attribute"],
        value=r["value"],
        target_id=r["target_id"],
        cannot_link=tuple(json.loads(r["cannot_link"])) if r["cannot_link"] else (),
        item_id=r["item_id"],
        origin=r["origin"],
    )


def load(con: sqlite3.Connection) -> list[dm.Decision]:
    """Every decision of the store, in seq order."""
    return [from_row(r) for r in con.execute(f"SELECT {', '.join(COLUMNS)} FROM steward_decision ORDER BY seq")]


def load_all(config: Config) -> list[dm.Decision]:
    """Every decision of a warehouse's control store ([] when there is no store yet)."""
    if not control.control_path(config.warehouse).exists():
        return []
    con = control.connect(config.warehouse)
    try:
        return load(con)
    finally:
        con.close()


def import_keys(con: sqlite3.Connection) -> set[str]:
    return {r[0] for r in con.execute("SELECT import_key FROM steward_decision WHERE import_key IS NOT NULL")}


@contextmanager
def published(config: Config) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published warehouse, or a DecisionError when there is none."""
    wh = Warehouse(config.warehouse)
    if not wh.exists():
        raise DecisionError(
            f"no published warehouse at {wh.db_path}: run `mdm run --config {config.config_path}` "
            "first (decisions are checked against the published records)"
        )
    con = wh.connect(read_only=True)
    try:
        yield con
    finally:
        con.close()


def _text(value: str | None, what: str, limit: int) -> str:
    v = (value or "").strip()
    if not v:
        raise DecisionError(f"a decision needs a {what} (give --{what})")
    if len(v) > limit:
        raise DecisionError(f"the {what} is longer than {limit} characters")
    return v


def parse_verdict(verdict: str) -> str:
    v = VERDICTS.get((verdict or "").strip().lower())
    if v is None:
        raise DecisionError(f"verdict must be match or no-match, not {verdict!r}")
    return v


def parse_ref(ref: str) -> str:
    r = (ref or "").strip()
    if ":" not in r or r.startswith(":") or r.endswith(":"):
        raise DecisionError(f"record reference {ref!r} must be SOURCE:ID, e.g. gleif:5493001KJTIIGC8Y1R12")
    return r


def _known_records(con: duckdb.DuckDBPyConnection, config: Config, rids: list[str]) -> dict[str, str]:
    """rid -> golden id of the given published records; refuses unknown ones naming them."""
    con.register("tmp_rids", _frame({"rid": rids}))
    try:
        found = dict(con.execute("SELECT x.rid, x.golden_id FROM xref x SEMI JOIN tmp_rids USING (rid)").fetchall())
    finally:
        con.unregister("tmp_rids")
    missing = [r for r in rids if r not in found]
    if missing:
        sources = ", ".join(s.name for s in config.sources)
        raise DecisionError(
            f"unknown record {', '.join(missing)}: no published record has this SOURCE:ID "
            f"(sources of this config: {sources}; the id is the record's natural key, see xref)"
        )
    return found


def _frame(columns: dict[str, list[Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(columns)


def _identity(con: duckdb.DuckDBPyConnection, rids: list[str]) -> dict[str, dict[str, str]]:
    con.register("tmp_rids", _frame({"rid": rids}))
    try:
        # Column names are constants of mdm.standardise.
        std = con.execute(
            f"SELECT {', '.join(IDENTITY_COLUMNS)} FROM organization_record SEMI JOIN tmp_rids USING (rid)"
        ).df()
    finally:
        con.unregister("tmp_rids")
    return identity_keys(std)


def _check_live(con: duckdb.DuckDBPyConnection, existing: list[dm.Decision], new: dm.Decision) -> None:
    """Refuse a decision the run could not honour together with the live ones: a cannot-link inside a
    chain of must-links, or must-links chaining records with different identifiers of one scheme."""
    res = dm.resolve([*existing, new])
    clash = dm.contradiction(res)
    if clash is not None:
        path = dm.must_link_path(res.must_link, *clash)
        raise DecisionError(
            f"{clash[0]} and {clash[1]} would be both kept apart and joined by live match decisions "
            f"({' -> '.join(path)}); undo one of those first (mdm review list --decisions)"
        )
    if new.kind != "match" or not new.rid_a or not new.rid_b:
        return
    comp = dm.components(res.must_link)
    members = sorted(r for r, c in comp.items() if c == comp[new.rid_a])
    merged: dict[str, tuple[str, str]] = {}
    for rid, keys in sorted(_identity(con, members).items()):
        for scheme, value in keys.items():
            seen = merged.setdefault(scheme, (value, rid))
            if seen[0] != value:
                what = "two keys of register " + scheme[4:] if scheme.startswith("KEY:") else f"different {scheme}"
                raise DecisionError(
                    f"cannot join {new.rid_a} and {new.rid_b}: the records joined by this decision "
                    f"hold {what} ({seen[1]}: {seen[0]}, {rid}: {value}), two legal entities that "
                    "the run never merges; correct the identifier in its source instead"
                )


@dataclass
class Draft:
    """What a decision says, before it gets its id, time and seq."""

    kind: str
    reason: str
    user: str
    rid_a: str | None = None
    rid_b: str | None = None
    golden_id: str | None = None
    attribute: str | None = None
    value: str | None = None
    target_id: str | None = None
    cannot_link: tuple[str, ...] = ()
    item_id: str | None = None
    origin: str = "cli"
    decided_at: str | None = None
    import_key: str | None = None

    def decision(self, seq: int) -> dm.Decision:
        return dm.Decision(
            id="D" + secrets.token_hex(8),
            seq=seq,
            kind=self.kind,
            reason=self.reason,
            user=self.user,
            decided_at=self.decided_at or now(),
            rid_a=self.rid_a,
            rid_b=self.rid_b,
            golden_id=self.golden_id,
            attribute=self.attribute,
            value=self.value,
            target_id=self.target_id,
            cannot_link=self.cannot_link,
            item_id=self.item_id,
            origin=self.origin,
        )


def _append(con: sqlite3.Connection, d: dm.Decision, import_key: str | None = None) -> dm.Decision:
    """Insert one decision and its audit entry (committed together by audit.record); returns it with its seq."""
    cur = con.execute(
        "INSERT INTO steward_decision (id, kind, rid_a, rid_b, golden_id, attribute, value, target_id, cannot_link, "
        "item_id, reason, user_name, decided_at, origin, import_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            d.id,
            d.kind,
            d.rid_a,
            d.rid_b,
            d.golden_id,
            d.attribute,
            d.value,
            d.target_id,
            json.dumps(list(d.cannot_link)) if d.kind == "split" else None,
            d.item_id,
            d.reason,
            d.user,
            d.decided_at,
            d.origin,
            import_key,
        ),
    )
    _audit(con, d)
    return dm.Decision(**{**d.__dict__, "seq": int(cur.lastrowid or 0)})


AUDIT_ACTIONS = {
    "match": audit.REVIEW_DECIDE,
    "no_match": audit.REVIEW_DECIDE,
    "split": audit.REVIEW_SPLIT,
    "override": audit.REVIEW_OVERRIDE,
    "undo": audit.REVIEW_UNDO,
}


def _audit(con: sqlite3.Connection, d: dm.Decision) -> None:
    """The decision as an entry of the audit log; commits it together with the decision (or neither)."""
    subject = (
        d.golden_id
        if d.kind == "override"
        else d.target_id
        if d.kind == "undo"
        else "|".join(r for r in (d.rid_a, d.rid_b) if r)
    )
    detail: dict[str, Any] = {"decision_id": d.id, "kind": d.kind, "reason": d.reason, "origin": d.origin}
    detail |= {
        k: v
        for k, v in (("attribute", d.attribute), ("value", d.value), ("item_id", d.item_id), ("golden_id", d.golden_id))
        if v is not None
    }
    if d.kind == "split":
        detail["cannot_link"] = list(d.cannot_link)
    if d.origin in ("cli", "import"):
        detail["os_user"] = audit.os_actor()  # who ran the command (the --user is what they claim)
    audit.record(con, d.user, AUDIT_ACTIONS[d.kind], subject or "", detail)


def _check_user(con: sqlite3.Connection, name: str, kind: str) -> str:
    """Once users are set up (``mdm user add``), a decision needs an enabled user whose role may make it:
    ``override`` for overrides, ``review`` for the rest. Returns the stored name."""
    if not con.execute("SELECT count(*) FROM app_user").fetchone()[0]:
        return name
    user = users.get_user(con, name)
    need = "override" if kind == "override" else "review"
    if user is None:
        raise DecisionError(f"unknown user {name!r}: decisions are made by the users of `mdm user list`")
    if not user.can(need):
        state = "disabled" if user.disabled else f"{user.role}"
        raise DecisionError(f"user {user.name!r} ({state}) may not make {kind} decisions (needs {need})")
    return user.name


def record(config: Config, draft: Draft) -> dm.Decision:
    """Validate ``draft`` against the published warehouse and the live decisions, then append it."""
    draft.reason = _text(draft.reason, "reason", MAX_REASON)
    draft.user = _text(draft.user, "user", MAX_USER)
    if draft.kind not in dm.KINDS:
        raise DecisionError(f"unknown decision kind {draft.kind!r} (kinds: {', '.join(dm.KINDS)})")
    con = control.connect(config.warehouse)
    try:
        con.execute("BEGIN IMMEDIATE")  # one writer: the live decisions cannot change under the checks
        existing = load(con)
        draft.user = _check_user(con, draft.user, draft.kind)
        with published(config) as wh:
            _validate(config, wh, existing, draft)
            d = draft.decision(seq=(existing[-1].seq + 1) if existing else 1)
            _check_live(wh, existing, d)
        d = _append(con, d, draft.import_key)
        con.commit()
        return d
    except BaseException:
        con.rollback()
        raise
    finally:
        con.close()


def _validate(config: Config, wh: duckdb.DuckDBPyConnection, existing: list[dm.Decision], d: Draft) -> None:
    if d.kind in dm.PAIR_KINDS:
        a, b = parse_ref(d.rid_a or ""), parse_ref(d.rid_b or "")
        if a == b:
            raise DecisionError("a match or no-match decision needs two different records")
        d.rid_a, d.rid_b = dm.ordered(a, b)
        _known_records(wh, config, [d.rid_a, d.rid_b])
    elif d.kind == "split":
        rid = parse_ref(d.rid_a or "")
        gid = _known_records(wh, config, [rid])[rid]
        members = sorted(
            r
            for (r,) in wh.execute(
                "SELECT rid FROM xref WHERE golden_id = $g AND rid <> $r", {"g": gid, "r": rid}
            ).fetchall()
        )
        if not members:
            raise DecisionError(f"{rid} is alone in golden record {gid}: there is nothing to split it from")
        d.rid_a, d.golden_id, d.cannot_link = rid, gid, tuple(members)
    elif d.kind == "override":
        d.golden_id = (d.golden_id or "").strip()
        if d.attribute not in ATTRIBUTES:
            raise DecisionError(f"unknown golden attribute {d.attribute!r} (attributes: {', '.join(ATTRIBUTES)})")
        d.value = _text(d.value, "value", MAX_VALUE)
        if not one_row(wh.execute("SELECT count(*) FROM golden_organization WHERE golden_id = $g", {"g": d.golden_id}))[
            0
        ]:
            row = wh.execute(
                "SELECT surviving_id FROM golden_id_redirect WHERE retired_id = $g ORDER BY run_id DESC LIMIT 1",
                {"g": d.golden_id},
            ).fetchone()
            hint = f"; it was retired, its records are now in {row[0]}" if row and row[0] else ""
            raise DecisionError(f"unknown golden id {d.golden_id!r}{hint}")
    elif d.kind == "undo":
        target = next((x for x in existing if x.id == (d.target_id or "").strip()), None)
        if target is None:
            raise DecisionError(f"unknown decision {d.target_id!r} (see mdm review list --decisions)")
        d.target_id = target.id
        status = dm.resolve(existing).status(target)
        if status != "live":
            raise DecisionError(
                f"decision {target.id} is {status}, not live: only a live decision can be undone"
                + (" (record a new decision instead)" if status == "undo" else "")
            )
