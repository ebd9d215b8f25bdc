"""The DAG run against `mdm run` on the same sample (issue 13: the DAG takes at most twice `mdm run`).

``python -m pipelines.bench.airflow_timing --entities 2000 --out bench-out/airflow --rounds 2``

Generates one sample, then alternates, round by round: ``mdm run`` (the CLI, in a fresh process, on a
fresh warehouse) and the ``mdm_pipeline`` DAG on a real local Airflow 3 (scheduler, DAG processor and API
server on loopback, LocalExecutor, SQLite metadata DB: ``scripts/airflow_local.py``) on a copy of the same
sample with a fresh warehouse, triggered through the REST API. Airflow's start-up and one warm-up DAG run
are not counted; a DAG run is timed from its start to its end as Airflow records them (and from the
trigger, which adds the scheduler's pick-up). Both published warehouses are checked to hold the same
cross-reference. The ratio is the median DAG run time over the median ``mdm run`` time.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "scripts" / "airflow_local.py"
DAG = "mdm_pipeline"


@dataclass
class Timing:
    entities: int
    preload: bool = True  # the scheduler imported the run's modules (pipelines.airflow_preload)
    mdm_run: list[float] = field(default_factory=list)  # seconds, one per round
    dag_run: list[float] = field(default_factory=list)  # Airflow's start_date -> end_date
    dag_wall: list[float] = field(default_factory=list)  # trigger -> success seen through the API
    tasks: dict[str, float] = field(default_factory=dict)  # the last DAG run: seconds per task (mapped: summed)

    @property
    def ratio(self) -> float:
        return statistics.median(self.dag_run) / statistics.median(self.mdm_run)


def _local() -> Any:
    if not LOCAL.is_file():
        raise SystemExit(f"{LOCAL} not found: run the benchmark from a checkout of the repository")
    spec = importlib.util.spec_from_file_location("airflow_local", LOCAL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fresh(sample: Path, to: Path) -> Path:
    """A copy of the sample without a warehouse; returns its config."""
    shutil.rmtree(to, ignore_errors=True)
    shutil.copytree(sample, to, ignore=shutil.ignore_patterns("warehouse"))
    return to / "mdm.yaml"


def _xref(folder: Path) -> set[tuple[str, str]]:
    con = duckdb.connect(str(folder / "warehouse" / "mdm.duckdb"), read_only=True)
    try:
        return set(con.execute("SELECT source, source_id FROM xref").fetchall())
    finally:
        con.close()


def time_mdm_run(config: Path) -> float:
    """``mdm run`` as a user runs it (a new process: imports included)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("mdm")), "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"mdm run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return seconds


def _seconds(start: str, end: str) -> float:
    return (
        datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))
    ).total_seconds()


