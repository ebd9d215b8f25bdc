"""Worker processes for the CPU-bound Python work of a run (standardisation, pair comparison).

One place decides how work is spread: :func:`map_batches` runs a picklable, module-level function over
batches in ``workers`` processes (started by forkserver, so no DuckDB connection or open file of the run
is inherited) and yields the results in input order; with one worker it runs in this process. The same
function over the same batches gives the same results either way, which is what makes partitioned
execution testable (tests/pipelines/test_parallel.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_batches(fn: Callable[[T], R], batches: Iterable[T], workers: int) -> Iterator[R]:
    """``fn`` over ``batches`` in ``workers`` processes, results in input order. At most ``2 * workers``
    batches are in flight at once, so memory stays bounded by the batch size, not by the input."""
    if workers <= 1:
        yield from map(fn, batches)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver")) as pool:
        pending = []
        for batch in batches:
            pending.append(pool.submit(fn, batch))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()
