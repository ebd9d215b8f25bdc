"""Constrained clustering (mdm.clustering): no chain of pairs may glue two registered companies together."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from mdm.clustering import ConstrainedUnionFind, cluster

LEI_X = "001GPB6A9XPE8XJICC14"
LEI_Y = "MLU0ZO3ML4LN2LL2TL39"
USCC = "91310000X0727109X6"

NO_DET = pd.DataFrame(columns=["rid_a", "rid_b", "rule"])


def scored(rows: list[tuple[str, str, float]], band: str = "match") -> pd.DataFrame:
    return pd.DataFrame([(a, b, s, band) for a, b, s in rows], columns=["rid_a", "rid_b", "score", "band"])


def members(result: pd.DataFrame) -> dict[str, set[str]]:
    """cluster_key -> rids of the cluster."""
    return {k: set(g["rid"]) for k, g in result.groupby("cluster_key")}


def key_of(result: pd.DataFrame) -> dict[str, str]:
    return dict(zip(result["rid"], result["cluster_key"]))


# A (LEI x) ~ B (no id) ~ C (LEI y)
CHAIN_IDS = {"A": {"LEI": LEI_X}, "B": {}, "C": {"LEI": LEI_Y}}


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
@pytest.mark.parametrize("scores", [(0.95, 0.95, 0.99), (0.90, 0.97, 0.99), (0.97, 0.90, 0.86)])
def test_a_chain_never_joins_two_different_leis(order: tuple[int, ...], scores: tuple[float, float, float]) -> None:
    rows = [("A", "B", scores[0]), ("B", "C", scores[1]), ("A", "C", scores[2])]
    pairs = scored([rows[i] for i in order])
    result, refused = cluster(["C", "B", "A"], CHAIN_IDS, NO_DET, pairs)
    k = key_of(result)
    assert k["A"] != k["C"]
    assert refused >= 1
    # B joins the side of its stronger match (ties: the pair of the smaller rids first).
    stronger = "A" if scores[0] >= scores[1] else "C"
    assert k["B"] == k[stronger]


@pytest.mark.parametrize("order", list(itertools.permutations(range(2))))
def test_a_chain_of_two_match_pairs_is_cut(order: tuple[int, ...]) -> None:
    rows = [("A", "B", 0.95), ("B", "C", 0.95)]
    result, refused = cluster(["A", "B", "C"], CHAIN_IDS, NO_DET, scored([rows[i] for i in order]))
    assert members(result) == {"A": {"A", "B"}, "C": {"C"}}
    assert refused == 1


def test_the_constraint_holds_through_merged_components() -> None:
    # {A, B1} and {B2, C} are built first; the bridge B1-B2 would join x and y and is refused.
    ids = {"A": {"LEI": LEI_X}, "B1": {}, "B2": {}, "C": {"LEI": LEI_Y}}
    pairs = scored([("A", "B1", 0.99), ("B2", "C", 0.99), ("B1", "B2", 0.9)])
    result, refused = cluster(list(ids), ids, NO_DET, pairs)
    assert members(result) == {"A": {"A", "B1"}, "B2": {"B2", "C"}}
    assert refused == 1


def test_different_schemes_do_not_conflict() -> None:
    ids = {"A": {"LEI": LEI_X}, "B": {"USCC": USCC}}
    result, refused = cluster(["A", "B"], ids, NO_DET, scored([("A", "B", 0.9)]))
    assert members(result) == {"A": {"A", "B"}}
    assert refused == 0


def test_deterministic_links_go_first() -> None:
    # A and B share a USCC (deterministic); B-C is a strong scored match, but C has another LEI than A.
    # Were the scored pair applied first, B would join C and the deterministic link would be refused.
    ids = {"A": {"LEI": LEI_X, "USCC": USCC}, "B": {"USCC": USCC}, "C": {"LEI": LEI_Y}}
    det = pd.DataFrame([("A", "B", "id:USCC")], columns=["rid_a", "rid_b", "rule"])
    result, refused = cluster(["A", "B", "C"], ids, det, scored([("B", "C", 0.99)]))
    assert members(result) == {"A": {"A", "B"}, "C": {"C"}}
    assert refused == 1
    rules = dict(zip(result["rid"], result["match_rule"]))
    assert rules == {"A": "id:USCC", "B": "id:USCC", "C": "singleton"}


def test_only_the_match_band_merges() -> None:
    pairs = pd.concat([scored([("A", "B", 0.8)], band="review"), scored([("C", "D", 0.3)], band="non-match")])
    result, refused = cluster(["A", "B", "C", "D"], {}, NO_DET, pairs)
    assert result["cluster_key"].tolist() == ["A", "B", "C", "D"]
    assert set(result["match_rule"]) == {"singleton"}
    assert refused == 0


def test_cluster_key_is_the_smallest_rid_and_rules_are_reported() -> None:
    rids = ["s:9", "s:3", "s:5", "s:1", "s:7"]
    pairs = scored([("s:5", "s:9", 0.9), ("s:3", "s:9", 0.95)])
    det = pd.DataFrame([("s:1", "s:7", "id:LEI")], columns=["rid_a", "rid_b", "rule"])
    result, _ = cluster(rids, {}, det, pairs)
    assert result["rid"].tolist() == sorted(rids)  # one row per record, in rid order
    assert key_of(result) == {"s:1": "s:1", "s:7": "s:1", "s:3": "s:3", "s:5": "s:3", "s:9": "s:3"}
    assert dict(zip(result["rid"], result["match_rule"])) == {
        "s:1": "id:LEI",
        "s:7": "id:LEI",
        "s:3": "score",
        "s:5": "score",
        "s:9": "score",
    }


def test_records_missing_from_the_identifier_map_have_no_constraint() -> None:
    result, refused = cluster(["A", "B"], {"A": {"LEI": LEI_X}}, NO_DET, scored([("A", "B", 0.9)]))
    assert members(result) == {"A": {"A", "B"}}
    assert refused == 0


def test_clustering_is_deterministic_under_any_input_order() -> None:
    ids = {"a": {"LEI": LEI_X}, "b": {}, "c": {}, "d": {"LEI": LEI_Y}, "e": {}, "f": {}, "g": {"USCC": USCC}}
    rows = [
        ("a", "b", 0.9),
        ("b", "c", 0.92),
        ("c", "d", 0.92),
        ("d", "e", 0.88),
        ("e", "f", 0.95),
        ("f", "g", 0.86),
        ("a", "f", 0.9),
        ("b", "e", 0.9),
    ]
    det = [("c", "e", "id:USCC")]
    reference = None
    for i, perm in enumerate(itertools.permutations(range(len(rows)))):
        if i % 997:  # a spread of the 40320 orders
            continue
        pairs = scored([rows[j] for j in perm])
        det_frame = pd.DataFrame(det, columns=["rid_a", "rid_b", "rule"])
        result, refused = cluster(list(reversed(list(ids))), ids, det_frame, pairs)
        got = (result.to_dict("records"), refused)
        if reference is None:
            reference = got
            k = key_of(result)
            assert k["a"] != k["d"]  # the constraint held in the reference too
        assert got == reference


def test_union_find_carries_the_identifiers_of_a_whole_component() -> None:
    uf = ConstrainedUnionFind({"A": {"LEI": LEI_X}, "B": {}, "C": {"LEI": LEI_Y}, "D": {}})
    assert uf.union("B", "A")
    assert uf.find("B") == "A"  # the smaller rid is the root
    assert uf.union("C", "D")
    assert uf.conflict(uf.find("B"), uf.find("D")) == "LEI"
    assert not uf.union("B", "D")
    assert uf.refused == 1
    assert uf.union("A", "B")  # already together


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_steward_cannot_link_holds_against_any_chain(order: tuple[int, ...]) -> None:
    # a ~ b ~ c all strong matches, no identifiers; the steward says a and c are different.
    rows = [("a", "b", 0.99), ("b", "c", 0.98), ("a", "c", 0.97)]
    pairs = scored([rows[i] for i in order])
    result, refused = cluster(["a", "b", "c"], {}, NO_DET, pairs, cannot_link=[("c", "a")])
    keys = key_of(result)
    assert keys["a"] != keys["c"]
    assert refused >= 1


def test_a_steward_must_link_joins_records_no_pair_linked() -> None:
    result, _ = cluster(["a", "b", "c"], {}, NO_DET, scored([]), must_link=[("c", "a")])
    keys = key_of(result)
    assert keys["a"] == keys["c"] != keys["b"]
    assert dict(zip(result.rid, result.match_rule))["c"] == "steward"


def test_a_must_link_never_overrides_different_identifiers() -> None:
    ids = {"a": {"LEI": "X"}, "b": {"LEI": "Y"}}
    result, refused = cluster(["a", "b"], ids, NO_DET, scored([]), must_link=[("a", "b")])
    keys = key_of(result)
    assert keys["a"] != keys["b"] and refused == 1
