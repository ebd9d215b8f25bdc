"""Name-token evidence for matching: token document frequencies and their IDF weights, and the weighted
token overlap of two names with the evidence against a match from the words left over on both sides.

Pure functions over standardised alias cores (mdm.standardise.tokens); mdm.matching compares pairs with them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from mdm.standardise import tokens
from mdm.text import abbreviates, has_cjk


def token_counts(alias_lists: Iterable[Iterable[str]]) -> Counter[str]:
    """Per name token, the number of records (alias lists) holding it: the document frequencies that
    :func:`idf_weights` turns into weights. Counts of two sets of records add up (and subtract)."""
    counts: Counter[str] = Counter()
    for als in alias_lists:
        seen: set[str] = set()
        for al in als:
            seen.update(tokens(al))
        counts.update(seen)
    return counts


def idf_weights(counts: Mapping[str, int], records: int) -> dict[str, float]:
    """Inverse document frequency of name tokens held by ``counts[token]`` of ``records`` records: rare
    tokens weigh more than 'holdings' or '科技'."""
    return {t: float(np.log((records + 1) / (c + 1)) + 1.0) for t, c in counts.items() if c > 0}


def token_weights(std: pd.DataFrame) -> dict[str, float]:
    """:func:`idf_weights` over all records of ``std``."""
    return idf_weights(token_counts(std["aliases"]), len(std))


# Numbers and roman numerals tell numbered entities apart (Fund 1 / Fund 2, Holdings II / Holdings III): they
# never meet a near twin, and two different ones are a conflict whatever their frequency.
_NUMBERISH = re.compile(r"[0-9]+|(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})")


def _near_twin(t: str, u: str) -> float:
    """Similarity of two Latin name tokens when they are near twins (at least 0.8), else 0.0: 0.9 when one
    contracts the other, else rapidfuzz ratio. Cheap for the many tokens that are not twins: a contraction
    shares the first letter, and rapidfuzz gives up early under its cut-off (set a little below 80, and the
    ratio taken again without it above, so that the cut-off's own rounding never decides)."""
    if t[0] == u[0] and (abbreviates(t, u) or abbreviates(u, t)):
        return 0.9
    if not fuzz.ratio(t, u, score_cutoff=79.0):
        return 0.0
    s = fuzz.ratio(t, u) / 100.0
    return s if s >= 0.8 else 0.0


# An alias as the token evidence reads it, prepared once per alias: (in a CJK script, its tokens sorted, the
# same as a set, the IDF weight of each token, the sum of the weights, whether each token is a number or a
# roman numeral). Tokens are visited in sorted order, never in set order (which Python's string hashing changes
# from process to process), so a pair gets the same evidence to the last bit in any process or partition.
AliasTokens = tuple[bool, tuple[str, ...], frozenset[str], tuple[float, ...], float, tuple[bool, ...]]


def alias_tokens(alias: str, idf: Mapping[str, float]) -> AliasTokens:
    toks = tuple(sorted(set(tokens(alias))))
    weights = tuple([idf.get(t, 1.0) for t in toks])
    numberish = tuple([_NUMBERISH.fullmatch(t) is not None for t in toks])
    return has_cjk(alias), toks, frozenset(toks), weights, sum(weights), numberish


def alias_token_lists(lists: Iterable[Iterable[str]], idf: Mapping[str, float]) -> list[list[AliasTokens]]:
    """:func:`alias_tokens` of every alias of every list, each distinct alias prepared once (one name is an
    alias of the records of several sources)."""
    done: dict[str, AliasTokens] = {}
    out = []
    for als in lists:
        row = []
        for al in als:
            prepared = done.get(al)
            if prepared is None:
                prepared = done[al] = alias_tokens(al, idf)
            row.append(prepared)
        out.append(row)
    return out


def token_evidence(a: list[AliasTokens], b: list[AliasTokens], top: float) -> tuple[float, float]:
    """(overlap, distinct) of the best pair of aliases of the same script (aliases of :func:`alias_tokens`).

    overlap: IDF-weighted overlap of the token sets; Latin tokens also meet their near twins (similarity
    >= 0.8, so 'asi apacific' still meets 'asia pacific') and their contractions (:func:`mdm.text.abbreviates`),
    counted at their similarity; CJK bigrams meet only exactly. distinct: evidence against a match from the tokens left over on *both* sides ("Baltic Amber
    Trading" / "Baltic Granite Trading"): 1 - (IDF of the rarer side's rarest left-over token) / ``top``, so
    1.0 when all tokens meet, near 0 when each side keeps a rare word of its own, and 0.0 when they carry
    different numbers; when only one side has words left over ("Acme Trading (Europe)"), between 0.5 and 1
    (1 - half the relative IDF of its rarest one). NaN when no two aliases share a script.
    A Latin token meets the near twin of highest similarity among the other side's tokens not yet met (the
    last in sorted order among equals); numbers and roman numerals meet only exactly.
    """
    best, distinct = 0.0, float("nan")
    for cjk_a, ta, _, wa, sum_a, num_a in a:
        if not ta:
            continue
        for cjk_b, tb, set_b, wb, sum_b, num_b in b:
            if cjk_a != cjk_b or not tb:
                continue
            if tb == ta and sum_a > 0:  # the same tokens: overlap 1, nothing left over; no other pair does better
                return 1.0, 1.0
            shared = 0.0
            matched_b: set[str] = set()
            left_a: list[float] = []  # weights of the tokens of a left over
            number_a = False  # whether one of them is numberish
            for i, t in enumerate(ta):
                if t in set_b:
                    shared += wa[i]
                    matched_b.add(t)
                    continue
                if not cjk_a and not num_a[i]:
                    sim, twin = 0.0, -1
                    for j, u in enumerate(tb):
                        if num_b[j] or u in matched_b:
                            continue
                        s = _near_twin(t, u)
                        if s and s >= sim:
                            sim, twin = s, j
                    if twin >= 0:
                        shared += sim * (wa[i] + wb[twin]) / 2
                        matched_b.add(tb[twin])
                        continue
                left_a.append(wa[i])
                number_a = number_a or num_a[i]
            left_b = [wb[j] for j, u in enumerate(tb) if u not in matched_b]
            union = sum_a + sum_b - shared
            overlap = shared / union if union > 0 else 0.0
            if not left_a and not left_b:
                d = 1.0
            elif not left_a or not left_b:  # one name adds words ("Acme (Europe)"): weaker, never "nothing left"
                d = 1.0 - 0.5 * min(1.0, max(left_a or left_b) / top)
            elif number_a and any(num_b[j] for j, u in enumerate(tb) if u not in matched_b):
                d = 0.0
            else:
                d = 1.0 - min(1.0, min(max(left_a), max(left_b)) / top)
            if overlap > best or (overlap == best and not d <= distinct):
                best, distinct = overlap, d
    return best, distinct
