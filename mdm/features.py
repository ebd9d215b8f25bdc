"""The comparison features of a record pair, by name (:func:`mdm.comparison.compare` computes them).

Kept apart from :mod:`mdm.comparison` so that a run's plan can name them (its match fingerprint) without
importing the comparison's libraries (recordlinkage, with scikit-learn and SciPy: seconds at every start)."""

from __future__ import annotations

from typing import Final

FEATURES: Final = ("name", "name_tokens", "name_distinct", "qualifiers", "country", "city", "postal", "address")
