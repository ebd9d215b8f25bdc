"""Clustering of matched records with cannot-link constraints.

Union-find over the pair graph, merging in a fixed order (deterministic links first, then scored
matches by descending score). Two components are never merged when they hold different valid
identifiers of the same authoritative scheme (LEI, USCC, a national register, CIK): no chain of pairs
can glue two registered companies together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd


class ConstrainedUnionFind:
    def __init__(self, idents: Mapping[str, Mapping[str, str]]) -> None:
        self.parent: dict[str, str] = {r: r for r in idents}
        self.ids: dict[str, dict[str, str]] = {r: dict(v) for r, v in idents.items()}
        self.refused = 0

    def find(self, r: str) -> str:
        root = r
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[r] != root:
            self.parent[r], r = root, self.parent[r]
        return root

    def conflict(self, ra: str, rb: str) -> str | None:
        a, b = self.ids[ra], self.ids[rb]
        for scheme, v in a.items():
            w = b.get(scheme)
            if w is not None and w != v:
                return scheme
        return None

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.conflict(ra, rb):
            self.refused += 1
            return False
        if rb < ra:  # the smaller rid is the root: independent of merge order
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.ids[ra].update(self.ids.pop(rb))
        return True


def cluster(
    rids: Iterable[str],
    identifiers: Mapping[str, Mapping[str, str]],
    deterministic: pd.DataFrame,
    scored: pd.DataFrame,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
) -> tuple[pd.DataFrame, int]:
    """Assign every record to a cluster; returns (frame rid, cluster_key, match_rule), refused merges.

    Order: steward must-links, deterministic identifier links, then scored matches by descending score.
    Steward cannot-links join the identifier constraints: each becomes a scheme of its own whose two
    records hold different values, so no chain of pairs can bring them together. ``cluster_key`` is the
    smallest rid of the cluster (stable for unchanged input).
    """
    idents = {r: dict(identifiers.get(r, {})) for r in sorted(rids)}
    for n, (a, b) in enumerate(sorted(tuple(sorted(p)) for p in cannot_link)):
        if a in idents and b in idents:
            idents[a][f"CANNOT:{n}"] = a
            idents[b][f"CANNOT:{n}"] = b
    uf = ConstrainedUnionFind(idents)
    rule: dict[str, str] = {}

    def link(a: str, b: str, why: str) -> None:
        if a in idents and b in idents and uf.union(a, b):
            rule.setdefault(b, why)
            rule.setdefault(a, why)

    for a, b in sorted(tuple(sorted(p)) for p in must_link):
        link(a, b, "steward")
    for a, b, why in deterministic[["rid_a", "rid_b", "rule"]].itertuples(index=False):
        link(a, b, why)
    matches = scored[scored["band"] == "match"].sort_values(["score", "rid_a", "rid_b"], ascending=[False, True, True])
    for a, b in matches[["rid_a", "rid_b"]].itertuples(index=False):
        link(a, b, "score")
    rows = [(r, uf.find(r), rule.get(r, "singleton")) for r in idents]
    return pd.DataFrame(rows, columns=["rid", "cluster_key", "match_rule"]), uf.refused


def components(links: Iterable[tuple[str, str]]) -> dict[str, str]:
    """rid -> smallest rid of its connected component, over the records of ``links`` only (a plain
    union-find without constraints: which records the clustering could ever bring together).

    Clustering component by component equals clustering everything at once (:func:`cluster`): a union
    only ever joins two records of one component, so the identifiers (and cannot-link schemes) it checks,
    the links it follows and their relative order (must-links, identifier links, scored matches by
    descending score) are those of that component alone; the root of a cluster is its smallest rid
    whatever else happened; a record's rule is the first link of its own that succeeded; and the refused
    merges add up. A record in no link is a singleton (cluster_key = rid, rule 'singleton') and carries
    no constraint anyone else could meet. A cannot-link between two components can never be tested."""
    parent: dict[str, str] = {}

    def find(r: str) -> str:
        root = r
        while parent[root] != root:
            root = parent[root]
        while parent[r] != root:
            parent[r], r = root, parent[r]
        return root

    for a, b in links:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra
    return {r: find(r) for r in parent}


def pack(component_of: Mapping[str, str], batch_rows: int) -> dict[str, int]:
    """rid -> batch number: whole components, in order of their smallest rid, cut into batches of about
    ``batch_rows`` records (a larger component is a batch of its own)."""
    sizes: dict[str, int] = {}
    for root in component_of.values():
        sizes[root] = sizes.get(root, 0) + 1
    batch_of_root: dict[str, int] = {}
    batch, filled = 0, 0
    for root in sorted(sizes):
        if filled and filled + sizes[root] > batch_rows:
            batch, filled = batch + 1, 0
        batch_of_root[root] = batch
        filled += sizes[root]
    return {r: batch_of_root[root] for r, root in component_of.items()}
