"""The name features of mdm.matching.compare (name, name_tokens, name_distinct), computed with per-alias
preparation and per-pair-of-alias-lists reuse, equal to the last bit a straightforward per-pair reference (the
implementation before the optimisation, kept here verbatim) on real company names and on near twins of them."""

from __future__ import annotations

import csv
import json
import re
import struct
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from mdm.matching import MatchSettings, candidate_pairs, compare
from mdm.name_tokens import _near_twin, alias_token_lists, alias_tokens, token_evidence, token_weights
from mdm.schema import ORGANIZATION
from mdm.standardise import standardise_records, tokens
from mdm.text import abbreviates, has_cjk

# --- the reference: the per-pair code as it was -------------------------------------------------------------------

_NUMBERISH = re.compile(r"[0-9]+|(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})")


def ref_best_alias_similarity(a: list[str], b: list[str]) -> float:
    best = 0.0
    for x in a:
        for y in b:
            if has_cjk(x) != has_cjk(y):
                continue
            s = fuzz.ratio(x, y) if has_cjk(x) else max(fuzz.ratio(x, y), fuzz.token_sort_ratio(x, y))
            best = max(best, s / 100.0)
    return best


def ref_token_similarity(t: str, u: str) -> float:
    if abbreviates(t, u) or abbreviates(u, t):
        return 0.9
    return fuzz.ratio(t, u) / 100.0


def ref_alias_tokens(alias: str) -> tuple[bool, tuple[str, ...], frozenset[str]]:
    toks = set(tokens(alias))
    return has_cjk(alias), tuple(sorted(toks)), frozenset(toks)


def ref_token_evidence(a: list, b: list, idf: dict[str, float], top: float) -> tuple[float, float]:
    best, distinct = 0.0, float("nan")
    for cjk_a, ta, _ in a:
        for cjk_b, tb, set_b in b:
            if cjk_a != cjk_b or not ta or not tb:
                continue
            shared = 0.0
            matched_b: set[str] = set()
            left_a: list[str] = []
            for t in ta:
                if t in set_b:
                    shared += idf.get(t, 1.0)
                    matched_b.add(t)
                    continue
                if not cjk_a and not _NUMBERISH.fullmatch(t):
                    cand = max(
                        (
                            (ref_token_similarity(t, u), u)
                            for u in tb
                            if u not in matched_b and not _NUMBERISH.fullmatch(u)
                        ),
                        default=(0.0, ""),
                    )
                    if cand[0] >= 0.8:
                        shared += cand[0] * (idf.get(t, 1.0) + idf.get(cand[1], 1.0)) / 2
                        matched_b.add(cand[1])
                        continue
                left_a.append(t)
            left_b = [u for u in tb if u not in matched_b]
            union = sum(idf.get(t, 1.0) for t in ta) + sum(idf.get(t, 1.0) for t in tb) - shared
            overlap = shared / union if union > 0 else 0.0
            if not left_a and not left_b:
                d = 1.0
            elif not left_a or not left_b:
                d = 1.0 - 0.5 * min(1.0, max(idf.get(t, 1.0) for t in left_a or left_b) / top)
            elif any(_NUMBERISH.fullmatch(t) for t in left_a) and any(_NUMBERISH.fullmatch(u) for u in left_b):
                d = 0.0
            else:
                rarest = min(max(idf.get(t, 1.0) for t in left_a), max(idf.get(u, 1.0) for u in left_b))
                d = 1.0 - min(1.0, rarest / top)
            if overlap > best or (overlap == best and not d <= distinct):
                best, distinct = overlap, d
    return best, distinct


def ref_name_features(std: pd.DataFrame, pairs: pd.DataFrame, idf: dict[str, float]) -> list[tuple[float, ...]]:
    aliases = std.set_index("rid")["aliases"].to_dict()
    top = max(idf.values(), default=1.0)
    out = []
    for a, b in zip(pairs.rid_a, pairs.rid_b):
        ta, tb = [ref_alias_tokens(x) for x in aliases[a]], [ref_alias_tokens(x) for x in aliases[b]]
        out.append(
            (ref_best_alias_similarity(list(aliases[a]), list(aliases[b])), *ref_token_evidence(ta, tb, idf, top))
        )
    return out


def bits(values: tuple[float, ...] | list[float]) -> tuple[bytes, ...]:
    """Floats as their IEEE bytes: equal to the last bit, NaN equal to NaN."""
    return tuple(struct.pack("<d", v) for v in values)


