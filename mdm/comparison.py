"""Comparison of candidate record pairs: one value per feature and pair, in [0, 1] or NaN (unknown).

Names (best alias similarity and name-token evidence, mdm.name_tokens), qualifiers, country, city, postal
code and address, through recordlinkage's Compare. Everything that does not depend on the pair is prepared
once per record (or per distinct list of aliases, per distinct pair of values), so a pair costs little; the
values are the same to the last bit as comparing each pair on its own (tests/mdm/test_name_tokens.py).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd
import recordlinkage as rl
from rapidfuzz import fuzz
from recordlinkage.algorithms.string import jarowinkler_similarity
from recordlinkage.base import BaseCompareFeature

from mdm.features import FEATURES as FEATURES
from mdm.name_tokens import alias_token_lists, token_evidence, token_weights


def _best_alias_similarity(a: tuple[list[str], list[str]], b: tuple[list[str], list[str]]) -> float:
    """Best rapidfuzz similarity of two aliases of the same script; each side is (its CJK aliases, its others)."""
    best = 0.0
    for x in a[0]:
        for y in b[0]:
            if x == y:  # the most similar there is
                return 1.0
            best = max(best, fuzz.ratio(x, y) / 100.0)
    for x in a[1]:
        for y in b[1]:
            if x == y:
                return 1.0
            best = max(best, max(fuzz.ratio(x, y), fuzz.token_sort_ratio(x, y)) / 100.0)
    return best


_Qualifiers = tuple[bool, tuple[str, ...] | None, tuple[str, ...] | None]


def _qualifier_agreement(a: _Qualifiers, b: _Qualifiers) -> float:
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


def _as_tuple(v: object) -> tuple[str, ...] | None:
    """A list column value as a tuple (DuckDB and pandas hand lists back as arrays; NULL as NA)."""
    if isinstance(v, np.ndarray):
        return tuple(v.tolist())
    if isinstance(v, (list, tuple)):
        return tuple(v)
    return None


class _DistinctPairs(BaseCompareFeature):  # type: ignore[misc]  # recordlinkage ships no type information
    """A string similarity in [0, 1] computed once per distinct pair of values (cities and addresses repeat
    across the pairs of a partition); NaN when either side is unknown (not a disagreement). ``similarity``
    maps two equally long series of strings to their similarities."""

    def __init__(self, left: str, right: str, similarity: Callable[[pd.Series, pd.Series], np.ndarray], label: str):
        super().__init__(left, right, label=label)
        self.similarity = similarity

    def _compute_vectorized(self, s_left: pd.Series, s_right: pd.Series) -> pd.Series:
        code_a, values_a = pd.factorize(s_left.to_numpy(dtype=object))  # a missing value is -1
        code_b, values_b = pd.factorize(s_right.to_numpy(dtype=object))
        text_a = np.array([isinstance(v, str) and v != "" for v in values_a] + [False])  # [-1]: missing
        text_b = np.array([isinstance(v, str) and v != "" for v in values_b] + [False])
        known = text_a[code_a] & text_b[code_b]
        out = np.full(len(s_left), np.nan)
        if known.any():
            first, second, inverse = _distinct_pairs(code_a[known], code_b[known])
            similarity = self.similarity(
                pd.Series(values_a[first], dtype=object), pd.Series(values_b[second], dtype=object)
            )
            out[known] = np.asarray(similarity, dtype=float)[inverse]
        return pd.Series(out, index=s_left.index)


def _token_set_similarity(left: pd.Series, right: pd.Series) -> np.ndarray:
    """rapidfuzz token-set similarity in [0, 1]."""
    return np.array([fuzz.token_set_ratio(a, b) / 100.0 for a, b in zip(left, right)], dtype=float)


def _jaro_winkler_similarity(left: pd.Series, right: pd.Series) -> np.ndarray:
    """recordlinkage's Jaro-Winkler similarity (``Compare.string(method="jarowinkler")``)."""
    return np.asarray(jarowinkler_similarity(left, right), dtype=float)


_V = TypeVar("_V", bound=Hashable)


