"""Live steward decisions (mdm/decisions.py): supersession, undo, splits, overrides, contradictions."""

from __future__ import annotations

import hashlib

from mdm import decisions as dm


def d(seq: int, kind: str, a: str | None = None, b: str | None = None, **kw: object) -> dm.Decision:
    return dm.Decision(
        id=f"D{seq}", seq=seq, kind=kind, reason="r", user="u", decided_at=f"2026-01-0{seq}", rid_a=a, rid_b=b, **kw
    )  # type: ignore[arg-type]


def test_later_decision_on_the_same_pair_wins_and_supersedes_the_earlier():
    res = dm.resolve([d(1, "match", "s:1", "s:2"), d(2, "no_match", "s:2", "s:1")])
    assert res.must_link == [] and res.cannot_link == [("s:1", "s:2")]
    assert [x.id for x in res.live] == ["D2"]
    assert res.superseded_by == {"D1": "D2"}


def test_undo_returns_the_pair_to_the_model_and_does_not_revive_the_older_decision():
    ds = [d(1, "match", "s:1", "s:2"), d(2, "no_match", "s:1", "s:2"), d(3, "undo", target_id="D2")]
    res = dm.resolve(ds)
    assert res.must_link == [] and res.cannot_link == [] and res.live == []
    assert res.superseded_by == {"D1": "D2", "D2": "D3"}
    assert res.status(ds[1]) == "undone" and res.status(ds[0]) == "superseded" and res.status(ds[2]) == "undo"


def test_order_is_by_seq_not_by_list_position():
    res = dm.resolve([d(2, "no_match", "s:1", "s:2"), d(1, "match", "s:1", "s:2")])
    assert res.cannot_link == [("s:1", "s:2")]


def test_split_cannot_links_the_record_to_its_cluster_at_decision_time_and_beats_an_earlier_match():
    ds = [d(1, "match", "s:1", "s:2"), d(2, "split", "s:1", golden_id="G1", cannot_link=("s:2", "s:3"))]
    res = dm.resolve(ds)
    assert res.cannot_link == [("s:1", "s:2"), ("s:1", "s:3")] and res.must_link == []
    assert res.superseded_by == {"D1": "D2"}
    # A later match on one of the split's pairs wins that pair only; the split stays live for the other.
    res = dm.resolve([*ds, d(3, "match", "s:3", "s:1")])
    assert res.must_link == [("s:1", "s:3")] and res.cannot_link == [("s:1", "s:2")]
    assert {x.id for x in res.live} == {"D2", "D3"}


def test_overrides_latest_per_golden_attribute_and_undo():
    ds = [
        d(1, "override", golden_id="G1", attribute="legal_name", value="A"),
        d(2, "override", golden_id="G1", attribute="legal_name", value="B"),
        d(3, "override", golden_id="G1", attribute="city", value="C"),
    ]
    res = dm.resolve(ds)
    assert [(x.attribute, x.value) for x in res.overrides] == [("city", "C"), ("legal_name", "B")]
    res = dm.resolve([*ds, d(4, "undo", target_id="D2")])
    assert [(x.attribute, x.value) for x in res.overrides] == [("city", "C")]


def test_undo_of_an_undo_or_of_a_later_decision_is_ignored():
    ds = [
        d(1, "match", "s:1", "s:2"),
        d(2, "undo", target_id="D1"),
        d(3, "undo", target_id="D2"),
        d(4, "undo", target_id="D9"),
    ]
    res = dm.resolve(ds)
    assert res.must_link == [] and res.undone == {"D1": "D2"}


def test_contradiction_finds_a_cannot_link_inside_a_must_link_chain():
    ds = [d(1, "match", "s:1", "s:2"), d(2, "match", "s:2", "s:3"), d(3, "no_match", "s:1", "s:3")]
    res = dm.resolve(ds)
    assert dm.contradiction(res) == ("s:1", "s:3")
    assert dm.must_link_path(res.must_link, "s:1", "s:3") == ["s:1", "s:2", "s:3"]
    assert dm.contradiction(dm.resolve(ds[:2])) is None


def test_item_ids_are_stable_and_answered_by_the_decisions_on_their_subject():
    assert dm.item_id("pair", "a:1|b:2") == "R" + hashlib.md5(b"pair|a:1|b:2").hexdigest()[:16]
    m = d(1, "match", "b:2", "a:1")
    assert dm.item_id("pair", "a:1|b:2") in m.answered_items()
    o = d(2, "override", golden_id="G1", attribute="address", value="x", item_id="Rexplicit")
    assert o.answered_items() == {"Rexplicit", dm.item_id("conflict", "G1|address")}
    s = d(3, "split", "a:1", golden_id="G7", cannot_link=("c:3",))
    assert s.answered_items() == {dm.item_id("weak_cluster", "G7"), dm.item_id("pair", "a:1|c:3")}


def test_fingerprint_changes_with_the_live_constraints_only():
    a = dm.fingerprint(dm.resolve([d(1, "match", "s:1", "s:2")]))
    b = dm.fingerprint(dm.resolve([d(5, "match", "s:2", "s:1")]))
    c = dm.fingerprint(dm.resolve([d(1, "no_match", "s:1", "s:2")]))
    assert a == b and a[0] != c[0] and a[1] == c[1]
