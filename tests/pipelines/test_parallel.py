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
