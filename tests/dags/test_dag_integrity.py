"""DAG integrity: every DAG file imports cleanly and fast, reads no file at parse time, and every DAG and task
carries the production settings (tags, docs, retries with backoff, timeouts, failure callback, the pool).

Airflow runs in a fresh interpreter with a throwaway AIRFLOW_HOME and no MDM_CONFIG.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.dags.test_mdm_dag import DAGS, _tail, airflow_env

# Seconds a DAG file may take to import once airflow.sdk is loaded (the processor re-parses every file often).
IMPORT_BUDGET = 5.0
HEAVY = (
    "pandas",
    "duckdb",
    "pyarrow",
    "great_expectations",
    "recordlinkage",
    "sqlalchemy",
    "pipelines.runner",
    "pipelines.config",
    "pipelines.plan",
)

# Imports each DAG file with an audit hook that records every file opened, then describes the DagBag.
_PROBE = """
import importlib.util, json, os, sys, time
from pathlib import Path
import airflow.sdk  # warm the SDK: its own imports are not the DAG files' doing
from airflow.sdk import Asset, AssetAlias, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task, chain

dags, out = Path(sys.argv[1]), sys.argv[2]
files = sorted(dags.glob("*.py"))
before = set(sys.modules)
opened = []
def hook(event, args):
    if event == "open" and args[0] is not None:
        opened.append(os.fsdecode(args[0]) if isinstance(args[0], (str, bytes)) else str(args[0]))
    elif event in ("socket.connect", "subprocess.Popen", "os.system"):
        opened.append(f"{event}:{args[0]!r}")
sys.addaudithook(hook)
times = {}
for path in files:
    t0 = time.perf_counter()
    spec = importlib.util.spec_from_file_location(f"probe_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    times[path.name] = time.perf_counter() - t0
# Python source and bytecode of imported modules are not I/O of the DAG code.
io = [p for p in opened if not p.endswith((".py", ".pyc", ".so")) and not p.endswith("__pycache__")]
open(os.devnull).close()  # self-check: the hook sees a read
hook_works = opened[-1] == os.devnull
heavy = [m for m in sys.argv[3].split(",") if m in sys.modules and m not in before]

from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=str(dags))
desc = {}
for dag_id, d in bag.dags.items():
    tasks = {}
    for t in d.tasks:
        tasks[t.task_id] = {
            "retries": t.retries, "backoff": t.retry_exponential_backoff,
            "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
            "callback": bool(t.on_failure_callback), "pool": t.pool,
            "mapped": hasattr(t, "expand_input"), "outlets": [type(a).__name__ + ":" + a.name for a in t.outlets],
        }
    desc[dag_id] = {"tags": sorted(d.tags), "doc_md": d.doc_md or "", "max_active_runs": d.max_active_runs,
                    "catchup": d.catchup, "timetable": type(d.timetable).__name__, "tasks": tasks,
                    "params": sorted(d.params.keys())}
json.dump({"hook_works": hook_works, "times": times, "io": io, "heavy": heavy, "errors": {str(k): v for k, v in bag.import_errors.items()},
           "dags": desc}, open(out, "w"))
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("airflow_probe")
    out = home / "probe.json"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(DAGS), str(out), ",".join(HEAVY)],
        env=airflow_env(home),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, _tail(proc)
    return json.loads(out.read_text())


def test_every_dag_file_imports_cleanly_and_fast(probe: dict) -> None:
    assert probe["errors"] == {}
    assert set(probe["times"]) == {p.name for p in DAGS.glob("*.py")}
    slow = {name: round(s, 2) for name, s in probe["times"].items() if s > IMPORT_BUDGET}
    assert not slow, f"DAG files over the {IMPORT_BUDGET} s import budget: {slow}"
    assert set(probe["dags"]) == {"mdm_land_sources", "mdm_pipeline", "mdm_quality"}


def test_parsing_reads_no_file_and_loads_no_heavy_module(probe: dict) -> None:
    # No MDM_CONFIG in the environment, and no config, source, warehouse or listing is touched at parse time.
    assert probe["hook_works"]
    assert probe["io"] == [], probe["io"][:20]
    assert probe["heavy"] == []


def test_dags_carry_tags_docs_and_one_active_run(probe: dict) -> None:
    for dag_id, d in probe["dags"].items():
        assert "mdm" in d["tags"] and len(d["tags"]) >= 2, dag_id
        assert "MDM_CONFIG" in d["doc_md"] and len(d["doc_md"]) > 300, dag_id
        assert d["max_active_runs"] == 1, dag_id  # every DAG writes or reads the one warehouse
        assert d["catchup"] is False, dag_id
    assert probe["dags"]["mdm_pipeline"]["timetable"] == "AssetOrTimeSchedule"
    assert probe["dags"]["mdm_pipeline"]["params"] == ["full", "sources"]
    assert probe["dags"]["mdm_land_sources"]["params"] == ["full", "sources"]


def test_tasks_retry_with_backoff_time_out_and_report_failures(probe: dict) -> None:
    for dag_id, d in probe["dags"].items():
        for task_id, t in d["tasks"].items():
            where = f"{dag_id}.{task_id}"
            assert t["retries"] >= 1 and t["backoff"] > 1, where
            assert t["timeout"] and t["timeout"] <= 2 * 3600, where
            assert t["callback"], where


def test_warehouse_writers_share_one_pool_and_sources_land_in_parallel(probe: dict) -> None:
    from pipelines.stages import STAGES

    pipe = probe["dags"]["mdm_pipeline"]["tasks"]
    land = probe["dags"]["mdm_land_sources"]["tasks"]
    for task_id in ("start", *STAGES):
        assert pipe[task_id]["pool"] == "mdm_warehouse", task_id
    for task_id in ("start", "extract", "validate", "announce"):
        assert land[task_id]["pool"] == "mdm_warehouse", task_id
    for tasks in (pipe, land):
        assert tasks["land"]["mapped"] and tasks["land"]["pool"] != "mdm_warehouse"
        assert tasks["sources"]["pool"] != "mdm_warehouse"
    # The match partitions are mapped over the workers, outside the pool (they touch no database).
    assert pipe["match_prepare"]["pool"] == "mdm_warehouse"
    for task_id in ("match_compare", "match_decide"):
        assert pipe[task_id]["mapped"] and pipe[task_id]["pool"] != "mdm_warehouse", task_id
    assert pipe["match_train"]["pool"] != "mdm_warehouse"
    assert land["announce"]["outlets"] == ["AssetAlias:mdm_sources"]
    assert pipe["publish"]["outlets"] == ["Asset:mdm_warehouse"]
