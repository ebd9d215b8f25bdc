"""Clustering component by component (mdm.clustering.components, pack) equals clustering everything at once.

The cluster stage clusters only the records of some link, in batches of whole connected components of
the links, and makes every other record a singleton (issue 15). Here the same split is done by hand on
frames and compared with :func:`mdm.clustering.cluster` over all records.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest

from mdm.clustering import cluster, components, pack

LEI_X = "001GPB6A9XPE8XJICC14"
LEI_Y = "MLU0ZO3ML4LN2LL2TL39"
COLUMNS = ["rid", "cluster_key", "match_rule"]


def by_components(
    rids: list[str],
    ids: dict[str, dict[str, str]],
    det: pd.DataFrame,
    scored: pd.DataFrame,
    must: list[tuple[str, str]],
    cannot: list[tuple[str, str]],
    batch_rows: int,
) -> tuple[pd.DataFrame, int, int]:
    """What the cluster stage does: (clusters, refused merges, number of batches)."""
    links = [
        *zip(det.rid_a, det.rid_b, strict=True),
        *((a, b) for a, b, band in zip(scored.rid_a, scored.rid_b, scored.band, strict=True) if band == "match"),
        *must,
    ]
    batch_of = pack(components(links), batch_rows)
    parts, refused = [], 0
    n_batches = max(batch_of.values(), default=-1) + 1
    for k in range(n_batches):
        members = sorted(r for r, b in batch_of.items() if b == k)

        def inside(frame: pd.DataFrame, k: int = k) -> pd.DataFrame:
            return frame[frame.rid_a.map(batch_of).eq(k) & frame.rid_b.map(batch_of).eq(k)]

        def pairs(links: list[tuple[str, str]], k: int = k) -> list[tuple[str, str]]:
            return [(a, b) for a, b in links if batch_of.get(a) == k and batch_of.get(b) == k]

        part, n = cluster(
            members, {r: ids[r] for r in members if r in ids}, inside(det), inside(scored), pairs(must), pairs(cannot)
        )
        parts.append(part)
        refused += n
    single = pd.DataFrame([(r, r, "singleton") for r in rids if r not in batch_of], columns=COLUMNS)
    return pd.concat([*parts, single], ignore_index=True), refused, n_batches


def rows(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    return sorted(frame[COLUMNS].itertuples(index=False, name=None))


def test_components_are_plain_connected_components_keyed_by_their_smallest_rid() -> None:
    comp = components([("c", "d"), ("b", "a"), ("d", "e"), ("x", "x")])
    assert comp == {"a": "a", "b": "a", "c": "c", "d": "c", "e": "c", "x": "x"}
    # Whole components in order of their smallest rid; a component larger than the batch stays whole.
    assert pack(comp, 2) == {"a": 0, "b": 0, "c": 1, "d": 1, "e": 1, "x": 2}
    assert set(pack(comp, 100).values()) == {0}


def test_an_identifier_conflict_and_a_cannot_link_inside_one_component_give_the_global_result() -> None:
    # One component c1..c6: c1 and c2 share LEI x (identifier link), c3 holds LEI y, so the strong match
    # c2~c3 is refused; c3~c4~c5 match but the steward says c4 and c5 differ; c5 and c6 are one company
    # by the steward (must-link). A second component d1~d2 (d2~d3 only 'possible': no link). s1 holds LEI x
    # too but has no pair; a cannot-link between c1 and d1 crosses components.
    rids = ["c1", "c2", "c3", "c4", "c5", "c6", "d1", "d2", "d3", "s1", "s2"]
    ids = {"c1": {"LEI": LEI_X}, "c2": {"LEI": LEI_X}, "c3": {"LEI": LEI_Y}, "s1": {"LEI": LEI_X}}
    det = pd.DataFrame([("c1", "c2", "id:LEI")], columns=["rid_a", "rid_b", "rule"])
    scored = pd.DataFrame(
        [
            ("c2", "c3", 0.97, "match"),
            ("c3", "c4", 0.95, "match"),
            ("c4", "c5", 0.93, "match"),
            ("c2", "c4", 0.90, "match"),
            ("d1", "d2", 0.99, "match"),
            ("d2", "d3", 0.60, "possible"),
        ],
        columns=["rid_a", "rid_b", "score", "band"],
    )
    must, cannot = [("c6", "c5")], [("c5", "c4"), ("d1", "c1")]
    whole, refused = cluster(rids, ids, det, scored, must_link=must, cannot_link=cannot)
    parts, part_refused, n_batches = by_components(rids, ids, det, scored, must, cannot, batch_rows=2)
    assert n_batches == 2  # c1..c6 (larger than a batch, kept whole) and d1, d2
    assert rows(parts) == rows(whole)
    assert part_refused == refused == 3  # c2~c3 (LEI), c4~c5 (cannot-link), c2~c4 (LEI)
    keys = dict(zip(whole.rid, whole.cluster_key, strict=True))
    rules = dict(zip(whole.rid, whole.match_rule, strict=True))
    assert [keys[r] for r in ("c1", "c2", "c3", "c4", "c5", "c6")] == ["c1", "c1", "c3", "c3", "c5", "c5"]
    assert keys["d1"] == keys["d2"] == "d1" and keys["d3"] == "d3"
    assert rules["c1"] == "id:LEI" and rules["c4"] == "score" and rules["c6"] == "steward"
    assert rules["s1"] == rules["d3"] == "singleton"


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_cluster_the_same_in_any_batch_size(seed: int) -> None:
    rng = random.Random(seed)
    rids = [f"r{i:03d}" for i in range(60)]
    ids = {r: {"LEI": rng.choice("XYZ")} for r in rids if rng.random() < 0.3}
    for r in rng.sample(rids, 8):
        ids.setdefault(r, {})["KEY:uk"] = rng.choice("PQ")

    def some_pairs(n: int) -> list[tuple[str, str]]:
        return [tuple(sorted(rng.sample(rids, 2))) for _ in range(n)]  # type: ignore[misc]

    det = pd.DataFrame([(a, b, "id:LEI") for a, b in some_pairs(10)], columns=["rid_a", "rid_b", "rule"])
    det = det.drop_duplicates(["rid_a", "rid_b"]).sort_values(["rid_a", "rid_b"])
    scored = pd.DataFrame(
        [(a, b, round(rng.random(), 2), rng.choice(["match", "match", "possible"])) for a, b in some_pairs(50)],
        columns=["rid_a", "rid_b", "score", "band"],
    ).drop_duplicates(["rid_a", "rid_b"])
    must, cannot = some_pairs(4), some_pairs(10)
    whole, refused = cluster(rids, ids, det, scored, must_link=must, cannot_link=cannot)
    for batch_rows in (1, 7, 1000):
        parts, part_refused, _ = by_components(rids, ids, det, scored, must, cannot, batch_rows)
        assert rows(parts) == rows(whole)
        assert part_refused == refused
