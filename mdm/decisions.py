"""Steward decisions: which are live, and what they ask of the run (pure logic, no I/O).

A decision claims *subjects*: a match or no-match decision the pair of its two records; a split the pairs
between the split record and every other member of its cluster at decision time; an override a golden
attribute (golden id + attribute). Per subject the latest claim (by ``seq``) wins; when that claim's
decision was undone, the subject goes back to the model's view (an undo never revives an older decision).
A decision is live while it wins at least one subject and is not undone. From the live claims:

- match pairs become must-links (and training labels ``is_match = True``),
- no-match pairs and split pairs become cannot-links (``is_match = False``),
- overrides beat every survivorship rule.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

KINDS = ("match", "no_match", "split", "override", "undo")
PAIR_KINDS = ("match", "no_match")
# Review queue item kinds (sql/review/review_item.sql) and what their subject is.
ITEM_PAIR = "pair"  # subject 'rid_a|rid_b' (rid_a < rid_b)
ITEM_WEAK_CLUSTER = "weak_cluster"  # subject golden id
ITEM_CONFLICT = "conflict"  # subject 'golden_id|attribute'


def item_id(kind: str, subject: str) -> str:
    """The stable id of a review item: R + the first 16 hex digits of md5('<kind>|<subject>'); equal to
    the SQL expression of review_item.sql."""
    return "R" + hashlib.md5(f"{kind}|{subject}".encode()).hexdigest()[:16]


def ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Decision:
    """One row of ``steward_decision``."""

    id: str
    seq: int
    kind: str
    reason: str
    user: str
    decided_at: str
    rid_a: str | None = None
    rid_b: str | None = None
    golden_id: str | None = None
    attribute: str | None = None
    value: str | None = None
    target_id: str | None = None
    cannot_link: tuple[str, ...] = ()
    item_id: str | None = None
    origin: str = "cli"

    def subjects(self) -> list[tuple[str, str, str]]:
        """The subjects this decision claims: ('pair', a, b) or ('attr', golden id, attribute)."""
        if self.kind in PAIR_KINDS and self.rid_a and self.rid_b:
            return [("pair", *ordered(self.rid_a, self.rid_b))]
        if self.kind == "split" and self.rid_a:
            return [("pair", *ordered(self.rid_a, m)) for m in self.cannot_link if m != self.rid_a]
        if self.kind == "override" and self.golden_id and self.attribute:
            return [("attr", self.golden_id, self.attribute)]
        return []

    def answered_items(self) -> set[str]:
        """The review items this decision settles (besides the one it names in ``item_id``)."""
        out = {self.item_id} if self.item_id else set()
        if self.kind in PAIR_KINDS and self.rid_a and self.rid_b:
            out.add(item_id(ITEM_PAIR, "|".join(ordered(self.rid_a, self.rid_b))))
        elif self.kind == "split" and self.golden_id and self.rid_a:
            out.add(item_id(ITEM_WEAK_CLUSTER, self.golden_id))
            out.update(item_id(ITEM_PAIR, "|".join(ordered(self.rid_a, m))) for m in self.cannot_link)
        elif self.kind == "override" and self.golden_id and self.attribute:
            out.add(item_id(ITEM_CONFLICT, f"{self.golden_id}|{self.attribute}"))
        return out


@dataclass
class Resolution:
    """The live state of a list of decisions."""

    live: list[Decision]  # live decisions, in seq order
    superseded_by: dict[str, str]  # decision id -> the undo or later decision that replaced it
    must_link: list[tuple[str, str]]  # sorted pairs (a < b)
    cannot_link: list[tuple[str, str]]  # sorted pairs (a < b)
    overrides: list[Decision]  # live overrides, one per golden id and attribute
    undone: dict[str, str] = field(default_factory=dict)  # decision id -> undo id

    def status(self, d: Decision) -> str:
        if d.kind == "undo":
            return "undo"
        if d.id in self.undone:
            return "undone"
        return "live" if d.id not in self.superseded_by else "superseded"


def resolve(decisions: Iterable[Decision]) -> Resolution:
    """Live decisions, supersession, must-links, cannot-links and overrides of ``decisions`` (any order)."""
    ds = sorted(decisions, key=lambda d: d.seq)
    by_id = {d.id: d for d in ds}
    undone: dict[str, str] = {}
    for d in ds:
        target = by_id.get(d.target_id or "")
        if d.kind == "undo" and target is not None and target.kind != "undo" and target.seq < d.seq:
            undone.setdefault(target.id, d.id)
    owner: dict[tuple[str, str, str], Decision] = {}
    for d in ds:
        if d.kind != "undo":
            for s in d.subjects():
                owner[s] = d
    must: set[tuple[str, str]] = set()
    cannot: set[tuple[str, str]] = set()
    overrides: dict[tuple[str, str], Decision] = {}
    winning: set[str] = set()
    for s, d in owner.items():
        if d.id in undone:
            continue
        winning.add(d.id)
        if s[0] == "attr":
            overrides[(s[1], s[2])] = d
        elif d.kind == "match":
            must.add((s[1], s[2]))
        else:
            cannot.add((s[1], s[2]))
    superseded: dict[str, str] = {}
    for d in ds:
        if d.kind == "undo" or d.id in winning:
            continue
        if d.id in undone:
            superseded[d.id] = undone[d.id]
            continue
        later = [owner[s] for s in d.subjects() if owner.get(s) is not None and owner[s].id != d.id]
        if later:
            superseded[d.id] = max(later, key=lambda x: x.seq).id
    live = [d for d in ds if d.id in winning]
    return Resolution(
        live,
        superseded,
        sorted(must),
        sorted(cannot),
        sorted(overrides.values(), key=lambda d: (d.golden_id or "", d.attribute or "")),
        undone,
    )


def components(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """record -> the smallest record of its component under ``pairs`` (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in list(parent)}


def contradiction(res: Resolution) -> tuple[str, str] | None:
    """A cannot-linked pair whose records the live must-links chain together (the run could not honour
    both), or None."""
    comp = components(res.must_link)
    for a, b in res.cannot_link:
        if a in comp and b in comp and comp[a] == comp[b]:
            return a, b
    return None


def must_link_path(must: Sequence[tuple[str, str]], a: str, b: str) -> list[str]:
    """The records of a chain of must-links from ``a`` to ``b`` (breadth first), or [] when none."""
    adj: dict[str, list[str]] = {}
    for x, y in must:
        adj.setdefault(x, []).append(y)
        adj.setdefault(y, []).append(x)
    prev: dict[str, str | None] = {a: None}
    queue = [a]
    for x in queue:
        if x == b:
            path = [b]
            while prev[path[-1]] is not None:
                path.append(prev[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for y in sorted(adj.get(x, [])):
            if y not in prev:
                prev[y] = x
                queue.append(y)
    return []


def fingerprint(res: Resolution) -> tuple[str, str]:
    """(digest of the live pair constraints, digest of the live overrides): what a run's match and
    survive stages depend on, for their incremental fingerprints."""
    pairs = json.dumps({"must": res.must_link, "cannot": res.cannot_link})
    overrides = json.dumps([(d.golden_id, d.attribute, d.value) for d in res.overrides])
    return hashlib.sha256(pairs.encode()).hexdigest(), hashlib.sha256(overrides.encode()).hexdigest()
