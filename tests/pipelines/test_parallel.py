"""pipelines.parallel: the same results in order, in this process or in worker processes."""

from __future__ import annotations

import os

from pipelines.config import PerformanceConfig
from pipelines.parallel import map_batches


def _square_and_pid(batch: list[int]) -> tuple[list[int], int]:
    return [x * x for x in batch], os.getpid()


def test_map_batches_same_results_in_processes_and_in_process() -> None:
    batches = [list(range(i, i + 5)) for i in range(0, 50, 5)]
    local = list(map_batches(_square_and_pid, batches, workers=1))
    spread = list(map_batches(_square_and_pid, batches, workers=2))
    assert [r for r, _ in local] == [r for r, _ in spread] == [[x * x for x in b] for b in batches]
    assert {pid for _, pid in local} == {os.getpid()}
    assert os.getpid() not in {pid for _, pid in spread}


def test_worker_count_defaults_to_the_cores() -> None:
    assert PerformanceConfig(workers=3).worker_count() == 3
    assert 1 <= PerformanceConfig().worker_count() <= 8


def _in_a_child(out: object) -> None:
    batches = [[1, 2], [3, 4], [5, 6]]
    out.put([r for r, _ in map_batches(_square_and_pid, batches, workers=2)])  # type: ignore[attr-defined]


def test_a_multiprocessing_child_that_spreads_work_still_exits() -> None:
    """A caller that is itself a multiprocessing child (the benchmark runs the pipeline in one) joins its
    own children before it exits: no worker may outlive the call, or the child waits for ever."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_in_a_child, args=(out,))
    child.start()
    assert out.get(timeout=300) == [[1, 4], [9, 16], [25, 36]]
    child.join(timeout=120)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive and child.exitcode == 0
