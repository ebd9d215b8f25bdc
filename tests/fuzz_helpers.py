"""Shared pieces of the property-based (fuzz) tests: a hang guard and byte mutations of seed inputs."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import strategies as st

HANG_SECONDS = 10


@contextmanager
def no_hang(seconds: int = HANG_SECONDS) -> Iterator[None]:
    """Fail an example that runs longer than ``seconds`` (a hang), instead of blocking the suite."""

    def expired(*_: object) -> None:
        raise TimeoutError(f"example still running after {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, max_edits: int = 4) -> bytes:
    """``seed`` with a few random edits: a byte replaced, bytes inserted or deleted, or the tail cut off."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, max_edits))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(("replace", "insert", "delete", "truncate", "duplicate")))
        if op == "replace":
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif op == "truncate":
            del data[at:]
        else:
            end = min(len(data), at + draw(st.integers(1, 64)))
            data[at:at] = data[at:end]
    return bytes(data)


# Text as registers and hostile users write it: any Unicode (controls, NUL, RTL marks, astral planes).
texts = st.text(max_size=30)