def _wait_run(api: Any, run_id: str, timeout: float = 3600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.call("GET", f"/api/v2/dags/{DAG}/dagRuns/{run_id}")
        if run["state"] in ("success", "failed"):
            if run["state"] != "success":
                raise RuntimeError(f"DAG run {run_id} failed; see the task logs under the Airflow home")
            return dict(run)
        time.sleep(1)
    raise TimeoutError(f"DAG run {run_id} did not finish within {timeout:.0f} s")


def time_dag_run(api: Any, timing: Timing) -> None:
    t0 = time.perf_counter()
    run = api.call("POST", f"/api/v2/dags/{DAG}/dagRuns", {"logical_date": None, "conf": {}})
    done = _wait_run(api, run["dag_run_id"])
    timing.dag_wall.append(time.perf_counter() - t0)
    timing.dag_run.append(_seconds(done["start_date"], done["end_date"]))
    tis = api.call("GET", f"/api/v2/dags/{DAG}/dagRuns/{run['dag_run_id']}/taskInstances")["task_instances"]
    timing.tasks = {}
    for ti in tis:
        timing.tasks[ti["task_id"]] = timing.tasks.get(ti["task_id"], 0.0) + float(ti["duration"] or 0)


def _idle(api: Any, timeout: float = 3600) -> None:
    """Wait until no run of the DAG is queued or running (e.g. the cron run unpausing may create)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = api.call("GET", f"/api/v2/dags/{DAG}/dagRuns?state=queued&state=running")["dag_runs"]
        if not runs:
            return
        time.sleep(2)
    raise TimeoutError(f"{DAG} still has active runs after {timeout:.0f} s")


def measure(entities: int, seed: int, out: Path, rounds: int = 2, preload: bool = True, log: Any = print) -> Timing:
    """Generate the sample in ``out`` and time ``rounds`` alternating pairs of ``mdm run`` and DAG runs."""
    from pipelines.sample import generate

    local = _local()
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    sample = out / "sample"
    generate(sample, entities=entities, seed=seed, force=True)
    cli_config = _fresh(sample, out / "cli")
    dag_folder = out / "dag"
    dag_config = _fresh(sample, dag_folder)
    home = out / "airflow"
    shutil.rmtree(home, ignore_errors=True)
    port = local.free_port()
    env = local.airflow_env(home, port, dag_config)
    log(f"starting Airflow in {home} (not timed; scheduler preload {'on' if preload else 'off'}) ...")
    local.write_preload(home, preload)
    local.prepare(env)
    procs = local.start(env, home / "logs")
    timing = Timing(entities, preload=preload)
    try:
        local.wait_healthy(port)
        api = local.Api(port, local.USER, local.password(home))
        deadline = time.monotonic() + 300
        while not any(d["dag_id"] == DAG for d in api.call("GET", "/api/v2/dags")["dags"]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the DAG processor did not register {DAG}")
            time.sleep(2)
        api.call("PATCH", f"/api/v2/dags/{DAG}", {"is_paused": False})
        time.sleep(5)
        _idle(api)
        log("warm-up DAG run (not counted) ...")
        _fresh(sample, dag_folder)
        time_dag_run(api, Timing(entities))
        for r in range(1, rounds + 1):
            _fresh(sample, out / "cli")
            timing.mdm_run.append(time_mdm_run(cli_config))
            log(f"round {r}: mdm run {timing.mdm_run[-1]:.1f} s")
            _fresh(sample, dag_folder)
            time_dag_run(api, timing)
            log(f"round {r}: DAG run {timing.dag_run[-1]:.1f} s (trigger to success {timing.dag_wall[-1]:.1f} s)")
        if _xref(out / "cli") != _xref(dag_folder):
            raise RuntimeError("the DAG and mdm run published different cross-references")
    finally:
        local.stop(procs)
    return timing


def render(t: Timing) -> str:
    runs = ", ".join(f"{m:.1f} / {d:.1f}" for m, d in zip(t.mdm_run, t.dag_run, strict=True))
    tasks = ", ".join(f"{k} {v:.1f}" for k, v in sorted(t.tasks.items(), key=lambda kv: -kv[1]))
    return (
        f"## Airflow DAG against `mdm run` ({t.entities:,} entities"
        f"{'' if t.preload else ', no scheduler preload'})\n\n"
        f"| | median (s) | runs (s) |\n|---|---:|---|\n"
        f"| `mdm run` | {statistics.median(t.mdm_run):.1f} | {', '.join(f'{x:.1f}' for x in t.mdm_run)} |\n"
        f"| `mdm_pipeline` DAG run | {statistics.median(t.dag_run):.1f} | {', '.join(f'{x:.1f}' for x in t.dag_run)} |\n"
        f"| DAG, trigger to success | {statistics.median(t.dag_wall):.1f} | "
        f"{', '.join(f'{x:.1f}' for x in t.dag_wall)} |\n\n"
        f"Ratio DAG / `mdm run` (medians): **{t.ratio:.2f}** (rounds, mdm / DAG: {runs}). "
        f"Task seconds of the last DAG run (mapped tasks summed): {tasks}.\n"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.bench.airflow_timing", description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=2000, help="legal entities in the sample (the demo: 2000)")
    ap.add_argument("--seed", type=int, default=42, help="sample seed (the demo's: 42)")
    ap.add_argument("--out", type=Path, default=Path("bench-out") / "airflow", help="work folder")
    ap.add_argument("--rounds", type=int, default=2, help="alternating mdm run / DAG run pairs")
    ap.add_argument("--no-preload", action="store_true", help="tasks import the run's modules themselves")
    ap.add_argument("--report", type=str, default="", help="Markdown file whose section of this name is replaced")
    args = ap.parse_args(argv)
    timing = measure(args.entities, args.seed, args.out, args.rounds, preload=not args.no_preload)
    section = render(timing)
    print(section)
    if args.report:
        from pipelines.bench.report import write_report

        write_report(Path(args.report), section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
