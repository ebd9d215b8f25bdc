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


MAIN_THAT_REFUSES_REIMPORT = """
import sys
if __name__ != "__main__":  # like Airflow's command line, which sets Airflow up when imported
    raise SystemExit("the parent's main script was run again in a worker")
from multiprocessing import forkserver
from pipelines.parallel import context, map_batches, starting_workers, warm_up

warm_up()  # as mdm run does first: the forkserver started then serves the workers below
print(forkserver._forkserver._forkserver_pid is not None)
print(list(map_batches(sorted, [[3, 1], [2, 0], [5, 4]], workers=2)))
with starting_workers():
    proc = context().Process(target=sorted, args=([2, 1],))
    proc.start()
proc.join(timeout=120)
print(proc.exitcode, __file__ == sys.argv[0])
"""


def test_workers_do_not_run_the_parents_main_script_again(tmp_path) -> None:
    """In an Airflow task the main script is Airflow's CLI: a worker that ran it again failed (seen in the
    DAG run of make bench when the Data Docs worker started). Workers need only the preloaded run modules,
    also when the forkserver was started ahead (pipelines.parallel.warm_up)."""
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "refuses_reimport.py"
    script.write_text(MAIN_THAT_REFUSES_REIMPORT, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["True", "[[1, 3], [0, 2], [4, 5]]", "0 True"]
