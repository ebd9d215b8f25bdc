"""Deterministic links, candidate generation, comparison, Fellegi-Sunter scoring and the whole matching step
(mdm.matching) on small standardised frames."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mdm.matching import (
    FEATURES,
    PAIR_COLUMNS,
    MatchSettings,
    candidate_pairs,
    compare,
    deterministic_pairs,
    match_records,
    score,
)
from mdm.schema import ORGANIZATION
from mdm.scoring import FellegiSunter, discretise
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

FILLER = [
    "Alpha Foods Ltd",
    "Bravo Mining Plc",
    "Charlie Logistics Ltd",
    "Delta Software Inc",
    "Echo Media GmbH",
    "Foxtrot Textiles Ltd",
    "Golf Shipping Ltd",
    "Hotel Property Plc",
    "India Pharma Ltd",
    "Juliet Retail Ltd",
]


def filler_rows() -> list[dict]:
    return [{"source_id": f"f{i:02d}", "name": n} for i, n in enumerate(FILLER)]


def test_candidate_pairs_find_a_typo_twin_but_not_every_pair() -> None:
    std = std_frame(
        *filler_rows(),
        {"source_id": "t1", "name": "Mercury Holdings Ltd"},
        {"source_id": "t2", "name": "Mercury Holdngs Limited"},  # typo at the end
        {"source_id": "u1", "name": "Xenon Trading Ltd"},
        {"source_id": "u2", "name": "Zenon Trading Ltd"},  # typo at the start: met via the reversed core
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
        {
            "source_id": "z",
            "name": "Acme Ltd",
            "name_en": "Acme Limited",
            "other_names": json.dumps([{"name": "ACME LTD", "type": "previous"}]),
        },
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
    std = std_frame(
        *filler_rows(),
        {"source_id": "t1", "name": "Mercury Holdings Ltd"},
        {"source_id": "t2", "name": "Mercury Holdngs Ltd"},
        *common,
    )
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
    std = std_frame(
        *common,
        *filler_rows(),
        {"source_id": "t1", "name": "Mercury Holdings Ltd"},
        {"source_id": "t2", "name": "Mercury Holdngs Ltd"},
    )
    pairs, stats = candidate_pairs(std, MatchSettings(max_block_size=3))
    assert stats["skipped_common_keys"] == 1
    assert not any(a.startswith("s:c") or b.startswith("s:c") for a, b in pair_set(pairs))
    assert ("s:t1", "s:t2") in pair_set(pairs)


def test_candidate_pairs_of_a_single_record_is_empty() -> None:
    pairs, stats = candidate_pairs(std_frame({"source_id": "1", "name": "Acme"}), MatchSettings())
    assert pairs.empty
    assert stats["candidate_pairs"] == 0


# --- compare and score --------------------------------------------------------------------------------------------

# Level distributions of matching (M) and non-matching (U) pairs per feature, highest level last.
M = {
    "name": [0.02, 0.03, 0.05, 0.10, 0.80],
    "name_tokens": [0.02, 0.03, 0.05, 0.10, 0.80],
    "name_distinct": [0.05, 0.10, 0.25, 0.60],
    "qualifiers": [0.05, 0.95],
    "country": [0.02, 0.98],
    "city": [0.05, 0.10, 0.85],
    "postal": [0.2, 0.8],
    "address": [0.1, 0.1, 0.2, 0.6],
}
U = {
    "name": [0.60, 0.20, 0.10, 0.06, 0.04],
    "name_tokens": [0.60, 0.20, 0.10, 0.06, 0.04],
    "name_distinct": [0.15, 0.15, 0.20, 0.50],
    "qualifiers": [0.4, 0.6],
    "country": [0.2, 0.8],
    "city": [0.5, 0.2, 0.3],
    "postal": [0.9, 0.1],
    "address": [0.6, 0.2, 0.1, 0.1],
}


@pytest.fixture(scope="module")
def model() -> FellegiSunter:
    """A model trained on hand-made labelled levels: 300 matching and 2700 non-matching pairs (fixed seed)."""
    rng = np.random.default_rng(7)
    n_m, n_u = 300, 2700
    levels = np.column_stack(
        [np.concatenate([rng.choice(len(M[f]), n_m, p=M[f]), rng.choice(len(U[f]), n_u, p=U[f])]) for f in FEATURES]
    )
    return FellegiSunter(features=FEATURES).fit_supervised(levels, np.r_[np.ones(n_m, bool), np.zeros(n_u, bool)])


def scored(
    std: pd.DataFrame, pairs: list[tuple[str, str]], model: FellegiSunter, settings: MatchSettings | None = None
) -> pd.DataFrame:
    settings = settings or MatchSettings()
    frame = pd.DataFrame(pairs, columns=["rid_a", "rid_b"])
    out, used = score(compare(std, frame), settings, model)
    assert used is model
    return out.set_index(["rid_a", "rid_b"])


def vectors(**features: list[float]) -> pd.DataFrame:
    """Hand-made comparison vectors: every feature unknown (NaN) and branch 1 unless given."""
    n = len(next(iter(features.values())))
    cols = {"rid_a": [f"a{i}" for i in range(n)], "rid_b": [f"b{i}" for i in range(n)]}
    cols |= {f: [np.nan] * n for f in FEATURES} | {"branch": [1.0] * n} | features
    return pd.DataFrame(cols)


def log_odds(contributions: str) -> float:
    d = json.loads(contributions)
    return d["prior"] + sum(v["weight"] for k, v in d.items() if k != "prior")


def test_identical_records_are_a_match(model: FellegiSunter) -> None:
    std = std_frame(
        {"source_id": "1", "name": "Acme Holdings PLC", **LONDON},
        {"source_id": "2", "name": "ACME HOLDINGS P.L.C.", **LONDON},
    )
    vec = compare(std, pd.DataFrame({"rid_a": ["s:1"], "rid_b": ["s:2"]}))
    assert vec[[*FEATURES, "branch"]].iloc[0].tolist() == [1.0] * (len(FEATURES) + 1)
    row = scored(std, [("s:1", "s:2")], model).loc[("s:1", "s:2")]
    assert row["score"] > 0.999
    assert row["band"] == "match"
    # Every feature is at its top level and pulls towards a match.
    contrib = json.loads(row["contributions"])
    assert set(contrib) == {"prior", *FEATURES}
    assert all(contrib[f]["weight"] > 0 for f in FEATURES)


def test_an_abbreviated_spelling_of_the_same_name_is_a_match(model: FellegiSunter) -> None:
    std = std_frame(
        {"source_id": "1", "name": "Acme Holdings PLC", **LONDON},
        {"source_id": "2", "name": "ACME HLDGS P.L.C.", **LONDON},
    )
    row = scored(std, [("s:1", "s:2")], model).loc[("s:1", "s:2")]
    # Hldgs is no listed abbreviation any more (no real name uses it); it meets Holdings as a contraction.
    assert row["name"] >= 0.85 and row["name_tokens"] >= 0.85 and row["name_distinct"] == 1.0
    assert row["band"] == "match"


def test_different_names_are_a_non_match_even_at_the_same_address(model: FellegiSunter) -> None:
    std = std_frame(
        {"source_id": "1", "name": "Acme Holdings PLC", **LONDON},
        {"source_id": "2", "name": "Zenith Shipping Ltd", **LONDON},
    )
    row = scored(std, [("s:1", "s:2")], model).loc[("s:1", "s:2")]
    assert row[["country", "city", "postal", "address"]].tolist() == [1.0] * 4
    assert row["band"] == "non-match"
    assert row["score"] < 0.05
    contrib = json.loads(row["contributions"])
    assert contrib["name"]["weight"] < 0 and contrib["address"]["weight"] > 0


def test_a_chinese_name_meets_latin_names_only_through_its_pinyin() -> None:
    # Characters are never compared with Latin letters; the pinyin of the name is. Bank of China's registered
    # name and its pinyin form (中国银行, Zhongguo Yinhang) meet; Huawei's Chinese name and its English name
    # (华为技术 is "huawei jishu", not "technologies") stay below the lowest name level.
    std = std_frame(
        {"source_id": "1", "name": "华为技术有限公司", **LONDON},
        {"source_id": "2", "name": "Huawei Technologies", **LONDON},
        {"source_id": "3", "name": "中國銀行股份有限公司", **LONDON},
        {"source_id": "4", "name": "Zhongguo Yinhang", **LONDON},
    )
    vec = compare(std, pd.DataFrame({"rid_a": ["s:1", "s:3"], "rid_b": ["s:2", "s:4"]}))
    assert vec.loc[0, "name"] < 0.70
    assert vec.loc[0, "name_tokens"] == 0.0
    assert vec.loc[1, "name"] >= 0.93


@pytest.mark.parametrize(
    ("branch", "head"),
    [
        ("Acme Holdings PLC London Branch", "Acme Holdings PLC"),
        ("华为技术有限公司北京分公司", "华为技术有限公司"),
    ],
)
def test_a_branch_and_its_head_office_are_never_a_match(model: FellegiSunter, branch: str, head: str) -> None:
    std = std_frame({"source_id": "1", "name": branch, **LONDON}, {"source_id": "2", "name": head, **LONDON})
    vec = compare(std, pd.DataFrame({"rid_a": ["s:1"], "rid_b": ["s:2"]}))
    assert vec.loc[0, "branch"] == 0.0
    uncapped = float(model.probability(discretise(vec, FEATURES))[0])
    # Thresholds so lenient that the model's probability alone would be a match: the branch cap still holds.
    lenient = MatchSettings(match_threshold=uncapped / 2, review_threshold=uncapped / 4)
    row = scored(std, [("s:1", "s:2")], model, lenient).loc[("s:1", "s:2")]
    assert row["band"] == "review"
    assert row["score"] < lenient.match_threshold
    assert scored(std, [("s:1", "s:2")], model).loc[("s:1", "s:2"), "band"] != "match"


def test_branch_cap_applies_even_to_perfect_vectors(model: FellegiSunter) -> None:
    vec = vectors(**{f: [1.0, 1.0] for f in FEATURES}, branch=[0.0, 1.0])
    out, _ = score(vec, MatchSettings(), model)
    assert out["band"].tolist() == ["review", "match"]
    assert out.loc[0, "score"] < 0.9
    assert out.loc[1, "score"] > 0.999
    # The explanation is the model's; only the score is capped.
    assert out.loc[0, "contributions"] == out.loc[1, "contributions"]


def test_two_branches_of_the_same_name_can_match(model: FellegiSunter) -> None:
    std = std_frame(
        {"source_id": "1", "name": "招商银行股份有限公司深圳南山支行", **LONDON},
        {"source_id": "2", "name": "招商銀行股份有限公司深圳南山支行", **LONDON},
    )
    row = scored(std, [("s:1", "s:2")], model).loc[("s:1", "s:2")]
    assert row["branch"] == 1.0
    assert row["band"] == "match"


def test_thresholds_move_the_bands(model: FellegiSunter) -> None:
    vec = vectors(name=[0.95], name_tokens=[0.85], country=[1.0])
    p = float(model.probability(discretise(vec, FEATURES))[0])
    assert 0.05 < p < 0.95
    out, _ = score(vec, MatchSettings(), model)
    assert out["score"].iloc[0] == pytest.approx(p, abs=1e-6)

    def band(match: float, review: float) -> str:
        return score(vec, MatchSettings(match_threshold=match, review_threshold=review), model)[0]["band"].iloc[0]

    assert band(p - 0.01, p - 0.02) == "match"
    assert band(p + 0.01, p - 0.01) == "review"
    assert band(p + 0.02, p + 0.01) == "non-match"


def test_unknown_context_contributes_nothing(model: FellegiSunter) -> None:
    vec = vectors(
        name=[1.0, 1.0],
        name_tokens=[1.0, 1.0],
        qualifiers=[1.0, 1.0],
        country=[np.nan, 1.0],
        city=[np.nan, 0.0],
        postal=[np.nan, 0.0],
        address=[np.nan, 0.0],
    )
    out, _ = score(vec, MatchSettings(), model)
    contrib = json.loads(out["contributions"].iloc[0])
    assert set(contrib) == {"prior", "name", "name_tokens", "qualifiers"}
    # The name alone decides; the same name with disagreeing context scores lower.
    name_only = model.prior_weight() + sum(contrib[f]["weight"] for f in ("name", "name_tokens", "qualifiers"))
    assert out["score"].iloc[0] == pytest.approx(1 / (1 + 2**-name_only), abs=1e-5)
    assert out["score"].iloc[1] < out["score"].iloc[0]
    # Nothing known at all: the prior.
    out, _ = score(vectors(name=[np.nan]), MatchSettings(), model)
    assert json.loads(out["contributions"].iloc[0]) == {"prior": round(model.prior_weight(), 4)}
    assert out["score"].iloc[0] == pytest.approx(model.lam, abs=1e-6)


def test_contributions_explain_the_score(model: FellegiSunter) -> None:
    std = std_frame(
        {"source_id": "1", "name": "Acme Holdings PLC", **LONDON},
        {
            "source_id": "2",
            "name": "Acme Holdings Ltd",
            "country": "GB",
            "city": "Londn",
            "postal_code": "E1 6AN",
            "address": "1 High Street",
        },
    )
    row = scored(std, [("s:1", "s:2")], model).loc[("s:1", "s:2")]
    contrib = json.loads(row["contributions"])
    assert set(contrib) == {"prior", *FEATURES}
    assert contrib["prior"] == pytest.approx(np.log2(model.lam / (1 - model.lam)), abs=1e-4)
    assert contrib["country"]["level"] == 1
    assert contrib["postal"]["level"] == 0 and contrib["postal"]["weight"] < 0
    params = model.parameters().set_index(["feature", "level"])
    for f in FEATURES:
        assert contrib[f]["weight"] == pytest.approx(params.loc[(f, contrib[f]["level"]), "weight"], abs=1e-4)
    p = row["score"]
    assert 0.001 < p < 0.999
    assert log_odds(row["contributions"]) == pytest.approx(np.log2(p / (1 - p)), abs=1e-3)


def test_score_trains_a_model_when_none_is_given() -> None:
    vec = vectors(
        name=[1.0, 0.2, 0.99, 0.1] * 20, name_tokens=[1.0, 0.1, 0.9, 0.0] * 20, country=[1.0, 0.0, 1.0, 1.0] * 20
    )
    out, trained = score(vec, MatchSettings())
    assert trained.trained_on == "unsupervised"
    assert trained.iterations > 0
    assert out.loc[0, "score"] > out.loc[1, "score"]
    assert np.array_equal(out["score"].to_numpy(), score(vec, MatchSettings(), trained)[0]["score"].to_numpy())


def test_score_of_no_pairs_is_an_empty_frame_with_the_output_columns(model: FellegiSunter) -> None:
    std = std_frame({"source_id": "1", "name": "Acme"})
    out, used = score(compare(std, pd.DataFrame(columns=["rid_a", "rid_b"])), MatchSettings(), model)
    assert out.empty
    assert used is model
    assert {"rid_a", "rid_b", "name", "branch", "score", "band", "contributions"} <= set(out.columns)


def test_compare_of_no_pairs_has_every_feature_column() -> None:
    std = std_frame({"source_id": "1", "name": "Acme"})
    vec = compare(std, pd.DataFrame(columns=["rid_a", "rid_b"]))
    assert {"rid_a", "rid_b", *FEATURES, "branch"} <= set(vec.columns)


def test_a_missing_address_is_unknown_not_a_disagreement(model: FellegiSunter) -> None:
    std = std_frame(
        {"source_id": "1", "name": "Acme Holdings PLC", **LONDON},
        {"source_id": "2", "name": "Acme Holdings PLC", "country": "GB"},
        {
            "source_id": "3",
            "name": "Acme Holdings PLC",
            "country": "GB",
            "city": "Leeds",
            "postal_code": "LS1 1UR",
            "address": "99 Park Row",
        },
    )
    out = scored(std, [("s:1", "s:2"), ("s:1", "s:3")], model)
    row = out.loc[("s:1", "s:2")]
    assert np.isnan(row["city"]) and np.isnan(row["postal"]) and np.isnan(row["address"])
    assert not {"city", "postal", "address"} & set(json.loads(row["contributions"]))
    assert row["band"] == "match"
    # A known, different address does count against the pair.
    assert out.loc[("s:1", "s:3"), "score"] < row["score"]


def test_compare_works_when_no_record_has_an_address(model: FellegiSunter) -> None:
    std = std_frame(
        {"source_id": "1", "name": "Acme Ltd", "country": "GB"},
        {"source_id": "2", "name": "Acme Limited", "country": "GB"},
    )
    row = scored(std, [("s:1", "s:2")], model).loc[("s:1", "s:2")]
    assert np.isnan(row["address"])
    assert row["band"] == "match"


# --- match_records ------------------------------------------------------------------------------------------------


def ch(number: str, name: str) -> dict:
    return {"source": "ch", "source_format": "companies_house_csv", "source_id": number, "name": name, **LONDON}


def records() -> pd.DataFrame:
    return std_frame(
        {"source_id": "1", "name": "Acme Holdings PLC", "lei": LEI, **LONDON},
        {"source_id": "2", "name": "Acme Holdings Plc", **LONDON},
        {"source_id": "3", "name": "Zeta Widgets Ltd", "lei": LEI},
        ch("01234567", "Mercury Trading Ltd"),
        ch("07654321", "Mercury Trading Limited"),
        {"source_id": "4", "name": "Mercury Trading Ltd", "registration_number": "01234567", **LONDON},
    )


def test_match_records_labels_pairs_by_identifiers_and_keeps_deterministic_rules() -> None:
    std = records()
    pairs, trained, stats = match_records(std, MatchSettings())
    assert list(pairs.columns) == list(PAIR_COLUMNS)
    assert (pairs["rid_a"] < pairs["rid_b"]).all()
    assert not pairs.duplicated(["rid_a", "rid_b"]).any()
    p = pairs.set_index(["rid_a", "rid_b"])
    # A shared LEI links even completely different names, whatever the score.
    assert p.loc[("s:1", "s:3"), ["rule", "band", "label"]].tolist() == ["id:LEI", "match", 1]
    assert p.loc[("ch:01234567", "s:4"), ["rule", "band", "label"]].tolist() == ["id:GB-COH", "match", 1]
    # Two keys of one register, and two different company numbers: non-matches by their identifiers.
    assert p.loc[("ch:01234567", "ch:07654321"), ["rule", "label"]].tolist() == ["score", 0]
    assert p.loc[("ch:07654321", "s:4"), "label"] == 0
    assert p.loc[("s:1", "s:2"), ["rule", "label"]].tolist() == ["score", -1]
    assert stats["deterministic_pairs"] == 2
    assert stats["labelled_pairs"] == {"match": 2, "non_match": 2}
    # Far fewer labels than MIN_LABELS: EM on all pairs.
    assert stats["model"] == trained.trained_on == "unsupervised"
    assert stats["em_iterations"] == trained.iterations > 0
    assert stats["lambda"] == round(trained.lam, 6)
    assert sum(stats["bands"].values()) == len(pairs) - 2
    # Every deterministic and every candidate pair is scored, once.
    cand, _ = candidate_pairs(std, MatchSettings())
    assert stats["candidate_pairs"] == len(cand)
    assert pair_set(pairs) == pair_set(cand) | pair_set(deterministic_pairs(std))


def test_match_records_scores_with_a_given_model(model: FellegiSunter) -> None:
    std = records()
    pairs, used, stats = match_records(std, MatchSettings(), model)
    assert used is model
    assert stats["model"] == "supervised"
    p = pairs.set_index(["rid_a", "rid_b"])
    assert p.loc[("s:1", "s:2"), "band"] == "match"
    assert p.loc[("s:1", "s:4"), "band"] == "non-match"
    expected, _ = score(compare(std, pairs[["rid_a", "rid_b"]]), MatchSettings(), model)
    assert np.array_equal(pairs["score"].to_numpy(dtype=float), expected["score"].to_numpy(dtype=float))


def test_token_counts_add_and_subtract() -> None:
    """Counts over two sets of records add up; removing a record's aliases takes its tokens away."""
    from collections import Counter

    from mdm.name_tokens import idf_weights, token_counts, token_weights

    std = records()
    whole = token_counts(std["aliases"])
    parts = token_counts(std["aliases"][:3]) + token_counts(std["aliases"][3:])
    assert whole == parts and whole["mercury"] == 3 and whole["acme"] == 2
    less = Counter(whole)
    less.subtract(token_counts(std["aliases"][:1]))
    assert less["acme"] == 1 and less["zeta"] == 1
    assert idf_weights(whole, len(std)) == token_weights(std)
    assert "gone" not in idf_weights(Counter({"gone": 0, "kept": 1}), 2)


