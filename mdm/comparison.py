"""Comparison of candidate record pairs: one value per feature and pair, in [0, 1] or NaN (unknown).

Names (best alias similarity and name-token evidence, mdm.name_tokens), qualifiers, country, city, postal
code and address, through recordlinkage's Compare. Everything that does not depend on the pair is prepared
once per record (or per distinct list of aliases, per distinct pair of values), so a pair costs little; the
values are the same to the last bit as comparing each pair on its own (tests/mdm/test_name_tokens.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import recordlinkage as rl
from rapidfuzz import fuzz
from recordlinkage.algorithms.string import jarowinkler_similarity
from recordlinkage.base import BaseCompareFeature

from mdm.features import FEATURES as FEATURES
from mdm.name_tokens import alias_tokens, token_evidence, token_weights


def _best_alias_similarity(a: list[tuple[str, bool]], b: list[tuple[str, bool]]) -> float:
    """Best rapidfuzz similarity of two aliases of the same script; each alias comes with whether it is CJK."""
    best = 0.0
    for x, cjk_x in a:
        for y, cjk_y in b:
            if cjk_x != cjk_y:
                continue
            s = fuzz.ratio(x, y) if cjk_x else max(fuzz.ratio(x, y), fuzz.token_sort_ratio(x, y))
            best = max(best, s / 100.0)
    return best


def _qualifier_agreement(
    a: tuple[bool, list[str] | None, list[str] | None], b: tuple[bool, list[str] | None, list[str] | None]
) -> float:
    """1.0 when the names carry the same qualifiers (region in brackets, Group/集团 ...), 0.0 when they
    differ, NaN when no two names of the same script can be compared. Each side is
    (name is Chinese, qualifiers of the name, qualifiers of the English name)."""
    if a[0] == b[0]:
        return float(a[1] == b[1])
    # One Chinese, one Latin name: compare the Latin one with the other's English name, if any.
    latin_a = a[2] if a[0] else a[1]
    latin_b = b[2] if b[0] else b[1]
    if latin_a is None or latin_b is None:
        return float("nan")
    return float(latin_a == latin_b)


def _as_list(v: object) -> list[str] | None:
    """A list column value as a list (DuckDB and pandas hand lists back as arrays; NULL as NA)."""
    if isinstance(v, np.ndarray):
        return list(v.tolist())
    if isinstance(v, (list, tuple)):
        return list(v)
    return None


class _DistinctPairs(BaseCompareFeature):  # type: ignore[misc]  # recordlinkage ships no type information
    """A string similarity in [0, 1] computed once per distinct pair of values (cities and addresses repeat
    across the pairs of a partition); NaN when either side is unknown (not a disagreement). ``similarity``
    maps two equally long series of strings to their similarities."""

    def __init__(self, left: str, right: str, similarity: Callable[[pd.Series, pd.Series], np.ndarray], label: str):
        super().__init__(left, right, label=label)
        self.similarity = similarity

    def _compute_vectorized(self, s_left: pd.Series, s_right: pd.Series) -> pd.Series:
        seen: dict[tuple[str, str], int] = {}
        code = np.full(len(s_left), -1, dtype=np.int64)
        for i, (a, b) in enumerate(zip(s_left.to_numpy(), s_right.to_numpy())):
            if isinstance(a, str) and isinstance(b, str) and a and b:
                code[i] = seen.setdefault((a, b), len(seen))
        out = np.full(len(s_left), np.nan)
        if seen:
            left, right = zip(*seen)
            known = code >= 0
            out[known] = np.asarray(self.similarity(pd.Series(left), pd.Series(right)), dtype=float)[code[known]]
        return pd.Series(out, index=s_left.index)


def _token_set_similarity(left: pd.Series, right: pd.Series) -> np.ndarray:
    """rapidfuzz token-set similarity in [0, 1]."""
    return np.array([fuzz.token_set_ratio(a, b) / 100.0 for a, b in zip(left, right)], dtype=float)


def _jaro_winkler_similarity(left: pd.Series, right: pd.Series) -> np.ndarray:
    """recordlinkage's Jaro-Winkler similarity (``Compare.string(method="jarowinkler")``)."""
    return np.asarray(jarowinkler_similarity(left, right), dtype=float)


