"""A Fellegi-Sunter model over discretised comparison features, trained by EM (unsupervised) or from
labelled pairs (steward decisions), with per-feature explanations.

Each feature's similarity in [0, 1] is cut into levels (highest level first); an unknown value
(NaN) contributes nothing. For level ``l`` of feature ``f`` the model holds ``m = P(l | match)`` and
``u = P(l | non-match)``; a pair's match weight is ``log2(lambda / (1 - lambda)) + sum_f log2(m/u)``
and its probability ``2^w / (1 + 2^w)``. The per-feature terms ``log2(m/u)`` are the explanation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# feature -> ascending cut points; level k means similarity >= cuts[k-1] (level 0: below the first cut).
LEVELS: dict[str, tuple[float, ...]] = {
    "name": (0.70, 0.85, 0.93, 0.98),
    "name_tokens": (0.40, 0.60, 0.80, 0.95),
    "name_distinct": (0.30, 0.60, 0.999),  # rare / uncommon / common left-over words on both sides / none
    "qualifiers": (1.0,),
    "country": (1.0,),
    "city": (0.85, 0.95),
    "postal": (1.0,),
    "address": (0.50, 0.70, 0.90),
}
EPS = 1e-6


def discretise(vectors: pd.DataFrame, features: tuple[str, ...] | None = None) -> np.ndarray:
    """Level of each feature per pair (int matrix, -1 where the comparison is unknown)."""
    feats = features or tuple(LEVELS)
    out = np.full((len(vectors), len(feats)), -1, dtype=np.int64)
    for j, f in enumerate(feats):
        vals = vectors[f].to_numpy(dtype=float)
        known = ~np.isnan(vals)
        out[known, j] = np.searchsorted(np.asarray(LEVELS[f]), vals[known] + 1e-12, side="right")
    return out


@dataclass
class FellegiSunter:
    features: tuple[str, ...] = tuple(LEVELS)
    lam: float = 0.1
    m: dict[str, np.ndarray] = field(default_factory=dict)
    u: dict[str, np.ndarray] = field(default_factory=dict)
    iterations: int = 0
    trained_on: str = "unsupervised"

    @classmethod
    def untrained(cls) -> FellegiSunter:
        """The starting model, for a run with no pairs to learn from: u uniform, m favouring the top levels."""
        model = cls()
        model._init(np.zeros((0, len(model.features)), dtype=np.int64))
        return model

    def _init(self, levels: np.ndarray) -> None:
        for j, f in enumerate(self.features):
            k = len(LEVELS[f]) + 1
            col = levels[:, j]
            counts = np.bincount(col[col >= 0], minlength=k).astype(float) + 1.0
            self.u[f] = counts / counts.sum()  # most candidate pairs are non-matches
            m = np.geomspace(1, 2 ** (k - 1) * 4, k)  # matches favour the top levels
            self.m[f] = m / m.sum()

    def _loglik(self, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lm = np.zeros(len(levels))
        lu = np.zeros(len(levels))
        for j, f in enumerate(self.features):
            col = levels[:, j]
            known = col >= 0
            lm[known] += np.log(self.m[f][col[known]])
            lu[known] += np.log(self.u[f][col[known]])
        return lm, lu

    def fit(self, levels: np.ndarray, max_iter: int = 100, tol: float = 1e-6) -> FellegiSunter:
        """Unsupervised EM over candidate pairs (deterministic: fixed initialisation, no sampling)."""
        self._init(levels)
        for it in range(max_iter):
            lm, lu = self._loglik(levels)
            a = np.log(self.lam) + lm
            b = np.log(1 - self.lam) + lu
            g = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))  # P(match | levels)
            new_lam = float(np.clip(g.mean(), EPS, 1 - EPS))
            delta = abs(new_lam - self.lam)
            self.lam = new_lam
            for j, f in enumerate(self.features):
                k = len(LEVELS[f]) + 1
                col = levels[:, j]
                known = col >= 0
                wm = np.bincount(col[known], weights=g[known], minlength=k) + EPS
                wu = np.bincount(col[known], weights=1 - g[known], minlength=k) + EPS
                new_m, new_u = wm / wm.sum(), wu / wu.sum()
                delta = max(delta, float(np.abs(new_m - self.m[f]).max()), float(np.abs(new_u - self.u[f]).max()))
                self.m[f], self.u[f] = new_m, new_u
            self.iterations = it + 1
            if delta < tol:
                break
        self._orient()
        self.trained_on = "unsupervised"
        return self

    def _orient(self) -> None:
        """EM can swap the two classes; the match class is the one favouring the top name level."""
        top = len(LEVELS["name"]) if "name" in self.features else None
        if top is not None and self.m["name"][top] < self.u["name"][top]:
            self.m, self.u = self.u, self.m
            self.lam = 1 - self.lam

    def fit_supervised(self, levels: np.ndarray, is_match: np.ndarray, smoothing: float = 1.0) -> FellegiSunter:
        """m and u from labelled pairs (e.g. steward decisions), Laplace-smoothed."""
        is_match = np.asarray(is_match, dtype=bool)
        if is_match.all() or (~is_match).all():
            raise ValueError("supervised training needs both matching and non-matching pairs")
        self.lam = float(np.clip(is_match.mean(), EPS, 1 - EPS))
        for j, f in enumerate(self.features):
            k = len(LEVELS[f]) + 1
            col = levels[:, j]
            for target, sel in ((self.m, is_match), (self.u, ~is_match)):
                c = col[sel & (col >= 0)]
                counts = np.bincount(c, minlength=k).astype(float) + smoothing
                target[f] = counts / counts.sum()
        self.trained_on = "supervised"
        return self

    def weights(self, levels: np.ndarray) -> np.ndarray:
        """Per-pair, per-feature match weight log2(m/u) (0 where unknown)."""
        out = np.zeros(levels.shape, dtype=float)
        for j, f in enumerate(self.features):
            col = levels[:, j]
            known = col >= 0
            out[known, j] = np.log2(self.m[f][col[known]] / self.u[f][col[known]])
        return out

    def prior_weight(self) -> float:
        return float(np.log2(self.lam / (1 - self.lam)))

    def probability(self, levels: np.ndarray) -> np.ndarray:
        w = self.prior_weight() + self.weights(levels).sum(axis=1)
        return np.asarray(1.0 / (1.0 + np.power(2.0, -np.clip(w, -1000, 1000))))

    def explain(self, levels: np.ndarray) -> list[str]:
        """A JSON object per pair: the prior and each known feature's level and weight (log2 m/u)."""
        if len(levels) == 0:
            return []
        # A pair's explanation depends on its levels only: written once per distinct pattern of levels.
        # Each row coded as one integer (levels + 1 as digits of base max level + 2): a 1-d unique, far
        # cheaper than np.unique(axis=0) over rows.
        base = int(levels.max()) + 2
        if base ** levels.shape[1] >= 2**62:  # too many features for one integer: rows compared whole
            patterns, inverse = np.unique(levels, axis=0, return_inverse=True)
            return self._texts(patterns, np.asarray(inverse).reshape(-1))
        digits = (levels + 1).astype(np.int64)
        code = np.zeros(len(levels), dtype=np.int64)
        for j in range(levels.shape[1]):
            code = code * base + digits[:, j]
        codes, inverse = np.unique(code, return_inverse=True)
        patterns = np.zeros((len(codes), levels.shape[1]), dtype=np.int64)
        rest = codes.copy()
        for j in reversed(range(levels.shape[1])):
            patterns[:, j] = rest % base - 1
            rest //= base
        return self._texts(patterns, inverse)

    def _texts(self, patterns: np.ndarray, inverse: np.ndarray) -> list[str]:
        w = self.weights(patterns)
        prior = round(self.prior_weight(), 4)
        texts = []
        for i in range(len(patterns)):
            d: dict[str, object] = {"prior": prior}
            for j, f in enumerate(self.features):
                if patterns[i, j] >= 0:
                    d[f] = {"level": int(patterns[i, j]), "weight": round(float(w[i, j]), 4)}
            texts.append(json.dumps(d, sort_keys=True))
        return [texts[k] for k in inverse]

    def parameters(self) -> pd.DataFrame:
        """The trained model as rows (feature, level, lower bound, m, u, weight) for storage and explain."""
        rows = []
        for f in self.features:
            cuts = (0.0, *LEVELS[f])
            for lvl in range(len(cuts)):
                m, u = float(self.m[f][lvl]), float(self.u[f][lvl])
                rows.append(
                    {
                        "feature": f,
                        "level": lvl,
                        "lower_bound": cuts[lvl],
                        "m": m,
                        "u": u,
                        "weight": float(np.log2(m / u)),
                    }
                )
        rows.append(
            {
                "feature": "_prior",
                "level": 0,
                "lower_bound": None,
                "m": self.lam,
                "u": 1 - self.lam,
                "weight": self.prior_weight(),
            }
        )
        return pd.DataFrame(rows)

    @classmethod
    def from_parameters(cls, params: pd.DataFrame) -> FellegiSunter:
        model = cls()
        feats = [f for f in dict.fromkeys(params["feature"]) if f != "_prior"]
        model.features = tuple(feats)
        for f in feats:
            p = params[params["feature"] == f].sort_values("level")
            model.m[f] = p["m"].to_numpy(dtype=float)
            model.u[f] = p["u"].to_numpy(dtype=float)
        model.lam = float(params.loc[params["feature"] == "_prior", "m"].iloc[0])
        return model