# --- distinctive tokens -------------------------------------------------------------------------------------------


def test_a_different_rare_word_on_each_side_counts_against_a_match() -> None:
    # Real sibling-style names: shared generic words ("trading", "corporation") and a country do not outweigh a
    # different distinctive word; a name that only adds or abbreviates words has nothing against it.
    others = [
        {"source_id": f"o{i}", "name": f"{w} Trading Corporation", **LONDON}
        for i, w in enumerate(
            [
                "Nordic",
                "Atlantic",
                "Pacific",
                "Global",
                "Eastern",
                "Western",
                "Union",
                "Alpine",
                "Danube",
                "Iberian",
                "Celtic",
                "Adriatic",
                "Arctic",
                "Caspian",
                "Aegean",
                "Oriental",
                "Imperial",
                "Royal",
                "Coastal",
                "Northern",
                "Southern",
                "Central",
            ]
        )
    ]
    std = std_frame(
        {"source_id": "1", "name": "Baltic Amber Trading Corporation", **LONDON},
        {"source_id": "2", "name": "Baltic Granite Trading Corporation", **LONDON},
        {"source_id": "3", "name": "Baltic Amber Trading Corp.", **LONDON},
        {"source_id": "4", "name": "Baltic Amber Trading (Riga)", **LONDON},
        {"source_id": "5", "name": "Baltic Amber Tradng Corporation", **LONDON},
        *others,
    )
    vec = compare(std, pd.DataFrame({"rid_a": ["s:1", "s:1", "s:1", "s:1"], "rid_b": ["s:2", "s:3", "s:4", "s:5"]}))
    amber_granite, abbreviated, qualified, typo = vec["name_distinct"].tolist()
    assert amber_granite < 0.30  # the lowest level: a rare word each
    assert abbreviated == 1.0 and typo == 1.0  # nothing left over ("tradng" meets "trading")
    assert 0.5 <= qualified < 0.999  # one side only adds a word: weaker evidence, never "nothing left"
    assert vec["name"].tolist()[0] >= 0.80  # while the plain string similarity alone is high


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Vanguard Fund 1 LP", "Vanguard Fund 2 LP"),
        ("Blackstone Real Estate Partners VIII L.P.", "Blackstone Real Estate Partners VII L.P."),
        ("Ares Capital Holdings II LLC", "Ares Capital Holdings III LLC"),
    ],
)
def test_numbered_entities_stay_apart(a: str, b: str) -> None:
    std = std_frame({"source_id": "1", "name": a, **LONDON}, {"source_id": "2", "name": b, **LONDON})
    vec = compare(std, pd.DataFrame({"rid_a": ["s:1"], "rid_b": ["s:2"]}))
    assert vec.loc[0, "name_distinct"] == 0.0
    assert vec.loc[0, "name"] >= 0.9


