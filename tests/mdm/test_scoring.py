"""The Fellegi-Sunter model (mdm.scoring), identifier labels and training (mdm.matching), and the qualifiers feature."""

from __future__ import annotations

import json
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from mdm.matching import FEATURES, MIN_LABELS, compare, identifier_labels, train
from mdm.schema import ORGANIZATION
from mdm.scoring import LEVELS, FellegiSunter, discretise
from mdm.standardise import standardise_records

# True m (P(level | match)) and u (P(level | non-match)) per feature, highest level last; weights rise with the level.
TRUE_M = {
    "name": [0.02, 0.03, 0.05, 0.10, 0.80],
    "name_tokens": [0.03, 0.04, 0.08, 0.15, 0.70],
    "name_distinct": [0.02, 0.05, 0.13, 0.80],
    "qualifiers": [0.1, 0.9],
    "country": [0.05, 0.95],
    "city": [0.10, 0.15, 0.75],
    "postal": [0.3, 0.7],
    "address": [0.10, 0.15, 0.25, 0.50],
}
TRUE_U = {
    "name": [0.55, 0.25, 0.10, 0.06, 0.04],
    "name_tokens": [0.60, 0.20, 0.10, 0.06, 0.04],
    "name_distinct": [0.40, 0.25, 0.20, 0.15],
    "qualifiers": [0.5, 0.5],
    "country": [0.3, 0.7],
    "city": [0.60, 0.25, 0.15],
    "postal": [0.95, 0.05],
    "address": [0.70, 0.15, 0.10, 0.05],
}