def _name_features(
    aliases: Mapping[object, Sequence[str]], ra: Iterable[object], rb: Iterable[object], idf: Mapping[str, float]
) -> tuple[list[float], list[float], list[float]]:
    """The name features of each pair (ra[i], rb[i]) of records with these aliases: name similarity
    (:func:`_best_alias_similarity`), token overlap and distinct (:func:`token_evidence`). They depend on the
    two lists of aliases only, which many records share (one entity in several sources): each list is prepared
    once (scripts, tokens with weights) and each pair of lists compared once."""
    top = max(idf.values(), default=1.0)
    lists: dict[tuple[str, ...], int] = {}
    code = {r: lists.setdefault(tuple(als), len(lists)) for r, als in aliases.items()}
    toks = [[alias_tokens(al, idf) for al in als] for als in lists]
    names = [[(al, t[0]) for al, t in zip(als, tk)] for als, tk in zip(lists, toks)]
    done: dict[tuple[int, int], tuple[float, float, float]] = {}
    name, overlap, distinct = [], [], []
    for a, b in zip(ra, rb):
        key = (code[a], code[b])
        features = done.get(key)
        if features is None:
            i, j = key
            features = done[key] = (_best_alias_similarity(names[i], names[j]), *token_evidence(toks[i], toks[j], top))
        name.append(features[0])
        overlap.append(features[1])
        distinct.append(features[2])
    return name, overlap, distinct


def compare(std: pd.DataFrame, pairs: pd.DataFrame, idf: dict[str, float] | None = None) -> pd.DataFrame:
    """Comparison vectors of candidate pairs: one column per feature, values in [0, 1] or NaN (unknown).

    ``idf`` (token weights) defaults to :func:`token_weights` over ``std``."""
    if pairs.empty:
        return pd.DataFrame(columns=["rid_a", "rid_b", *FEATURES, "branch"])
    s = std.set_index("rid")
    idx = pd.MultiIndex.from_arrays([pairs.rid_a.values, pairs.rid_b.values])
    frame = s[["country_iso", "city_norm", "postal_norm", "address_norm"]]
    frame = frame.mask(frame.isna() | (frame == ""))
    cmp = rl.Compare()
    cmp.exact("country_iso", "country_iso", label="country", missing_value=np.nan)
    cmp.add(_DistinctPairs("city_norm", "city_norm", _jaro_winkler_similarity, label="city"))
    cmp.exact("postal_norm", "postal_norm", label="postal", missing_value=np.nan)
    cmp.add(_DistinctPairs("address_norm", "address_norm", _token_set_similarity, label="address"))
    vec: pd.DataFrame = cmp.compute(idx, frame)
    ra, rb = pairs.rid_a.to_numpy(), pairs.rid_b.to_numpy()
    idf = token_weights(std) if idf is None else idf
    involved = pd.unique(np.concatenate([ra, rb]))
    sub = s.loc[involved, ["aliases", "name_cjk", "qualifiers", "qualifiers_en"]]
    name, overlap, distinct = _name_features(dict(zip(sub.index, sub["aliases"])), ra, rb, idf)
    vec["name"], vec["name_tokens"], vec["name_distinct"] = name, overlap, distinct
    quals = {
        r: (cjk, _as_list(q), _as_list(qe))
        for r, cjk, q, qe in zip(sub.index, sub["name_cjk"], sub["qualifiers"], sub["qualifiers_en"])
    }
    vec["qualifiers"] = [_qualifier_agreement(quals[a], quals[b]) for a, b in zip(ra, rb)]
    branch = s["branch_flag"].to_numpy()
    same_branch = branch[s.index.get_indexer(pd.Index(ra))] == branch[s.index.get_indexer(pd.Index(rb))]
    vec["branch"] = same_branch.astype(float)
    vec = vec.reset_index(drop=True)
    vec.insert(0, "rid_b", rb)
    vec.insert(0, "rid_a", ra)
    return vec
