"""Persistent golden ids across runs (mdm.golden_ids): keep, merge, split, retire and mint."""

from __future__ import annotations

import re

import pandas as pd

from mdm.golden_ids import assign, mint

GID = re.compile(r"^G[0-9A-F]{16}$")


def clusters(*groups: list[str]) -> pd.DataFrame:
    """One cluster per group; its key is the smallest rid (as mdm.clustering gives it)."""
    return pd.DataFrame([(r, min(g)) for g in groups for r in g], columns=["rid", "cluster_key"])


def gid_of(assigned: pd.DataFrame) -> dict[str, str]:
    return dict(zip(assigned["rid"], assigned["golden_id"]))


def origin_of(assigned: pd.DataFrame) -> dict[str, str]:
    return dict(zip(assigned["cluster_key"], assigned["id_origin"]))


def first_run(*groups: list[str]) -> tuple[dict[str, str], dict[str, int], set[str]]:
    """previous, minted_order, taken as a store would hold them after publishing a first run."""
    assigned, _ = assign(clusters(*groups), {}, {}, set())
    previous = gid_of(assigned)
    order = {g: i for i, g in enumerate(dict.fromkeys(assigned.sort_values("cluster_key")["golden_id"]))}
    return previous, order, set(previous.values())


def test_first_run_mints_opaque_unique_ids() -> None:
    assigned, redirects = assign(clusters(["s:1", "s:2"], ["s:3"], ["t:0"]), {}, {}, set())
    ids = gid_of(assigned)
    assert ids["s:1"] == ids["s:2"]
    assert len({ids["s:1"], ids["s:3"], ids["t:0"]}) == 3
    for g in ids.values():
        assert GID.match(g)
        assert not g.isdigit()
        assert g not in {"s:1", "s:2", "s:3", "t:0"}
    assert set(assigned["id_origin"]) == {"new"}
    assert redirects.empty
    assert list(redirects.columns) == ["retired_id", "surviving_id", "reason"]


def test_minting_is_deterministic_and_independent_of_row_order() -> None:
    a, _ = assign(clusters(["s:1", "s:2"], ["s:3"]), {}, {}, set())
    b, _ = assign(clusters(["s:3"], ["s:2", "s:1"]).iloc[::-1], {}, {}, set())
    assert gid_of(a) == gid_of(b)
    # The id comes from the cluster's smallest member, not from its position.
    c, _ = assign(clusters(["s:0"], ["s:1", "s:2"], ["s:3"]), {}, {}, set())
    assert gid_of(c)["s:1"] == gid_of(a)["s:1"]
    assert gid_of(c)["s:3"] == gid_of(a)["s:3"]


def test_mint_avoids_taken_ids() -> None:
    first = mint("s:1", set())
    assert first == mint("s:1", set())
    second = mint("s:1", {first})
    assert second != first and GID.match(second)
    assert mint("s:1", {first, second}) not in {first, second}
    assigned, _ = assign(clusters(["s:1"]), {}, {}, {first})
    assert gid_of(assigned)["s:1"] == second


def test_unchanged_input_keeps_every_id() -> None:
    groups = (["s:1", "s:2"], ["s:3"], ["t:0", "t:9"])
    previous, order, taken = first_run(*groups)
    assigned, redirects = assign(clusters(*groups), previous, order, taken)
    assert gid_of(assigned) == previous
    assert set(assigned["id_origin"]) == {"kept"}
    assert redirects.empty


def test_a_cluster_that_gains_records_keeps_its_id() -> None:
    previous, order, taken = first_run(["s:2", "s:3"], ["s:7"])
    assigned, redirects = assign(clusters(["s:1", "s:2", "s:3"], ["s:7"]), previous, order, taken)
    ids = gid_of(assigned)
    # The new record s:1 becomes the cluster key, the id stays.
    assert ids["s:1"] == ids["s:2"] == previous["s:2"]
    assert ids["s:7"] == previous["s:7"]
    assert origin_of(assigned)["s:1"] == "kept"
    assert redirects.empty