def synthetic_levels(
    n: int = 20_000, lam: float = 0.1, seed: int = 20240611, unknown_address: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """Levels drawn from TRUE_M / TRUE_U (conditionally independent features) and the true match flags.
    A share of the address levels is unknown (-1)."""
    rng = np.random.default_rng(seed)
    is_match = rng.random(n) < lam
    cols = []
    for f in LEVELS:
        k = len(LEVELS[f]) + 1
        cols.append(np.where(is_match, rng.choice(k, n, p=TRUE_M[f]), rng.choice(k, n, p=TRUE_U[f])))
    levels = np.column_stack(cols)
    levels[rng.random(n) < unknown_address, list(LEVELS).index("address")] = -1
    return levels, is_match


def true_model() -> FellegiSunter:
    model = FellegiSunter(lam=0.1)
    model.m = {f: np.array(v) for f, v in TRUE_M.items()}
    model.u = {f: np.array(v) for f, v in TRUE_U.items()}
    return model


# --- discretise ---------------------------------------------------------------------------------------------------


def test_discretise_cuts_similarities_into_levels_at_the_cut_points() -> None:
    vec = pd.DataFrame(
        {
            "name": [0.0, 0.6999, 0.70, 1 - 0.15, 0.93, 0.979, 0.98, 1.0, np.nan],
            "qualifiers": [0.0, 1.0, np.nan, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0],
            "address": [0.49, 0.5, 0.69, 0.7, 0.89, 0.9, 1.0, np.nan, 0.0],
        }
    )
    levels = discretise(vec, ("name", "qualifiers", "address"))
    assert levels.dtype.kind == "i"
    assert levels[:, 0].tolist() == [0, 0, 1, 2, 3, 3, 4, 4, -1]
    assert levels[:, 1].tolist() == [0, 1, -1, 1, 0, 1, 0, 1, 0]
    assert levels[:, 2].tolist() == [0, 1, 1, 2, 2, 3, 3, -1, 0]


def test_discretise_defaults_to_every_feature_and_marks_unknown_as_minus_one() -> None:
    vec = pd.DataFrame({f: [1.0, np.nan] for f in LEVELS})
    levels = discretise(vec)
    assert levels.shape == (2, len(LEVELS))
    assert levels[0].tolist() == [len(LEVELS[f]) for f in LEVELS]  # top level of each feature
    assert levels[1].tolist() == [-1] * len(LEVELS)


# --- EM -----------------------------------------------------------------------------------------------------------


def test_em_recovers_lambda_and_the_order_of_levels_from_synthetic_pairs() -> None:
    levels, is_match = synthetic_levels()
    model = FellegiSunter().fit(levels)
    assert model.trained_on == "unsupervised"
    assert 1 < model.iterations < 100
    assert model.lam == pytest.approx(0.1, abs=0.03)
    assert model.lam == pytest.approx(is_match.mean(), abs=0.01)
    for f in LEVELS:
        fitted = np.log2(model.m[f] / model.u[f])
        true = np.log2(np.array(TRUE_M[f]) / np.array(TRUE_U[f]))
        assert np.argsort(fitted).tolist() == np.argsort(true).tolist(), f
        assert np.abs(model.m[f] - TRUE_M[f]).max() < 0.05, f
        assert np.abs(model.u[f] - TRUE_U[f]).max() < 0.05, f
        assert model.m[f].sum() == pytest.approx(1.0)
        assert model.u[f].sum() == pytest.approx(1.0)
    # The fitted model separates the true classes.
    p = model.probability(levels)
    assert ((p >= 0.5) == is_match).mean() > 0.95


def test_em_is_deterministic() -> None:
    levels, _ = synthetic_levels(n=5_000)
    a = FellegiSunter().fit(levels)
    b = FellegiSunter().fit(levels)
    assert a.iterations == b.iterations
    pd.testing.assert_frame_equal(a.parameters(), b.parameters())
    assert np.array_equal(a.probability(levels), b.probability(levels))


def test_orient_makes_the_class_favouring_the_top_name_level_the_match_class() -> None:
    swapped = FellegiSunter(lam=0.9)
    swapped.m = {f: np.array(v) for f, v in TRUE_U.items()}
    swapped.u = {f: np.array(v) for f, v in TRUE_M.items()}
    swapped._orient()
    assert swapped.lam == pytest.approx(0.1)
    for f in LEVELS:
        assert swapped.m[f].tolist() == TRUE_M[f]
        assert swapped.u[f].tolist() == TRUE_U[f]
    # An already oriented model is left alone.
    model = true_model()
    model._orient()
    assert model.lam == 0.1
    assert model.m["name"].tolist() == TRUE_M["name"]


# --- supervised ---------------------------------------------------------------------------------------------------


def test_fit_supervised_counts_levels_per_class_with_laplace_smoothing() -> None:
    feats = ("name", "postal")
    levels = np.array([[4, 1], [4, 1], [3, -1], [0, 0], [0, 0], [1, 0], [0, -1], [-1, 1]])
    is_match = np.array([True, True, True, False, False, False, False, False])
    model = FellegiSunter(features=feats).fit_supervised(levels, is_match)
    assert model.trained_on == "supervised"
    assert model.lam == pytest.approx(3 / 8)
    # Matches: name levels 4, 4, 3 -> counts (0, 0, 0, 1, 2) + 1.
    assert model.m["name"] == pytest.approx(np.array([1, 1, 1, 2, 3]) / 8)
    # Non-matches: name levels 0, 0, 1, 0 (one unknown) -> counts (3, 1, 0, 0, 0) + 1.
    assert model.u["name"] == pytest.approx(np.array([4, 2, 1, 1, 1]) / 9)
    # Unknown postal levels are not counted.
    assert model.m["postal"] == pytest.approx(np.array([1, 3]) / 4)
    assert model.u["postal"] == pytest.approx(np.array([4, 2]) / 6)
    # A level never seen in a class still has a positive probability, so every weight is finite.
    assert (model.m["name"] > 0).all() and (model.u["name"] > 0).all()
    assert np.isfinite(model.parameters()["weight"]).all()


def test_fit_supervised_smoothing_is_configurable() -> None:
    levels = np.array([[1], [1], [0]])
    model = FellegiSunter(features=("postal",)).fit_supervised(levels, np.array([True, True, False]), smoothing=0.5)
    assert model.m["postal"] == pytest.approx(np.array([0.5, 2.5]) / 3)
    assert model.u["postal"] == pytest.approx(np.array([1.5, 0.5]) / 2)


@pytest.mark.parametrize("labels", [[True, True, True], [False, False, False]])
def test_fit_supervised_needs_both_classes(labels: list[bool]) -> None:
    with pytest.raises(ValueError, match="both"):
        FellegiSunter(features=("name",)).fit_supervised(np.array([[4], [3], [0]]), np.array(labels))


# --- probability, explain, parameters -----------------------------------------------------------------------------


def test_probability_rises_with_every_feature_level_when_weights_rise() -> None:
    model = true_model()
    base = np.array([[0] * len(LEVELS)])
    for j, f in enumerate(model.features):
        ps = []
        for lvl in range(len(LEVELS[f]) + 1):
            lv = base.copy()
            lv[0, j] = lvl
            ps.append(float(model.probability(lv)[0]))
        assert all(a < b for a, b in pairwise(ps)), f
    assert ((model.probability(base) > 0) & (model.probability(base) < 1)).all()


def test_probability_is_the_logistic_of_prior_plus_weights_and_unknown_weighs_nothing() -> None:
    model = true_model()
    levels = np.array([[4, 3, -1, 1, -1, -1, -1, -1], [0, 0, 0, 0, 1, 2, 1, 3]])
    w = model.weights(levels)
    assert w[0, 2] == 0.0 and w[0, 4:].tolist() == [0.0] * 4
    assert w[0, 0] == pytest.approx(np.log2(0.80 / 0.04))
    odds = model.prior_weight() + w.sum(axis=1)
    assert model.prior_weight() == pytest.approx(np.log2(0.1 / 0.9))
    assert model.probability(levels) == pytest.approx(1 / (1 + 2.0**-odds))
    # All unknown: the prior alone.
    assert model.probability(np.full((1, len(LEVELS)), -1))[0] == pytest.approx(0.1)


def test_explain_lists_the_prior_and_each_known_feature() -> None:
    model = true_model()
    levels = np.array([[4, 3, -1, -1, 1, -1, 0, 2]])
    out = model.explain(levels)
    assert len(out) == 1
    d = json.loads(out[0])
    assert set(d) == {"prior", "name", "name_tokens", "country", "postal", "address"}
    assert d["prior"] == round(np.log2(0.1 / 0.9), 4)
    assert d["name"] == {"level": 4, "weight": round(float(np.log2(0.80 / 0.04)), 4)}
    assert d["postal"] == {"level": 0, "weight": round(float(np.log2(0.3 / 0.95)), 4)}
    assert d["prior"] + sum(v["weight"] for k, v in d.items() if k != "prior") == pytest.approx(
        np.log2(model.probability(levels)[0] / (1 - model.probability(levels)[0])), abs=1e-3
    )


def test_parameters_round_trip_gives_identical_probabilities() -> None:
    levels, is_match = synthetic_levels(n=3_000, seed=3)
    model = FellegiSunter().fit_supervised(levels, is_match)
    params = model.parameters()
    assert list(params.columns) == ["feature", "level", "lower_bound", "m", "u", "weight"]
    assert len(params) == sum(len(c) + 1 for c in LEVELS.values()) + 1
    name = params[params["feature"] == "name"]
    assert name["lower_bound"].tolist() == [0.0, *LEVELS["name"]]
    assert params.iloc[-1]["feature"] == "_prior"
    back = FellegiSunter.from_parameters(params)
    assert back.features == model.features
    assert back.lam == model.lam
    assert np.array_equal(back.probability(levels), model.probability(levels))
    assert back.explain(levels[:50]) == model.explain(levels[:50])


def test_from_parameters_keeps_a_subset_of_features_in_order() -> None:
    levels = np.array([[4, 1], [3, 1], [0, 0], [1, 0]])
    model = FellegiSunter(features=("name", "postal")).fit_supervised(levels, np.array([True, True, False, False]))
    back = FellegiSunter.from_parameters(model.parameters())
    assert back.features == ("name", "postal")
    assert np.array_equal(back.probability(levels), model.probability(levels))


# --- identifier labels and training -------------------------------------------------------------------------------

LEI = "001GPB6A9XPE8XJICC14"


def test_identifier_labels_from_shared_and_conflicting_keys() -> None:
    keys = {
        "a": {"LEI": LEI},
        "b": {"LEI": LEI, "USCC": "91310000X0727109X6"},
        "c": {"USCC": "91310000X0727109X6"},
        "d": {"USCC": "91110000802100433B"},
        "ch:1": {"KEY:ch": "00000001", "GB-COH": "00000001"},
        "ch:2": {"KEY:ch": "00000002", "GB-COH": "00000002"},
        "e": {"CIK": "0000320193"},
        "f": {},
    }
    pairs = pd.DataFrame(
        [
            ("a", "b"),  # shared LEI
            ("b", "c"),  # shared USCC
            ("c", "d"),  # different USCC
            ("ch:1", "ch:2"),  # two keys of one register
            ("a", "c"),  # nothing in common
            ("a", "e"),  # different schemes only
            ("e", "f"),  # one side without keys
            ("f", "zz"),  # a rid without any entry
        ],
        columns=["rid_a", "rid_b"],
    )
    labels = identifier_labels(keys, pairs)
    assert labels.tolist() == [1, 1, 0, 0, -1, -1, -1, -1]


def test_identifier_labels_any_conflicting_scheme_makes_a_non_match() -> None:
    keys = {"a": {"LEI": LEI, "USCC": "91310000X0727109X6"}, "b": {"LEI": LEI, "USCC": "91110000802100433B"}}
    labels = identifier_labels(keys, pd.DataFrame({"rid_a": ["a"], "rid_b": ["b"]}))
    assert labels.tolist() == [0]
    assert identifier_labels(keys, pd.DataFrame(columns=["rid_a", "rid_b"])).tolist() == []


def labelled_vectors(n_match: int, n_non: int, n_unknown: int = 200) -> tuple[pd.DataFrame, np.ndarray]:
    """Vectors with identifier labels over synthetic levels: matches, non-matches, then unlabelled pairs."""
    levels, is_match = synthetic_levels(n=20_000, seed=11)
    idx = np.r_[np.flatnonzero(is_match)[:n_match], np.flatnonzero(~is_match)[:n_non], np.arange(20_000)[-n_unknown:]]
    lv = levels[idx]
    label = np.r_[np.ones(n_match), np.zeros(n_non), np.full(n_unknown, -1)].astype(np.int8)
    return pd.DataFrame({"label": label}), lv


def test_train_uses_identifier_labels_when_both_classes_have_enough() -> None:
    vectors, levels = labelled_vectors(MIN_LABELS, MIN_LABELS + 30)
    model = train(vectors, levels)
    assert model.trained_on == "labelled_pairs"
    assert model.features == FEATURES
    known = vectors["label"].to_numpy() >= 0
    expected = FellegiSunter(features=FEATURES).fit_supervised(levels[known], vectors["label"].to_numpy()[known] == 1)
    assert model.lam == pytest.approx(MIN_LABELS / (2 * MIN_LABELS + 30))
    assert np.array_equal(model.probability(levels), expected.probability(levels))


@pytest.mark.parametrize(("n_match", "n_non"), [(MIN_LABELS - 1, 500), (500, MIN_LABELS - 1), (0, 0)])
def test_train_falls_back_to_em_below_min_labels(n_match: int, n_non: int) -> None:
    vectors, levels = labelled_vectors(n_match, n_non, n_unknown=2_000)
    model = train(vectors, levels)
    assert model.trained_on == "unsupervised"
    assert model.iterations > 0
    assert np.array_equal(model.probability(levels), FellegiSunter(features=FEATURES).fit(levels).probability(levels))


def test_train_without_a_label_column_is_em() -> None:
    levels, _ = synthetic_levels(n=2_000, seed=5)
    assert train(pd.DataFrame(index=range(2_000)), levels).trained_on == "unsupervised"


# --- qualifiers feature -------------------------------------------------------------------------------------------


def std_frame(*rows: dict) -> pd.DataFrame:
    """Standardised frame of canonical organisation rows (source 's', format 'sql', source_id '1', '2', ...)."""
    full = [
        {c: None for c in ORGANIZATION} | {"source": "s", "source_format": "sql", "source_id": str(i)} | r
        for i, r in enumerate(rows, start=1)
    ]
    return standardise_records(pd.DataFrame(full, dtype=object))


def qualifiers(a: dict, b: dict) -> float:
    vec = compare(std_frame(a, b), pd.DataFrame({"rid_a": ["s:1"], "rid_b": ["s:2"]}))
    return float(vec.loc[0, "qualifiers"])


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("华为技术（深圳）有限公司", "华为技术有限公司", 0.0),
        ("华为技术(深圳)有限公司", "華為技術（深圳）有限公司", 1.0),
        ("华为技术（深圳）有限公司", "华为技术（上海）有限公司", 0.0),
        ("中信集团有限公司", "中信有限公司", 0.0),
        ("Acme Holdings Ltd", "Acme Ltd", 0.0),
        ("Acme Group Ltd", "Acme Ltd", 0.0),
        ("ACME (UK) LIMITED", "Acme (UK) Ltd", 1.0),
        ("ACME (UK) LIMITED", "Acme (Ireland) Ltd", 0.0),
        ("Acme Ltd", "Acme Limited", 1.0),
    ],
)
def test_qualifiers_agree_only_when_names_carry_the_same_qualifiers(a: str, b: str, expected: float) -> None:
    assert qualifiers({"name": a}, {"name": b}) == expected


