"""Clustering quality against a ground truth: pairwise precision/recall/F1 and B-cubed F1."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping


def _pairs(sizes: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def pairwise(predicted: Mapping[str, str], truth: Mapping[str, str]) -> dict[str, float]:
    """Pairwise precision/recall/F1 of predicted cluster ids vs true entity ids (over the common keys)."""
    keys = sorted(set(predicted) & set(truth))
    both = Counter((predicted[k], truth[k]) for k in keys)
    tp = _pairs(both)
    pp = _pairs(Counter(predicted[k] for k in keys))
    tt = _pairs(Counter(truth[k] for k in keys))
    p = tp / pp if pp else 1.0
    r = tp / tt if tt else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "true_pairs": tt, "predicted_pairs": pp}


def bcubed(predicted: Mapping[str, str], truth: Mapping[str, str]) -> dict[str, float]:
    """B-cubed precision/recall/F1 (Bagga & Baldwin), averaged over records."""
    keys = sorted(set(predicted) & set(truth))
    both = Counter((predicted[k], truth[k]) for k in keys)
    psize = Counter(predicted[k] for k in keys)
    tsize = Counter(truth[k] for k in keys)
    p = sum(both[(predicted[k], truth[k])] / psize[predicted[k]] for k in keys) / max(len(keys), 1)
    r = sum(both[(predicted[k], truth[k])] / tsize[truth[k]] for k in keys) / max(len(keys), 1)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}