def _distinct_pairs(code_a: np.ndarray, code_b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct pairs of codes (``code_a[i]``, ``code_b[i]``) as two arrays, and for each i the position of
    its pair among them."""
    width = int(max(code_a.max(initial=0), code_b.max(initial=0))) + 1
    keys, inverse = np.unique(code_a.astype(np.int64) * width + code_b, return_inverse=True)
    return keys // width, keys % width, inverse.reshape(-1)


def _codes(values: Iterable[_V]) -> tuple[list[_V], np.ndarray]:
    """The distinct ``values`` (hashable) and the number of each value among them."""
    distinct: dict[_V, int] = {}
    code = np.fromiter((distinct.setdefault(v, len(distinct)) for v in values), dtype=np.int64)
    return list(distinct), code


def _name_features(
    aliases: Iterable[Sequence[str]], pa: np.ndarray, pb: np.ndarray, idf: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The name features of each pair (pa[i], pb[i]) of records (positions in ``aliases``, each record's list of
    aliases): name similarity (:func:`_best_alias_similarity`), token overlap and distinct
    (:func:`token_evidence`). They depend on the two lists of aliases only, which many records share (one entity
    in several sources): each list is prepared once (scripts, tokens with weights) and each pair of lists
    compared once."""
    top = max(idf.values(), default=1.0)
    lists, code = _codes(_as_tuple(als) or () for als in aliases)
    toks = alias_token_lists(lists, idf)
    names = [
        ([al for al, t in zip(als, tk) if t[0]], [al for al, t in zip(als, tk) if not t[0]])
        for als, tk in zip(lists, toks)
    ]
    first, second, inverse = _distinct_pairs(code[pa], code[pb])
    features = np.empty((len(first), 3))
    for k, (i, j) in enumerate(zip(first.tolist(), second.tolist())):
        features[k] = (_best_alias_similarity(names[i], names[j]), *token_evidence(toks[i], toks[j], top))
    out = features[inverse]
    return out[:, 0], out[:, 1], out[:, 2]


def compare(std: pd.DataFrame, pairs: pd.DataFrame, idf: dict[str, float] | None = None) -> pd.DataFrame:
    """Comparison vectors of candidate pairs: one column per feature, values in [0, 1] or NaN (unknown).

    ``idf`` (token weights) defaults to :func:`token_weights` over ``std``."""
    if pairs.empty:
        return pd.DataFrame(columns=["rid_a", "rid_b", *FEATURES, "branch"])
    ra, rb = pairs.rid_a.to_numpy(), pairs.rid_b.to_numpy()
    idf = token_weights(std) if idf is None else idf
    # The records the pairs involve, numbered 0..n-1, and the number of each pair's two records: recordlinkage
    # looks the pairs up by these numbers (a RangeIndex) rather than by their rids.
    both, involved = pd.factorize(np.concatenate([ra, rb]))
    pa, pb = both[: len(ra)], both[len(ra) :]
    rows = pd.Index(std["rid"]).get_indexer(involved)
    if (rows < 0).any():
        raise KeyError(f"pairs name records not in std: {list(involved[rows < 0][:5])}")
    sub = std.take(rows).reset_index(drop=True)
    frame = sub[["country_iso", "city_norm", "postal_norm", "address_norm"]]
    frame = frame.mask(frame.isna() | (frame == ""))
    cmp = rl.Compare()
    cmp.exact("country_iso", "country_iso", label="country", missing_value=np.nan)
    cmp.add(_DistinctPairs("city_norm", "city_norm", _jaro_winkler_similarity, label="city"))
    cmp.exact("postal_norm", "postal_norm", label="postal", missing_value=np.nan)
    cmp.add(_DistinctPairs("address_norm", "address_norm", _token_set_similarity, label="address"))
    vec: pd.DataFrame = cmp.compute(pd.MultiIndex.from_arrays([pa, pb]), frame)
    name, overlap, distinct = _name_features(sub["aliases"], pa, pb, idf)
    vec["name"], vec["name_tokens"], vec["name_distinct"] = name, overlap, distinct
    quals, code = _codes(
        (cjk, _as_tuple(q), _as_tuple(qe))
        for cjk, q, qe in sub[["name_cjk", "qualifiers", "qualifiers_en"]].itertuples(index=False)
    )
    first, second, inverse = _distinct_pairs(code[pa], code[pb])
    agreement = [_qualifier_agreement(quals[i], quals[j]) for i, j in zip(first.tolist(), second.tolist())]
    vec["qualifiers"] = np.asarray(agreement, dtype=float)[inverse]
    branch = sub["branch_flag"].to_numpy()
    vec["branch"] = (branch[pa] == branch[pb]).astype(float)
    vec = vec.reset_index(drop=True)
    vec.insert(0, "rid_b", rb)
    vec.insert(0, "rid_a", ra)
    return vec
