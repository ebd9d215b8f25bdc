"""Deterministic links, candidate generation, comparison and scoring (mdm.matching) on small standardised frames."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mdm.matching import MatchSettings, candidate_pairs, compare, deterministic_pairs, score
from mdm.schema import ORGANIZATION
from mdm.standardise import standardise_records

LEI = "001GPB6A9XPE8XJICC14"
LEI_HSBC = "MLU0ZO3ML4LN2LL2TL39"
BAD_LEI = "001GPB6A9XPE8XJICC15"
USCC = "91310000X0727109X6"


def std_frame(*rows: dict) -> pd.DataFrame:
    """Standardised frame of canonical organisation rows (source 's' and format 'sql' unless given)."""
    full = [{c: None for c in ORGANIZATION} | {"source": "s", "source_format": "sql"} | r for r in rows]
    return standardise_records(pd.DataFrame(full, dtype=object))


def pair_set(pairs: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(pairs["rid_a"], pairs["rid_b"]))


LONDON = {"country": "GB", "city": "London", "postal_code": "SW1A 1AA", "address": "1 High Street"}


# --- deterministic pairs ------------------------------------------------------------------------------------------

def test_records_sharing_a_valid_lei_are_linked_as_a_star() -> None:
    std = std_frame(
        {"source_id": "3", "name": "Acme", "lei": LEI},
        {"source_id": "1", "name": "Completely Different", "lei": LEI.lower()},
        {"source_id": "2", "name": "Acme Holdings", "lei": LEI},
        {"source_id": "4", "name": "Other", "lei": LEI_HSBC},
    )
    det = deterministic_pairs(std)
    assert list(det.columns) == ["rid_a", "rid_b", "rule"]
    assert pair_set(det) == {("s:1", "s:2"), ("s:1", "s:3")}
    assert set(det["rule"]) == {"id:LEI"}


def test_records_sharing_an_invalid_identifier_are_not_linked() -> None:
    std = std_frame(
        {"source_id": "1", "name": "Acme", "lei": BAD_LEI},
        {"source_id": "2", "name": "Acme", "lei": BAD_LEI},
        {"source_id": "3", "name": "Beta", "uscc": USCC[:-1] + "7"},
        {"source_id": "4", "name": "Beta", "uscc": USCC[:-1] + "7"},
    )
    assert deterministic_pairs(std).empty


def test_deterministic_rules_name_their_scheme_and_pairs_are_unique() -> None:
    std = std_frame(
        # Same LEI and same USCC: one pair, under the first scheme.
        {"source_id": "a", "name": "X", "lei": LEI, "uscc": USCC},
        {"source_id": "b", "name": "X", "lei": LEI, "registration_number": USCC, "country": "CN"},
        # A Companies House number from a CH row and from a GB CRM row.
        {"source": "ch", "source_format": "companies_house_csv", "source_id": "8209948", "name": "Y"},
        {"source_id": "c", "name": "Y", "registration_number": "08209948", "country": "UK"},
    )
    det = deterministic_pairs(std)
    assert det.sort_values("rid_a")[["rid_a", "rid_b", "rule"]].values.tolist() == [
        ["ch:8209948", "s:c", "id:GB-COH"],
        ["s:a", "s:b", "id:LEI"],
    ]
    assert (det["rid_a"] < det["rid_b"]).all()


def test_deterministic_pairs_of_records_without_identifiers_is_empty() -> None:
    det = deterministic_pairs(std_frame({"source_id": "1", "name": "A"}, {"source_id": "2", "name": "A"}))
    assert det.empty
    assert list(det.columns) == ["rid_a", "rid_b", "rule"]


# --- candidate pairs ----------------------------------------------------------------------------------------------

FILLER = ["Alpha Foods Ltd", "Bravo Mining Plc", "Charlie Logistics Ltd", "Delta Software Inc", "Echo Media GmbH",
          "Foxtrot Textiles Ltd", "Golf Shipping Ltd", "Hotel Property Plc", "India Pharma Ltd", "Juliet Retail Ltd"]


def filler_rows() -> list[dict]:
    return [{"source_id": f"f{i:02d}", "name": n} for i, n in enumerate(FILLER)]


def test_candidate_pairs_find_a_typo_twin_but_not_every_pair() -> None:
    std = std_frame(
        *filler_rows(),
        {"source_id": "t1", "name": "Mercury Holdings Ltd"},
        {"source_id": "t2", "name": "Mercury Holdngs Limited"},   # typo at the end
        {"source_id": "u1", "name": "Xenon Trading Ltd"},
        {"source_id": "u2", "name": "Zenon Trading Ltd"},          # typo at the start: met via the reversed core
    )
    pairs, stats = candidate_pairs(std, MatchSettings())
    found = pair_set(pairs)
    assert ("s:t1", "s:t2") in found
    assert ("s:u1", "s:u2") in found
    # Blocking, not a cross product.
    n = len(std)
    assert len(pairs) < n * (n - 1) // 2
    assert ("s:f00", "s:f09") not in found
    assert stats["candidate_pairs"] == len(pairs)
    assert stats["aliases"] == n
    assert stats["skipped_common_keys"] == 0


def test_candidate_pairs_find_an_english_alias_twin() -> None:
    std = std_frame(
        *filler_rows(),
        {"source": "cn", "source_id": "1", "name": "华为技术有限公司", "name_en": "Huawei Technologies Co., Ltd."},
        {"source": "sec", "source_id": "2", "name": "HUAWEI TECHNOLOGIES CO LTD"},
    )
    pairs, _ = candidate_pairs(std, MatchSettings())
    assert ("cn:1", "sec:2") in pair_set(pairs)


def test_candidate_pairs_are_ordered_unique_and_never_self_pairs() -> None:
    std = std_frame(
        *filler_rows(),
        {"source_id": "z", "name": "Acme Ltd", "name_en": "Acme Limited",
         "other_names": json.dumps([{"name": "ACME LTD", "type": "previous"}])},
        {"source_id": "a", "name": "Acme Ltd", "name_en": "Acme"},
        {"source_id": "m", "name": "Acme Co Ltd"},
    )
    pairs, _ = candidate_pairs(std, MatchSettings())
    assert (pairs["rid_a"] < pairs["rid_b"]).all()
    assert not pairs.duplicated(["rid_a", "rid_b"]).any()
    assert {("s:a", "s:m"), ("s:a", "s:z"), ("s:m", "s:z")} <= pair_set(pairs)
    assert pairs.values.tolist() == sorted(pairs.values.tolist())


def test_candidate_pairs_skip_over_common_keys_sorting_last() -> None:
    common = [{"source_id": f"c{i}", "name": "Zulu Trading Ltd"} for i in range(5)]
    std = std_frame(*filler_rows(), {"source_id": "t1", "name": "Mercury Holdings Ltd"},
                    {"source_id": "t2", "name": "Mercury Holdngs Ltd"}, *common)
    pairs, stats = candidate_pairs(std, MatchSettings(max_block_size=3))
    assert stats["skipped_common_keys"] == 1
    assert not any(a.startswith("s:c") or b.startswith("s:c") for a, b in pair_set(pairs))
    assert ("s:t1", "s:t2") in pair_set(pairs)
    # With a larger limit the same key is a block.
    pairs, stats = candidate_pairs(std, MatchSettings(max_block_size=200))
    assert stats["skipped_common_keys"] == 0
    assert ("s:c0", "s:c4") in pair_set(pairs)


def test_candidate_pairs_skip_over_common_keys_sorting_first() -> None:
    common = [{"source_id": f"c{i}", "name": "Aaa Trading Ltd"} for i in range(5)]
    std = std_frame(*common, *filler_rows(), {"source_id": "t1", "name": "Mercury Holdings Ltd"},
                    {"source_id": "t2", "name": "Mercury Holdngs Ltd"})
    pairs, stats = candidate_pairs(std, MatchSettings(max_block_size=3))
    assert stats["skipped_common_keys"] == 1
    assert not any(a.startswith("s:c") or b.startswith("s:c") for a, b in pair_set(pairs))
    assert ("s:t1", "s:t2") in pair_set(pairs)


def test_candidate_pairs_of_a_single_record_is_empty() -> None:
    pairs, stats = candidate_pairs(std_frame({"source_id": "1", "name": "Acme"}), MatchSettings())
    assert pairs.empty
    assert stats["candidate_pairs"] == 0


# --- compare and score --------------------------------------------------------------------------------------------

def scored(std: pd.DataFrame, pairs: list[tuple[str, str]], settings: MatchSettings = MatchSettings()) -> pd.DataFrame:
    frame = pd.DataFrame(pairs, columns=["rid_a", "rid_b"])
    return score(compare(std, frame), settings).set_index(["rid_a", "rid_b"])


def test_identical_records_are_a_match_with_full_score() -> None:
    std = std_frame({"source_id": "1", "name": "Acme Holdings PLC", **LONDON},
                    {"source_id": "2", "name": "ACME HLDGS P.L.C.", **LONDON})
    vec = compare(std, pd.DataFrame({"rid_a": ["s:1"], "rid_b": ["s:2"]}))
    assert vec[["name", "country", "city", "postal", "address", "branch"]].iloc[0].tolist() == [1.0] * 6
    row = scored(std, [("s:1", "s:2")]).loc[("s:1", "s:2")]
    assert row["score"] == 1.0
    assert row["band"] == "match"


def test_different_names_are_a_non_match_even_at_the_same_address() -> None:
    std = std_frame({"source_id": "1", "name": "Acme Holdings PLC", **LONDON},
                    {"source_id": "2", "name": "Zenith Shipping Ltd", **LONDON})
    row = scored(std, [("s:1", "s:2")]).loc[("s:1", "s:2")]
    assert row["band"] == "non-match"
    assert row["score"] < 0.7


def test_cjk_and_latin_names_are_not_compared_with_each_other() -> None:
    std = std_frame({"source_id": "1", "name": "华为技术有限公司", **LONDON},
                    {"source_id": "2", "name": "Huawei Technologies", **LONDON})
    vec = compare(std, pd.DataFrame({"rid_a": ["s:1"], "rid_b": ["s:2"]}))
    assert vec.loc[0, "name"] == 0.0


@pytest.mark.parametrize(("branch", "head"), [
    ("Acme Holdings PLC London Branch", "Acme Holdings PLC"),
    ("华为技术有限公司北京分公司", "华为技术有限公司"),
])
def test_a_branch_and_its_head_office_are_never_a_match(branch: str, head: str) -> None:
    std = std_frame({"source_id": "1", "name": branch, **LONDON}, {"source_id": "2", "name": head, **LONDON})
    lenient = MatchSettings(match_threshold=0.3, review_threshold=0.2)
    row = scored(std, [("s:1", "s:2")], lenient).loc[("s:1", "s:2")]
    assert row["branch"] == 0.0
    assert row["band"] == "review"
    assert row["score"] < 0.3


def test_branch_cap_applies_even_to_perfect_vectors() -> None:
    vec = pd.DataFrame({"rid_a": ["a", "b"], "rid_b": ["x", "y"], "name": [1.0, 1.0], "country": [1.0, 1.0],
                        "city": [1.0, 1.0], "postal": [1.0, 1.0], "address": [1.0, 1.0], "branch": [0.0, 1.0]})
    out = score(vec, MatchSettings())
    assert out["band"].tolist() == ["review", "match"]
    assert out.loc[0, "score"] < 0.85
    assert out.loc[1, "score"] == 1.0


def test_two_branches_of_the_same_name_can_match() -> None:
    std = std_frame({"source_id": "1", "name": "招商银行股份有限公司深圳南山支行", **LONDON},
                    {"source_id": "2", "name": "招商銀行股份有限公司深圳南山支行", **LONDON})
    row = scored(std, [("s:1", "s:2")]).loc[("s:1", "s:2")]
    assert row["branch"] == 1.0
    assert row["band"] == "match"


def test_thresholds_move_the_bands() -> None:
    vec = pd.DataFrame({"rid_a": ["a"], "rid_b": ["b"], "name": [0.8], "country": [1.0], "city": [np.nan],
                        "postal": [np.nan], "address": [np.nan], "branch": [1.0]})
    # 0.7 * 0.8 + 0.3 * 1.0 = 0.86
    assert score(vec, MatchSettings())["score"].iloc[0] == pytest.approx(0.86)
    assert score(vec, MatchSettings())["band"].iloc[0] == "match"
    assert score(vec, MatchSettings(match_threshold=0.9))["band"].iloc[0] == "review"
    assert score(vec, MatchSettings(match_threshold=0.95, review_threshold=0.9))["band"].iloc[0] == "non-match"


def test_context_is_neutral_when_nothing_but_the_name_is_known() -> None:
    vec = pd.DataFrame({"rid_a": ["a"], "rid_b": ["b"], "name": [1.0], "country": [np.nan], "city": [np.nan],
                        "postal": [np.nan], "address": [np.nan], "branch": [1.0]})
    out = score(vec, MatchSettings())
    assert out["score"].iloc[0] == pytest.approx(0.85)
    assert json.loads(out["contributions"].iloc[0]) == {
        "name": 0.7, "context": 0.15, "country": None, "city": None, "postal": None, "address": None}


def test_contributions_explain_the_score() -> None:
    std = std_frame({"source_id": "1", "name": "Acme Holdings PLC", **LONDON},
                    {"source_id": "2", "name": "Acme Holding PLC", "country": "GB", "city": "Londn",
                     "postal_code": "E1 6AN", "address": "1 High Street"})
    out = scored(std, [("s:1", "s:2")])
    row = out.loc[("s:1", "s:2")]
    contrib = json.loads(row["contributions"])
    assert set(contrib) == {"name", "context", "country", "city", "postal", "address"}
    assert contrib["name"] == pytest.approx(0.7 * row["name"], abs=1e-4)
    assert contrib["country"] == 1.0
    assert contrib["postal"] == 0.0
    assert contrib["name"] + contrib["context"] == pytest.approx(row["score"], abs=2e-4)


def test_score_of_no_pairs_is_an_empty_frame_with_the_output_columns() -> None:
    std = std_frame({"source_id": "1", "name": "Acme"})
    out = score(compare(std, pd.DataFrame(columns=["rid_a", "rid_b"])), MatchSettings())
    assert out.empty
    assert {"rid_a", "rid_b", "name", "branch", "score", "band", "contributions"} <= set(out.columns)


def test_a_missing_address_is_unknown_not_a_disagreement() -> None:
    std = std_frame({"source_id": "1", "name": "Acme Holdings PLC", **LONDON},
                    {"source_id": "2", "name": "Acme Holdings PLC", "country": "GB"})
    row = scored(std, [("s:1", "s:2")]).loc[("s:1", "s:2")]
    assert np.isnan(row["city"])
    assert np.isnan(row["address"])
    assert row["score"] == 1.0


def test_compare_works_when_no_record_has_an_address() -> None:
    std = std_frame({"source_id": "1", "name": "Acme Ltd", "country": "GB"},
                    {"source_id": "2", "name": "Acme Limited", "country": "GB"})
    row = scored(std, [("s:1", "s:2")]).loc[("s:1", "s:2")]
    assert np.isnan(row["address"])
    assert row["band"] == "match"