def test_merge_keeps_the_oldest_id_and_redirects_the_other() -> None:
    previous = {"s:1": "GOLD-A", "s:2": "GOLD-A", "s:3": "GOLD-B", "s:4": "GOLD-B"}
    taken = {"GOLD-A", "GOLD-B"}
    # GOLD-B was minted first: it survives even though its records do not hold the cluster key.
    assigned, redirects = assign(clusters(["s:1", "s:2", "s:3", "s:4"]), previous, {"GOLD-B": 0, "GOLD-A": 1}, taken)
    assert set(assigned["golden_id"]) == {"GOLD-B"}
    assert set(assigned["id_origin"]) == {"merged"}
    assert redirects.values.tolist() == [["GOLD-A", "GOLD-B", "merge"]]
    # With the opposite age the other one survives.
    assigned, redirects = assign(clusters(["s:1", "s:2", "s:3", "s:4"]), previous, {"GOLD-A": 0, "GOLD-B": 1}, taken)
    assert set(assigned["golden_id"]) == {"GOLD-A"}
    assert redirects.values.tolist() == [["GOLD-B", "GOLD-A", "merge"]]


def test_merge_of_three_redirects_both_younger_ids() -> None:
    previous = {"a": "G1", "b": "G2", "c": "G3"}
    order = {"G1": 5, "G2": 3, "G3": 9}
    assigned, redirects = assign(clusters(["a", "b", "c"]), previous, order, set(previous.values()))
    assert set(assigned["golden_id"]) == {"G2"}
    assert sorted(redirects.values.tolist()) == [["G1", "G2", "merge"], ["G3", "G2", "merge"]]


def test_split_majority_part_keeps_the_id_and_the_rest_gets_new_ones() -> None:
    previous = {"s:1": "GOLD-A", "s:2": "GOLD-A", "s:3": "GOLD-A"}
    # The majority is in the cluster with the larger key: size beats key.
    assigned, redirects = assign(clusters(["s:1"], ["s:2", "s:3"]), previous, {"GOLD-A": 0}, {"GOLD-A"})
    ids = gid_of(assigned)
    assert ids["s:2"] == ids["s:3"] == "GOLD-A"
    assert ids["s:1"] != "GOLD-A" and GID.match(ids["s:1"])
    assert origin_of(assigned) == {"s:1": "new", "s:2": "kept"}
    assert redirects.empty


def test_split_tie_goes_to_the_smallest_cluster_key() -> None:
    previous = {"s:1": "GOLD-A", "s:2": "GOLD-A", "s:3": "GOLD-A", "s:4": "GOLD-A"}
    frame = clusters(["s:3", "s:4"], ["s:1", "s:2"])  # row order must not matter
    assigned, redirects = assign(frame, previous, {"GOLD-A": 0}, {"GOLD-A"})
    ids = gid_of(assigned)
    assert ids["s:1"] == ids["s:2"] == "GOLD-A"
    assert ids["s:3"] == ids["s:4"] != "GOLD-A"
    assert redirects.empty


def test_split_into_a_part_with_its_own_previous_id() -> None:
    # {1,2,3}=A and {4}=B before; now {1,2} and {3,4}: A stays with {1,2}, B (sole offer) stays with {3,4}.
    previous = {"1": "A", "2": "A", "3": "A", "4": "B"}
    assigned, redirects = assign(clusters(["1", "2"], ["3", "4"]), previous, {"A": 0, "B": 1}, {"A", "B"})
    assert gid_of(assigned) == {"1": "A", "2": "A", "3": "B", "4": "B"}
    assert redirects.empty


def test_new_ids_avoid_every_id_ever_issued() -> None:
    seed_id = mint("s:5", set())
    previous = {"s:1": "GOLD-A"}
    assigned, _ = assign(clusters(["s:1"], ["s:5"]), previous, {"GOLD-A": 0}, {"GOLD-A", seed_id})
    assert gid_of(assigned)["s:5"] not in {"GOLD-A", seed_id}


def test_an_id_whose_records_all_vanished_is_retired() -> None:
    previous = {"s:1": "GOLD-A", "s:2": "GOLD-B"}
    assigned, redirects = assign(clusters(["s:1"]), previous, {"GOLD-A": 0, "GOLD-B": 1}, {"GOLD-A", "GOLD-B"})
    assert gid_of(assigned) == {"s:1": "GOLD-A"}
    rows = redirects.astype(object).where(redirects.notna(), None).values.tolist()
    assert rows == [["GOLD-B", None, "retired"]]


def test_assign_does_not_modify_its_inputs() -> None:
    frame = clusters(["s:1", "s:2"])
    before = frame.copy()
    taken = {"X"}
    assign(frame, {}, {}, taken)
    pd.testing.assert_frame_equal(frame, before)
    assert taken == {"X"}
