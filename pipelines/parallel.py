"""Worker processes for the CPU-bound Python work of a run (standardisation, pair comparison).

One place decides how work is spread: :func:`map_batches` runs a picklable, module-level function over
batches in ``workers`` processes and yields the results in input order; with one worker, or one batch,
it runs in this process. The workers are forked by a forkserver that has already imported the heavy
modules (pandas, the matching code), so no DuckDB connection or open file of the run is inherited and a
worker does not pay the imports again. The same function over the same batches gives the same results
either way, which is what makes partitioned execution testable (tests/pipelines/test_parallel.py, tests/pipelines/stages/test_match_partitions.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain, islice
from multiprocessing import get_context
from multiprocessing.context import ForkServerContext
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Imported once by the forkserver, before it forks a worker.
PRELOAD = [
    "pandas",
    "pyarrow.parquet",
    "pipelines.stages.standardise_worker",
    "pipelines.stages.match_partition",
    "pipelines.survive_batch",
    "pipelines.stages.cluster",
]


def context() -> ForkServerContext:
    """The forkserver context every worker process of a run comes from (heavy modules preloaded)."""
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def map_batches(fn: Callable[[T], R], batches: Iterable[T], workers: int) -> Iterator[R]:
    """``fn`` over ``batches`` in ``workers`` processes, results in input order. At most ``2 * workers``
    batches are in flight at once, so memory stays bounded by the batch size, not by the input. The
    workers live as long as the call (a pool kept for later would be waited for forever by a caller that is
    itself a multiprocessing child: it joins its children before exit handlers run)."""
    it = iter(batches)
    head = list(islice(it, 2))
    if workers <= 1 or len(head) <= 1:
        yield from map(fn, chain(head, it))
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=context()) as pool:
        pending: list[Future[R]] = []
        try:
            for batch in chain(head, it):
                pending.append(pool.submit(fn, batch))
                if len(pending) >= 2 * workers:
                    yield pending.pop(0).result()
            while pending:
                yield pending.pop(0).result()
        finally:
            for fut in pending:
                fut.cancel()
