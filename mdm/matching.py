"""Candidate generation (recordlinkage indexing), comparison and scoring of organisation record pairs.

recordlinkage is kept behind this module: callers hand in the standardised frame of
:func:`mdm.standardise.standardise_records` and get plain pandas frames of pairs back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import recordlinkage as rl
from recordlinkage.base import BaseCompareFeature
from rapidfuzz import fuzz

from mdm.standardise import ID_SCHEMES, has_cjk

ID_COLUMNS = tuple("id_" + s.replace("-", "_") for s in ID_SCHEMES)

# Feature weights of the context part of the score (name similarity carries the rest).
CONTEXT_WEIGHTS = {"country": 0.3, "city": 0.2, "postal": 0.3, "address": 0.2}
NAME_WEIGHT = 0.7


@dataclass(frozen=True)
class MatchSettings:
    match_threshold: float = 0.85
    review_threshold: float = 0.70
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


def _best_alias_similarity(a: list[str], b: list[str]) -> float:
    best = 0.0
    for x in a:
        for y in b:
            if has_cjk(x) != has_cjk(y):
                continue
            s = fuzz.ratio(x, y) if has_cjk(x) else max(fuzz.ratio(x, y), fuzz.token_sort_ratio(x, y))
            best = max(best, s / 100.0)
    return best


class _TokenSimilarity(BaseCompareFeature):
    """rapidfuzz token-set similarity in [0, 1]; NaN when either side is unknown (not a disagreement)."""

    def _compute_vectorized(self, s_left: pd.Series, s_right: pd.Series) -> pd.Series:
        out = np.full(len(s_left), np.nan)
        for i, (a, b) in enumerate(zip(s_left.to_numpy(), s_right.to_numpy())):
            if isinstance(a, str) and isinstance(b, str) and a and b:
                out[i] = fuzz.token_set_ratio(a, b) / 100.0
        return pd.Series(out, index=s_left.index)


def compare(std: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Comparison vectors of candidate pairs: one column per feature, values in [0, 1] or NaN (unknown)."""
    if pairs.empty:
        return pd.DataFrame(columns=["rid_a", "rid_b", "name", "country", "city", "postal", "address", "branch"])
    s = std.set_index("rid")
    idx = pd.MultiIndex.from_arrays([pairs.rid_a.values, pairs.rid_b.values])
    frame = s[["country_iso", "city_norm", "postal_norm", "address_norm"]]
    frame = frame.mask(frame.isna() | (frame == ""))
    cmp = rl.Compare()
    cmp.exact("country_iso", "country_iso", label="country", missing_value=np.nan)
    cmp.string("city_norm", "city_norm", method="jarowinkler", label="city", missing_value=np.nan)
    cmp.exact("postal_norm", "postal_norm", label="postal", missing_value=np.nan)
    cmp.add(_TokenSimilarity("address_norm", "address_norm", label="address"))
    vec = cmp.compute(idx, frame)
    aliases = s["aliases"]
    vec["name"] = [
        _best_alias_similarity(aliases.at[a], aliases.at[b]) for a, b in zip(pairs.rid_a.values, pairs.rid_b.values)
    ]
    branch = s["branch_flag"]
    vec["branch"] = (branch.loc[pairs.rid_a.values].values == branch.loc[pairs.rid_b.values].values).astype(float)
    vec = vec.reset_index(drop=True)
    vec.insert(0, "rid_b", pairs.rid_b.values)
    vec.insert(0, "rid_a", pairs.rid_a.values)
    return vec


def score(vectors: pd.DataFrame, settings: MatchSettings) -> pd.DataFrame:
    """Score comparison vectors and band them: match / review / non-match.

    score = 0.7 * name + 0.3 * (weighted mean of the known context features; 0.5 when none is known);
    a branch compared with a non-branch is never more than a review.
    """
    v = vectors.copy()
    if v.empty:
        for c in ("score", "band", "contributions"):
            v[c] = pd.Series(dtype="object")
        return v
    num = np.zeros(len(v))
    den = np.zeros(len(v))
    for feat, w in CONTEXT_WEIGHTS.items():
        vals = v[feat].to_numpy(dtype=float)
        known = ~np.isnan(vals)
        num += np.where(known, vals * w, 0.0)
        den += np.where(known, w, 0.0)
    context = np.where(den > 0, num / np.where(den > 0, den, 1), 0.5)
    sc = NAME_WEIGHT * v["name"].to_numpy(dtype=float) + (1 - NAME_WEIGHT) * context
    sc = np.where(v["branch"].to_numpy() < 1, np.minimum(sc, settings.match_threshold - 1e-6), sc)
    v["score"] = np.round(sc, 6)
    v["band"] = np.select(
        [v["score"] >= settings.match_threshold, v["score"] >= settings.review_threshold],
        ["match", "review"], default="non-match",
    )
    contrib = []
    for row_name, row_ctx, row in zip(v["name"], context, v[list(CONTEXT_WEIGHTS)].itertuples(index=False)):
        contrib.append(json.dumps(
            {"name": round(NAME_WEIGHT * float(row_name), 4), "context": round((1 - NAME_WEIGHT) * float(row_ctx), 4)}
            | {k: (None if pd.isna(x) else round(float(x), 4)) for k, x in zip(CONTEXT_WEIGHTS, row)},
            sort_keys=True,
        ))
    v["contributions"] = contrib
    return v
