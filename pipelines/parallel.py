"""Worker processes for the CPU-bound Python work of a run (standardisation, pair comparison).

One place decides how work is spread: :func:`map_batches` runs a picklable, module-level function over
batches in ``workers`` processes and yields the results in input order; with one worker, or one batch,
it runs in this process. The workers are forked by a forkserver that has already imported the heavy
modules (pandas, the matching code), so no DuckDB connection or open file of the run is inherited and a
worker does not pay the imports again. The same function over the same batches gives the same results
either way, which is what makes partitioned execution testable (tests/pipelines/test_parallel.py, tests/pipelines/stages/test_match_partitions.py).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
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


def warm_up() -> None:
    """Start the forkserver now (it returns at once): it imports :data:`PRELOAD` on its own core while the
    caller goes on, so the first worker a run starts (the Data Docs, a landing) does not wait about 5 s
    for those imports. Nothing is started in a daemonic process (it may not have worker children)."""
    import multiprocessing
    from multiprocessing import forkserver

    if multiprocessing.current_process().daemon:
        return
    context()  # sets the preload
    with starting_workers():
        forkserver.ensure_running()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a block that makes a great many small objects in no
    reference cycle (rows fetched from a database, a partition's comparisons): its passes over them (and over
    every other object of the process) cost more than the work itself. Reference counting frees them as
    before; only objects in cycles wait for the next collection. Never hold it across a ``yield``."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def starting_workers() -> Iterator[None]:
    """Around starting a worker process: the worker does not run this process's ``__main__`` again.

    multiprocessing has a new process import the parent's main script or module (as ``__mp_main__``) so that
    functions defined there can be unpickled. Our workers run only functions of the run's modules, which the
    forkserver preloads, and the parent's main may be a program that must not be imported twice: in an Airflow
    task it is Airflow's own command line, which sets Airflow up on import and fails in a worker. So the main
    module's file and spec are hidden while the process starts."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    missing = object()
    saved = {k: main.__dict__.get(k, missing) for k in ("__file__", "__spec__")}
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is missing:
                main.__dict__.pop(k, None)
            else:
                main.__dict__[k] = v


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
                with starting_workers():  # a worker may be started by this submit
                    pending.append(pool.submit(fn, batch))
                if len(pending) >= 2 * workers:
                    yield pending.pop(0).result()
            while pending:
                yield pending.pop(0).result()
        finally:
            for fut in pending:
                fut.cancel()