# --- real names ----------------------------------------------------------------------------------------------------


def _real_names(realdata: Path) -> list[tuple[str, str]]:
    """(name, country) of real companies: Companies House, GLEIF (many countries and scripts), the Chinese
    register (the first rows, read in place) and the hand-made matching / non-matching name pairs."""
    names: list[tuple[str, str]] = []
    with (realdata / "uk-companies-house/companieshr-basiccompanydata-1000.csv").open(encoding="utf-8") as f:
        names += [(row["CompanyName"], "GB") for row in csv.DictReader(f)]
    gleif = json.loads((realdata / "gleif/goldencopy-lei2-intra-day-20240505-0000.json").read_text("utf-8"))
    for rec in gleif["records"]:
        entity = rec["Entity"]
        names.append((entity["LegalName"]["$"], entity["LegalAddress"]["Country"]["$"]))
    with (realdata / "cn-enterprise-registry/cn-enterprise-registration-1998-all-provinces.csv").open(
        encoding="utf-8"
    ) as f:
        for i, row in enumerate(csv.DictReader(f)):
            if i >= 300:
                break
            names.append((row["企业名称"].replace("\x00", ""), "CN"))
    pairs = realdata / "company-name-pairs"
    with (pairs / "easonanalytica-positive-name-variations.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names += [(row["canonical_name"], row["country_code"]), (row["variation"], row["country_code"])]
    with (pairs / "easonanalytica-negative-name-pairs.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names += [
                (row["canonical_name_x"], row["country_code_x"]),
                (row["canonical_name_y"], row["country_code_y"]),
            ]
    return [(n, c) for n, c in names if n.strip()]


def _std(names: list[tuple[str, str]]) -> pd.DataFrame:
    rows = [
        {c: None for c in ORGANIZATION}
        | {"source": "s", "source_format": "sql", "source_id": f"{i:05d}", "name": n}
        | {"country": c}
        for i, (n, c) in enumerate(names)
    ]
    return standardise_records(pd.DataFrame(rows, dtype=object))


@pytest.fixture(scope="module")
def real_std(realdata: Path) -> pd.DataFrame:
    return _std(_real_names(realdata))


def _assert_same_as_reference(std: pd.DataFrame, pairs: pd.DataFrame) -> None:
    idf = token_weights(std)
    vec = compare(std, pairs, idf)
    got = [bits(v) for v in vec[["name", "name_tokens", "name_distinct"]].itertuples(index=False)]
    assert got == [bits(v) for v in ref_name_features(std, pairs, idf)]


def test_name_features_equal_the_reference_on_the_candidate_pairs_of_real_names(real_std: pd.DataFrame) -> None:
    pairs, _ = candidate_pairs(real_std, MatchSettings(window=7))
    aliases = real_std.set_index("rid")["aliases"].to_dict()
    twins = sum(
        any(_near_twin(t, u) for x in aliases[a] for y in aliases[b] for t in tokens(x) for u in tokens(y) if t != u)
        for a, b in zip(pairs.rid_a, pairs.rid_b)
    )
    assert len(pairs) > 1000 and twins > 50  # many pairs, and among them near twins that meet by similarity
    _assert_same_as_reference(real_std, pairs)
    # Every pair the other way round too: the evidence is not symmetric in its tie-breaking.
    _assert_same_as_reference(real_std, pairs.rename(columns={"rid_a": "rid_b", "rid_b": "rid_a"}))


_EDITS = st.sampled_from(["drop", "swap", "double", "number", "roman", "contract", "same"])


def _edit(name: str, edit: str, at: int) -> str:
    words = name.split()
    i = at % max(len(words), 1)
    w = words[i] if words else ""
    if edit == "drop" and len(w) > 3:
        words[i] = w[: at % len(w)] + w[at % len(w) + 1 :]
    elif edit == "swap" and len(w) > 3:
        k = at % (len(w) - 1)
        words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    elif edit == "double" and w:
        words[i] = w + w[-1]
    elif edit == "number":
        words.append(str(at % 12))
    elif edit == "roman":
        words.append(["I", "II", "III", "IV", "V", "IX", "X"][at % 7])
    elif edit == "contract" and len(w) > 6:
        words[i] = w[0] + "".join(c for c in w[1:5] if c.lower() not in "aeiou")
    return " ".join(words)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_name_features_equal_the_reference_on_near_twins_of_real_names(real_std: pd.DataFrame, data) -> None:
    names = list(zip(real_std["name"], real_std["country"]))
    picks = data.draw(st.lists(st.integers(0, len(names) - 1), min_size=2, max_size=12))
    edited = []
    for p in picks:
        name, country = names[p]
        edited.append((name, country))
        edited.append((_edit(name, data.draw(_EDITS), data.draw(st.integers(0, 50))), country))
    std = _std(edited)
    rids = list(std["rid"])
    pairs = pd.DataFrame([(a, b) for a in rids for b in rids if a != b], columns=["rid_a", "rid_b"])
    _assert_same_as_reference(std, pairs)


def test_alias_tokens_carry_weights_and_numbers_once_per_alias() -> None:
    cjk, toks, token_set, weights, total, numberish = alias_tokens("acme ii trading 2", {"acme": 3.0, "trading": 1.5})
    assert (cjk, toks, token_set) == (False, ("2", "acme", "ii", "trading"), frozenset(toks))
    assert weights == (1.0, 3.0, 1.0, 1.5) and total == 6.5
    assert numberish == (True, False, True, False)
    assert alias_tokens("苹果上海", {})[:2] == (True, ("上海", "果上", "苹果"))


def test_alias_token_lists_prepare_each_distinct_alias_once() -> None:
    idf = {"acme": 3.0, "trading": 1.5}
    lists = [("acme trading", "苹果上海"), ("acme trading",), ()]
    got = alias_token_lists(lists, idf)
    assert got == [[alias_tokens(al, idf) for al in als] for als in lists]
    assert got[0][0] is got[1][0]  # the alias of two records prepared once


def test_token_evidence_picks_the_last_of_equally_similar_twins() -> None:
    # 'banks' meets 'banka' and 'banko' alike (ratio 0.8): the later one in sorted order wins, so 'banka' is left
    # over on the right.
    idf = {"banks": 2.0, "banka": 4.0, "banko": 8.0}
    a, b = [alias_tokens("banks", idf)], [alias_tokens("banko banka", idf)]
    assert fuzz.ratio("banks", "banka") == fuzz.ratio("banks", "banko") == 80.0
    assert token_evidence(a, b, 8.0) == (0.8 * (2.0 + 8.0) / 2 / (2.0 + 12.0 - 0.8 * (2.0 + 8.0) / 2), 0.75)
    assert token_evidence(a, b, 8.0) == ref_token_evidence(
        [ref_alias_tokens("banks")], [ref_alias_tokens("banko banka")], idf, 8.0
    )


def test_aliases_with_the_same_tokens_or_text_decide_the_pair_wherever_they_stand_in_the_lists() -> None:
    # The first aliases differ; the later ones agree (the same text, or the same tokens in another order), which
    # ends the search for the best pair of aliases early: the features must be those of the full search.
    rows = [
        ("Baltic Amber Trading", ["Amber Holdings", "Nordic Amber Trading"]),
        ("Zeta Logistics", ["Nordic Amber Trading", "Trading Nordic Amber"]),
        ("Trading Amber Nordic", ["Baltic Amber Trading AB"]),
        ("苹果贸易", ["Apple Trading", "苹果(上海)贸易"]),
        ("Apple Trading", ["苹果贸易"]),
    ]
    std = standardise_records(
        pd.DataFrame(
            [
                {c: None for c in ORGANIZATION}
                | {"source": "s", "source_format": "sql", "source_id": f"{i}", "name": name, "country": "SE"}
                | {"other_names": json.dumps([{"name": n} for n in others])}
                for i, (name, others) in enumerate(rows)
            ],
            dtype=object,
        )
    )
    assert max(len(a) for a in std["aliases"]) >= 3
    rids = list(std["rid"])
    pairs = pd.DataFrame([(a, b) for a in rids for b in rids if a != b], columns=["rid_a", "rid_b"])
    _assert_same_as_reference(std, pairs)
    vec = compare(std, pairs, token_weights(std)).set_index(["rid_a", "rid_b"])
    assert vec.loc[("s:0", "s:1"), ["name", "name_tokens", "name_distinct"]].tolist() == [1.0, 1.0, 1.0]
    assert vec.loc[("s:1", "s:2"), ["name_tokens", "name_distinct"]].tolist() == [1.0, 1.0]  # the same tokens
