"""Candidate generation (recordlinkage indexing), comparison and scoring of organisation record pairs.

recordlinkage is kept behind this module (and :mod:`mdm.comparison`, whose ``compare`` and ``FEATURES`` are
imported from here): callers hand in the standardised frame of :func:`mdm.standardise.standardise_records` and
get plain pandas frames of pairs back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import recordlinkage as rl

from mdm.comparison import FEATURES as FEATURES
from mdm.comparison import compare as compare
from mdm.name_tokens import token_weights
from mdm.scoring import FellegiSunter, discretise
from mdm.standardise import ID_COLUMNS, IDENTITY_COLUMNS


@dataclass(frozen=True)
class MatchSettings:
    match_threshold: float = 0.90
    review_threshold: float = 0.50
    max_block_size: int = 200
    window: int = 3


def deterministic_pairs(std: pd.DataFrame) -> pd.DataFrame:
    """Pairs of records sharing a valid identifier of an authoritative scheme.

    Each group is linked as a star on its first record (sorted by rid), which is enough for clustering.
    Columns: rid_a, rid_b, rule.
    """
    frames = []
    for col in ID_COLUMNS:
        sub = std.loc[std[col].notna(), ["rid", col]].sort_values([col, "rid"])
        if sub.empty:
            continue
        first = sub.groupby(col, sort=False)["rid"].transform("first")
        pairs = pd.DataFrame({"rid_a": first, "rid_b": sub["rid"]})
        pairs = pairs[pairs.rid_a != pairs.rid_b]
        if pairs.empty:
            continue
        if col == "id_NATIONAL":  # "<scheme>:<value>": the rule names the scheme (id:FR-SIREN)
            pairs["rule"] = "id:" + sub.loc[pairs.index, col].str.rpartition(":")[0]
        else:
            pairs["rule"] = "id:" + col[3:].replace("_", "-")
        frames.append(pairs)
    if not frames:
        return pd.DataFrame(columns=["rid_a", "rid_b", "rule"])
    out = pd.concat(frames, ignore_index=True)
    return _order(out).drop_duplicates(["rid_a", "rid_b"], keep="first").reset_index(drop=True)


def _order(pairs: pd.DataFrame) -> pd.DataFrame:
    x = pairs.rid_a.to_numpy(dtype=object)
    y = pairs.rid_b.to_numpy(dtype=object)
    swap = x > y
    a = np.where(swap, y, x)
    b = np.where(swap, x, y)
    pairs = pairs.copy()
    pairs["rid_a"], pairs["rid_b"] = a, b
    return pairs


def candidate_pairs(std: pd.DataFrame, settings: MatchSettings) -> tuple[pd.DataFrame, dict[str, int]]:
    """Candidate record pairs from recordlinkage indexing over every alias of every record.

    Blocking keys: the exact name core (legal form removed) of each alias, and a sorted neighbourhood
    over the cores and over the reversed cores (so a typo at either end still meets its twin). Keys shared
    by more than ``max_block_size`` aliases are too common to discriminate and are skipped (counted).
    The run does the same in SQL over every record (sql/staging/match_candidate.sql, tested equal to this).
    ``std`` needs ``rid`` and ``aliases`` (a list per record, or already one alias per row).
    Returns (pairs with rid_a < rid_b, stats).
    """
    alias = std[["rid", "aliases"]].explode("aliases").dropna(subset=["aliases"])
    alias = alias[alias["aliases"].str.len() > 0].rename(columns={"aliases": "core"})
    alias = alias.drop_duplicates().sort_values(["core", "rid"]).reset_index(drop=True)
    alias["rev"] = alias["core"].str[::-1]
    sizes = alias.groupby("core")["rid"].transform("size")
    common = alias[sizes > settings.max_block_size]
    usable = alias[sizes <= settings.max_block_size].reset_index(drop=True)
    indexer = rl.Index()
    indexer.add(rl.index.Block("core"))
    indexer.add(rl.index.SortedNeighbourhood("core", window=settings.window))
    indexer.add(rl.index.SortedNeighbourhood("rev", window=settings.window))
    stats = {"aliases": len(alias), "skipped_common_keys": int(common["core"].nunique())}
    if len(usable) < 2:
        return pd.DataFrame(columns=["rid_a", "rid_b"]), stats | {"candidate_pairs": 0}
    links = indexer.index(usable)
    rids = usable["rid"].to_numpy()
    pairs = pd.DataFrame({"rid_a": rids[links.get_level_values(0)], "rid_b": rids[links.get_level_values(1)]})
    pairs = pairs[pairs.rid_a != pairs.rid_b]
    pairs = _order(pairs).drop_duplicates().sort_values(["rid_a", "rid_b"]).reset_index(drop=True)
    stats["candidate_pairs"] = len(pairs)
    return pairs, stats


def identifier_labels(keys: dict[str, dict[str, str]], pairs: pd.DataFrame) -> np.ndarray:
    """Labels that authoritative identifiers give a pair for free: 1 when the two records share a key
    value of some scheme, 0 when they hold different values of a scheme (two registered entities),
    -1 when the identifiers say nothing. ``keys``: rid -> {scheme: value} (mdm.standardise.identity_keys)."""
    rids = pd.Index(list(keys), dtype=object)
    table = pd.DataFrame(
        [(pos, scheme, value) for pos, rid in enumerate(rids) for scheme, value in keys[rid].items()],
        columns=["pos", "scheme", "value"],
    )
    return _key_labels(table, *_positions(rids, pairs), len(rids))


def _positions(rids: pd.Index, pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The position in ``rids`` (unique) of each pair's two records; -1 for a record not in it."""
    return (
        rids.get_indexer(pd.Index(pairs["rid_a"].to_numpy(dtype=object))),
        rids.get_indexer(pd.Index(pairs["rid_b"].to_numpy(dtype=object))),
    )


