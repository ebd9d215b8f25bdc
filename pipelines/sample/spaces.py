"""Draws without replacement: name pairs and identifier spaces scattered by affine bijections; random dates."""

from __future__ import annotations

import random
from datetime import date, timedelta

from pipelines.sample import synth


class _Space:
    """Draws distinct (stem, industry) pairs from ``stems x industries`` without replacement.

    Current names take indices from the bottom, former names from the top, both through one affine
    bijection, so no two names (current or former) ever share a pair.
    """

    def __init__(self, rng: random.Random, n_stems: int, n_industries: int) -> None:
        self.size = n_stems * n_industries
        self.n_industries = n_industries
        a = rng.randrange(1, self.size)
        while _gcd(a, self.size) != 1:
            a += 1
        self.a, self.b = a, rng.randrange(self.size)
        self.low = 0
        self.high = self.size - 1

    def _pair(self, k: int) -> tuple[int, int]:
        return divmod(synth.affine(k, self.size, self.a, self.b), self.n_industries)

    def take(self) -> tuple[int, int]:
        """The next unused pair for a current name."""
        if self.low > self.high:
            raise ValueError("name space exhausted; add stems")
        self.low += 1
        return self._pair(self.low - 1)

    def take_former(self) -> tuple[int, int]:
        """The next unused pair for a former name."""
        if self.low > self.high:
            raise ValueError("name space exhausted; add stems")
        self.high -= 1
        return self._pair(self.high + 1)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


class _Ids:
    """Sequential counters scattered by affine bijections into identifier spaces (unique ids)."""

    def __init__(self, rng: random.Random) -> None:
        self.params: dict[str, tuple[int, int, int]] = {}
        self.counters: dict[str, int] = {}
        for name, size in (
            ("lei", 36**12),
            ("uscc", 10**8),
            ("ch8", 2 * 10**7),
            ("ch6", 10**6),
            ("cik", 1_980_000),
            ("ein", 10**7),
            ("crm", 10**8),
            ("acc", 10**10),
            ("state", 10**7),
            ("hrb", 10**6),
            ("siren", 10**8),
            ("hkcr", 10**7),
        ):
            a = rng.randrange(size // 3, size)
            while _gcd(a, size) != 1:
                a += 1
            self.params[name] = (size, a, rng.randrange(size))
            self.counters[name] = 0

    def next(self, name: str) -> int:
        size, a, b = self.params[name]
        k = self.counters[name]
        if k >= size:
            raise ValueError(f"identifier space {name} exhausted")
        self.counters[name] = k + 1
        return synth.affine(k, size, a, b)


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    total = sum(w for _, w in table)
    r = rng.randrange(total)
    for v, w in table:
        r -= w
        if r < 0:
            return v
    raise AssertionError("unreachable")


def _rand_date(rng: random.Random, start: date, end: date) -> date:
    span = (end - start).days
    return start + timedelta(days=rng.randrange(max(span, 1)))