def test_distinct_is_unknown_when_no_two_names_share_a_script() -> None:
    std = std_frame(
        {"source_id": "1", "name": "华为技术有限公司", **LONDON}, {"source_id": "2", "name": "ПАО Сбербанк", **LONDON}
    )
    # Both have Latin aliases (pinyin, transliteration): compared there.
    vec = compare(std, pd.DataFrame({"rid_a": ["s:1"], "rid_b": ["s:2"]}))
    assert vec.loc[0, "name_distinct"] < 0.5


@pytest.mark.parametrize(
    ("short", "long", "expected"),
    [
        ("mfg", "manufacturing", True),
        ("intl", "international", True),
        ("hldgs", "holdings", True),
        ("tech", "technology", True),
        ("corp", "corporation", True),
        ("ing", "inglewood", True),  # a contraction by spelling; the other features still decide
        ("ab", "abbott", False),  # too short
        ("mgf", "manufacturing", False),
        ("amber", "granite", False),
        ("bank", "bank", False),
        ("huawei", "huaweijishu", False),  # a word of a joined pinyin name is no contraction (over five letters)
    ],
)
def test_contractions_are_recognised_by_spelling_not_by_a_list(short: str, long: str, expected: bool) -> None:
    from mdm.text import abbreviates

    assert abbreviates(short, long) is expected