def _key_labels(table: pd.DataFrame, pa: np.ndarray, pb: np.ndarray, records: int) -> np.ndarray:
    """:func:`identifier_labels` of the pairs of records (pa[i], pb[i]) (positions < ``records``; -1: a record
    without keys) from the records' keys as rows (``pos``, ``scheme``, ``value``; at most one row per record
    and scheme), for all pairs at once: each key of a pair's first record is looked up among the keys of its
    second."""
    n = len(pa)
    labels = np.full(n, -1, dtype=np.int8)
    if not n or table.empty:
        return labels
    scheme, schemes = pd.factorize(table["scheme"].to_numpy(dtype=object))
    value = pd.factorize(table["value"].to_numpy(dtype=object))[0]  # equal values, equal codes
    width = len(schemes)
    pos = table["pos"].to_numpy(dtype=np.int64)
    key = pos * width + scheme  # the record and scheme of each key, sorted to be looked up
    order = np.argsort(key, kind="stable")
    key, scheme, value = key[order], scheme[order], value[order]
    count = np.bincount(pos, minlength=records)
    start = np.cumsum(count) - count  # each record's first key in ``key``
    pair = np.flatnonzero((pa >= 0) & (pb >= 0))
    per_pair = count[pa[pair]]
    pair = np.repeat(pair, per_pair)  # one row per pair and key of its first record
    row = start[pa[pair]] + np.arange(len(pair)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    wanted = pb[pair].astype(np.int64) * width + scheme[row]  # that scheme among the second record's keys
    at = np.minimum(np.searchsorted(key, wanted), len(key) - 1)
    shared = key[at] == wanted
    differs = shared & (value[at] != value[row])
    labels[np.bincount(pair[shared], minlength=n) > 0] = 1
    labels[np.bincount(pair[differs], minlength=n) > 0] = 0  # one different value of a shared scheme
    return labels


def label_pairs(std: pd.DataFrame, pairs: pd.DataFrame, steward: Sequence[bool | None] | None = None) -> np.ndarray:
    """The training label of each pair (rid_a, rid_b) of records in ``std``: the steward's decision where
    there is one (``steward``, aligned with ``pairs``: True match, False no-match, None none), else what
    the records' identifiers say (:func:`identifier_labels`: 1, 0 or -1)."""
    from mdm.standardise import identity_key_table

    rids = pd.Index(std["rid"].to_numpy(dtype=object))
    if not rids.is_unique:  # a rid given twice: its last record, as in a dict
        std = std.drop_duplicates("rid", keep="last")
        rids = pd.Index(std["rid"].to_numpy(dtype=object))
    pa, pb = _positions(rids, pairs)
    used = np.unique(np.concatenate([pa, pb]))
    used = used[used >= 0]
    if len(used) == len(rids):
        table = identity_key_table(std)
    else:  # only the keys of the records the pairs involve
        table = identity_key_table(std.iloc[used])
        table["pos"] = used[table["pos"].to_numpy()]
    labels = _key_labels(table, pa, pb, len(rids))
    if steward is not None:
        known = [i for i, d in enumerate(steward) if d is not None and not pd.isna(d)]
        labels[known] = [int(bool(steward[i])) for i in known]
    return labels


MIN_LABELS = 50


def train(vectors: pd.DataFrame, levels: np.ndarray) -> FellegiSunter:
    """Train the model: from the pairs that identifiers label (``vectors['label']`` 1/0) when both
    classes have at least MIN_LABELS pairs, else by EM on all pairs."""
    labels = vectors["label"].to_numpy() if "label" in vectors.columns else np.full(len(vectors), -1)
    known = labels >= 0
    if (labels == 1).sum() >= MIN_LABELS and (labels == 0).sum() >= MIN_LABELS:
        model = FellegiSunter(features=FEATURES).fit_supervised(levels[known], labels[known] == 1)
        model.trained_on = "labelled_pairs"
        return model
    return FellegiSunter(features=FEATURES).fit(levels)


def score(
    vectors: pd.DataFrame,
    settings: MatchSettings,
    model: FellegiSunter | None = None,
    rules: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, FellegiSunter]:
    """Score comparison vectors with a Fellegi-Sunter model and band them: match / review / non-match.

    Without a ``model`` one is trained on these pairs (see :func:`train`); the pairs are then decided by
    :func:`decide` (``rules``: each pair's rule, ``score`` when not given).
    """
    v = vectors.copy()
    if v.empty:
        for c in ("score", "band", "contributions", "rule"):
            v[c] = pd.Series(dtype="object")
        return v, model or FellegiSunter()
    if model is None:
        model = train(v, discretise(v, FEATURES))
    return decide(v, model, settings, rules), model


def decide(
    vectors: pd.DataFrame, model: FellegiSunter, settings: MatchSettings, rules: Sequence[str] | None = None
) -> pd.DataFrame:
    """The decision rule for compared pairs, written once: the run and ``mdm explain`` both call it.

    ``score`` is the model's match probability, rounded to 6 places; a branch compared with a non-branch is
    never more than a review. ``band``: ``match`` at or above ``settings.match_threshold``, ``review`` at or
    above ``settings.review_threshold``, else ``non-match``; a pair whose ``rule`` is an identifier link
    (``id:<scheme>``, from :func:`deterministic_pairs`) is a ``match`` whatever its score. ``contributions``
    holds each feature's level and weight (log2 m/u). Steward decisions do not change a pair's band: they act
    at clustering (:func:`steward_link`). Returns a copy of ``vectors`` with score, band, contributions, rule.
    """
    v = vectors.copy()
    levels = discretise(v, model.features)
    p = model.probability(levels)
    p = np.where(v["branch"].to_numpy() < 1, np.minimum(p, settings.match_threshold - 1e-6), p)
    v["score"] = np.round(p, 6)
    v["rule"] = "score" if rules is None else list(rules)
    v["band"] = np.select(
        [v["rule"] != "score", v["score"] >= settings.match_threshold, v["score"] >= settings.review_threshold],
        ["match", "match", "review"],
        default="non-match",
    )
    v["contributions"] = model.explain(levels)
    return v


def steward_link(band: str, steward: bool | None) -> bool:
    """Whether clustering links a decided pair: a steward's decision (must-link / cannot-link) wins over
    the band; otherwise a ``match`` band links (subject to the identifier constraints of clustering)."""
    return steward if steward is not None else band == "match"


@dataclass(frozen=True)
class PairDecision:
    """How the run decides one pair (see :func:`decide_pair`)."""

    rid_a: str
    rid_b: str
    rule: str  # id:<scheme> or score
    score: float  # match probability as stored in match_pair.score
    band: str  # match / review / non-match
    vector: dict[str, float | None]  # comparison value per feature and ``branch`` (None: unknown)
    levels: dict[str, int]  # level per model feature (-1: unknown)
    weights: dict[str, float]  # log2(m/u) per model feature (0 where unknown)
    prior: float  # log2(lambda / (1 - lambda))
    steward: bool | None  # the steward's decision on the pair: True match, False no_match
    linked: bool  # whether clustering links the two (see steward_link)

    @property
    def steward_changed(self) -> bool:
        """Whether the steward's decision turned the outcome the model or identifiers gave."""
        return self.steward is not None and self.steward != (self.band == "match")


def decide_pair(
    model: FellegiSunter,
    idf: Mapping[str, float],
    records: pd.DataFrame,
    settings: MatchSettings,
    rule: str = "score",
    decisions: pd.DataFrame | None = None,
) -> PairDecision:
    """Compare and decide one pair exactly as the run does: :func:`compare` with the name-token weights
    ``idf`` the run used (:func:`idf_weights` of its token frequencies), then :func:`decide` with the run's
    ``model``. ``records``: the two records (MATCH_COLUMNS); ``rule``: the pair's identifier rule
    (``id:<scheme>`` when :func:`deterministic_pairs` links them) or ``score``; ``decisions``: steward
    decisions (rid_a, rid_b, is_match) as the run reads them."""
    if len(records) != 2:
        raise ValueError(f"decide_pair needs two records, got {len(records)}")
    a, b = sorted(str(r) for r in records["rid"])
    vec = compare(records, pd.DataFrame({"rid_a": [a], "rid_b": [b]}), dict(idf))
    out = decide(vec, model, settings, [rule]).iloc[0]
    levels = discretise(vec, model.features)
    weights = model.weights(levels)[0]
    steward = None
    if decisions is not None and len(decisions):
        same = ((decisions.rid_a == a) & (decisions.rid_b == b)) | ((decisions.rid_a == b) & (decisions.rid_b == a))
        hit = decisions[same]
        if len(hit):
            steward = bool(hit["is_match"].iloc[-1])
    band = str(out["band"])
    return PairDecision(
        a,
        b,
        str(out["rule"]),
        float(out["score"]),
        band,
        {f: None if pd.isna(out[f]) else float(out[f]) for f in (*FEATURES, "branch")},
        {f: int(levels[0, j]) for j, f in enumerate(model.features)},
        {f: float(weights[j]) for j, f in enumerate(model.features)},
        model.prior_weight(),
        steward,
        steward_link(band, steward),
    )


# The standardised columns matching reads (identity keys, blocking, comparison); callers may pass
# just these.
MATCH_COLUMNS = (
    *IDENTITY_COLUMNS,
    "aliases",
    "country_iso",
    "city_norm",
    "postal_norm",
    "address_norm",
    "name_cjk",
    "qualifiers",
    "qualifiers_en",
    "branch_flag",
)

PAIR_COLUMNS = ("rid_a", "rid_b", "rule", "score", "band", *FEATURES, "branch", "label", "contributions")


def match_records(
    std: pd.DataFrame,
    settings: MatchSettings,
    model: FellegiSunter | None = None,
    decisions: pd.DataFrame | None = None,
    idf: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, FellegiSunter, dict[str, object]]:
    """The whole matching step over standardised records.

    Deterministic pairs (a shared valid identifier) and recordlinkage candidates are compared alike;
    identifiers label the pairs they can (same key: match, different keys: non-match), the model is
    trained on those labels (EM when there are too few) and scores every pair. Steward ``decisions``
    (rid_a, rid_b, is_match) are compared too and their labels win over the identifiers' (supervised
    training from steward decisions). Deterministic pairs keep their rule (``id:<scheme>``) and band
    ``match``; the others get ``rule = 'score'``. ``idf``: :func:`token_weights` of ``std`` if the caller
    has it. The run does the same partition by partition over a warehouse (pipelines/stages/match.py).
    Returns (pairs with PAIR_COLUMNS, model, stats).
    """
    det = deterministic_pairs(std)
    both, cand, decided, stats = _pairs_to_compare(std, det, settings, decisions)
    idf = token_weights(std) if idf is None else idf
    return _score_pairs(std, both, det, cand, decided, settings, model, idf, stats, len(std))


def _pairs_to_compare(
    std: pd.DataFrame, det: pd.DataFrame, settings: MatchSettings, decisions: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """The pairs to compare (rid_a < rid_b, sorted): identifier links, blocking candidates and steward
    decisions between known records. Returns (pairs, candidates, decisions, blocking stats)."""
    cand, stats = candidate_pairs(std, settings)
    known = set(std["rid"])
    decided = (
        pd.DataFrame(columns=["rid_a", "rid_b", "is_match"])
        if decisions is None
        else _order(decisions[decisions.rid_a.isin(known) & decisions.rid_b.isin(known)])
    )
    both = pd.concat([det[["rid_a", "rid_b"]], cand, decided[["rid_a", "rid_b"]]], ignore_index=True)
    both = both.drop_duplicates().sort_values(["rid_a", "rid_b"]).reset_index(drop=True)
    return both, cand, decided, stats


def _score_pairs(
    std: pd.DataFrame,
    both: pd.DataFrame,
    det: pd.DataFrame,
    cand: pd.DataFrame,
    decided: pd.DataFrame,
    settings: MatchSettings,
    model: FellegiSunter | None,
    idf: dict[str, float],
    stats: dict[str, int],
    records: int,
) -> tuple[pd.DataFrame, FellegiSunter, dict[str, object]]:
    """Compare, label and score ``both`` (``std`` holds at least their records); see match_records."""
    vectors = compare(std, both, idf)
    steward = {(a, b): bool(m) for a, b, m in decided[["rid_a", "rid_b", "is_match"]].itertuples(index=False)}
    vectors["label"] = label_pairs(std, vectors, [steward.get(p) for p in zip(vectors.rid_a, vectors.rid_b)])
    rule = dict(zip(zip(det.rid_a, det.rid_b), det.rule))
    rules = [rule.get((a, b), "score") for a, b in zip(vectors.rid_a, vectors.rid_b)]
    scored, model = score(vectors, settings, model, rules)
    is_det = scored["rule"] != "score"
    for c in PAIR_COLUMNS:
        if c not in scored.columns:
            scored[c] = None
    n_cand = int((~is_det).sum())
    out_stats: dict[str, object] = {
        **stats,
        "deterministic_pairs": int(is_det.sum()),
        "pairs_per_record": round(len(cand) / max(records, 1), 3),
        "labelled_pairs": {"match": int((scored["label"] == 1).sum()), "non_match": int((scored["label"] == 0).sum())},
        "model": model.trained_on,
        "em_iterations": model.iterations,
        "lambda": round(model.lam, 6),
        "steward_decisions": len(decided),
        "bands": scored.loc[~is_det, "band"].value_counts().to_dict() if n_cand else {},
    }
    return scored[list(PAIR_COLUMNS)], model, out_stats