def test_qualifiers_of_a_chinese_and_a_latin_name_compare_the_english_name() -> None:
    cn = {"name": "华为技术（深圳）有限公司", "name_en": "Huawei Technologies (Shenzhen) Co., Ltd."}
    assert qualifiers(cn, {"name": "HUAWEI TECHNOLOGIES (SHENZHEN) CO LTD"}) == 1.0
    assert qualifiers(cn, {"name": "Huawei Technologies Co Ltd"}) == 0.0
    assert qualifiers({"name": "Huawei Technologies Holdings Ltd"}, cn) == 0.0
    # Without an English name there is nothing of the same script to compare: unknown, not a disagreement.
    assert np.isnan(qualifiers({"name": "华为技术（深圳）有限公司"}, {"name": "Huawei Technologies (Shenzhen) Co Ltd"}))
    assert np.isnan(qualifiers({"name": "Huawei Technologies Ltd"}, {"name": "华为技术有限公司"}))


def test_abbreviated_designators_agree_with_their_full_form() -> None:
    assert qualifiers({"name": "Acme Holdings PLC"}, {"name": "ACME HLDGS P.L.C."}) == 1.0


def test_explain_of_many_pairs_is_each_pairs_own_explanation() -> None:
    """explain writes one text per distinct pattern of levels: every pair must still get the text of
    its own levels (unknown -1 and every level of every feature)."""
    rng = np.random.default_rng(3)
    model = FellegiSunter.untrained()
    feats = model.features
    levels = np.stack([rng.integers(-1, len(LEVELS[f]) + 1, 5000) for f in feats], axis=1)
    texts = model.explain(levels)
    assert len(texts) == 5000 and len(set(texts)) > 1000
    w = model.weights(levels)
    for i in range(0, 5000, 7):
        want: dict[str, object] = {"prior": round(model.prior_weight(), 4)}
        for j, f in enumerate(feats):
            if levels[i, j] >= 0:
                want[f] = {"level": int(levels[i, j]), "weight": round(float(w[i, j]), 4)}
        assert json.loads(texts[i]) == want
