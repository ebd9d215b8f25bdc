"""Persistent golden ids: an unchanged cluster keeps its id run after run.

Given the new clusters and the previous assignment (rid -> golden id), each previous id goes to the
new cluster holding most of its records (ties: the cluster with the smallest key). A cluster offered
several previous ids keeps the oldest (first minted) and the others are retired with a redirect to
it. Clusters with no previous id get a new one, minted from a hash of their smallest member so that
the same input gives the same ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pandas as pd


def mint(seed: str, taken: set[str]) -> str:
    """An opaque id derived from ``seed``, unique against ``taken``."""
    n = 0
    while True:
        digest = hashlib.sha256(f"{seed}#{n}".encode()).hexdigest()[:16].upper()
        gid = f"G{digest}"
        if gid not in taken:
            return gid
        n += 1


def assign(
    clusters: pd.DataFrame,
    previous: Mapping[str, str],
    minted_order: Mapping[str, int],
    taken: set[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Golden id per cluster.

    clusters: rid, cluster_key. previous: rid -> golden id of the last published run.
    minted_order: golden id -> rank of its creation (older first). taken: every id ever issued.
    Returns (clusters with golden_id and id_origin, redirects: retired_id, surviving_id, reason).
    """
    c = clusters.copy()
    c["prev"] = c["rid"].map(previous)
    # For each previous id: the new cluster holding most of its records (tie -> smallest cluster key).
    held = c.dropna(subset=["prev"]).groupby(["prev", "cluster_key"]).size().reset_index(name="n")
    held = held.sort_values(["prev", "n", "cluster_key"], ascending=[True, False, True])
    owner = held.drop_duplicates("prev", keep="first")
    offers: dict[str, list[str]] = {}
    for prev, key in owner[["prev", "cluster_key"]].itertuples(index=False):
        offers.setdefault(key, []).append(prev)
    taken = set(taken)
    gid_of: dict[str, str] = {}
    origin: dict[str, str] = {}
    redirects: list[tuple[str, str | None, str]] = []
    for key in sorted(c["cluster_key"].unique()):
        ids = sorted(offers.get(key, []), key=lambda g: (minted_order.get(g, 1 << 62), g))
        if ids:
            gid_of[key] = ids[0]
            origin[key] = "kept" if len(ids) == 1 else "merged"
            redirects += [(old, ids[0], "merge") for old in ids[1:]]
        else:
            gid = mint(key, taken)
            taken.add(gid)
            gid_of[key] = gid
            origin[key] = "new"
    c["golden_id"] = c["cluster_key"].map(gid_of)
    c["id_origin"] = c["cluster_key"].map(origin)
    # Previous ids that no cluster kept (all their records gone): retired without successor.
    kept = set(gid_of.values())
    for old in sorted(set(previous.values()) - kept - {r[0] for r in redirects}):
        redirects.append((old, None, "retired"))
    red = pd.DataFrame(redirects, columns=["retired_id", "surviving_id", "reason"])
    return c.drop(columns=["prev"]), red