def test_a_contracted_word_meets_its_full_form_in_the_token_evidence() -> None:
    std = std_frame(
        {"source_id": "1", "name": "Acme Intl Hldgs Ltd", **LONDON},
        {"source_id": "2", "name": "Acme International Holdings Limited", **LONDON},
    )
    vec = compare(std, pd.DataFrame({"rid_a": ["s:1"], "rid_b": ["s:2"]}))
    assert vec.loc[0, "name_distinct"] == 1.0 and vec.loc[0, "name_tokens"] > 0.8


def test_identifier_labels_one_different_value_of_a_shared_scheme_makes_two_entities() -> None:
    from mdm.matching import identifier_labels

    keys = {
        "a": {"LEI": LEI, "GB-COH": "08209948"},
        "b": {"GB-COH": "08209949", "LEI": LEI},  # same LEI, another Companies House number
        "c": {"LEI": LEI},
        "d": {"USCC": USCC},
        "e": {},
    }
    pairs = pd.DataFrame(
        [("a", "b"), ("b", "a"), ("a", "c"), ("c", "b"), ("a", "d"), ("a", "e"), ("e", "a"), ("x", "a"), ("a", "x")],
        columns=["rid_a", "rid_b"],
    )
    labels = identifier_labels(keys, pairs)
    assert labels.dtype == np.int8
    assert labels.tolist() == [0, 0, 1, 1, -1, -1, -1, -1, -1]
    assert identifier_labels(keys, pairs.iloc[:0]).tolist() == []


def test_compare_looks_records_up_by_rid_whatever_the_order_of_std() -> None:
    std = std_frame(
        {"source_id": "1", "name": "Acme Trading Ltd", **LONDON},
        {"source_id": "2", "name": "Acme Trading Limited", **LONDON},
        {"source_id": "3", "name": "Baltic Amber GmbH", "country": "DE", "city": "Berlin"},
    )
    pairs = pd.DataFrame({"rid_a": ["s:1", "s:2", "s:1"], "rid_b": ["s:2", "s:3", "s:3"]})
    vec = compare(std, pairs)
    shuffled = compare(std.iloc[::-1].reset_index(drop=True), pairs)
    pd.testing.assert_frame_equal(vec, shuffled, check_exact=True)
    assert vec["country"].tolist() == [1.0, 0.0, 0.0] and vec.loc[0, "name"] > vec.loc[1, "name"]
    with pytest.raises(KeyError, match="s:9"):
        compare(std, pd.DataFrame({"rid_a": ["s:1"], "rid_b": ["s:9"]}))
