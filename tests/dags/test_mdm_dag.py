"""Tests of the Airflow DAG dags/mdm_pipeline.py.

Airflow runs in subprocesses with a throwaway AIRFLOW_HOME (SQLite metadata DB in tmp), so the
tests never touch ~/airflow and never configure Airflow inside the pytest process.
"""

from __future__ import annotations

import ast
import json
import os
import sqlite3
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from pipelines.stages import STAGES

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
DAG_FILE = DAGS / "mdm_pipeline.py"
AIRFLOW = Path(sys.executable).with_name("airflow")

# Runs in a fresh interpreter: parse the dags folder with Airflow's DagBag and dump what the tests check.
_DESCRIBE_DAGS = """
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
out = {
    "import_errors": {str(k): v for k, v in bag.import_errors.items()},
    "runner_imported": "pipelines.runner" in sys.modules,
    "dags": {},
}
for dag_id, dag in bag.dags.items():
    out["dags"][dag_id] = {
        "schedule": repr(dag.schedule),
        "catchup": dag.catchup,
        "order": [t.task_id for t in dag.topological_sort()],
        "upstream": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},
        "trigger_rule": {t.task_id: getattr(t.trigger_rule, "value", t.trigger_rule) for t in dag.tasks},
        "outlets": {t.task_id: [[a.name, getattr(a, "uri", None)] for a in t.outlets] for t in dag.tasks},
    }
with open(sys.argv[2], "w") as f:
    json.dump(out, f)
"""


def airflow_env(home: Path) -> dict[str, str]:
    """Environment for an Airflow subprocess with its own home and SQLite DB; no MDM_CONFIG."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k != "MDM_CONFIG"}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
    )
    return env


def run_airflow(args: list[str], env: dict[str, str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the venv's airflow CLI; the output is kept for assertion messages."""
    return subprocess.run([str(AIRFLOW), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _tail(proc: subprocess.CompletedProcess, n: int = 120) -> str:
    """The end of a process's stdout and stderr (Airflow logs task tracebacks to stdout)."""
    out = "\n".join(proc.stdout.splitlines()[-n:])
    err = "\n".join(proc.stderr.splitlines()[-n:])
    return f"exit code {proc.returncode}\n--- stdout (tail) ---\n{out}\n--- stderr (tail) ---\n{err}"


# -- structure (fast) ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def described(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The dags folder as parsed by DagBag in a fresh interpreter, without MDM_CONFIG set."""
    home = tmp_path_factory.mktemp("airflow_home")
    out = home / "dags.json"
    proc = subprocess.run(
        [sys.executable, "-c", _DESCRIBE_DAGS, str(DAGS), str(out)],
        env=airflow_env(home),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, _tail(proc)
    return json.loads(out.read_text())


def test_dag_parses_without_config(described: dict) -> None:
    assert described["import_errors"] == {}
    assert "mdm_pipeline" in described["dags"]
    dag = described["dags"]["mdm_pipeline"]
    # Scheduled on the per-source asset events (alias mdm_sources) or a daily cron.
    assert dag["schedule"].startswith("AssetOrTimeSchedule(")
    assert "AssetAlias(name='mdm_sources'" in dag["schedule"] and "0 3 * * *" in dag["schedule"]
    assert dag["catchup"] is False
    # The runner (pandas, recordlinkage: seconds to import) loads in task processes, not at every parse.
    assert described["runner_imported"] is False


def test_tasks_run_start_then_land_then_stages(described: dict) -> None:
    dag = described["dags"]["mdm_pipeline"]
    partitions = ["match_prepare", "match_compare", "match_train", "match_decide"]
    expected = ["start", "sources", "land", *STAGES, *partitions]
    assert sorted(dag["order"]) == sorted(expected)
    assert dag["order"].index("land") < dag["order"].index("extract")
    assert dag["upstream"]["start"] == [] and dag["upstream"]["sources"] == []
    # The sources land in parallel (one mapped task each) once the run is started.
    assert dag["upstream"]["land"] == ["sources", "start"]
    assert dag["upstream"]["extract"] == ["land", "start"]
    # The match partitions run between standardise and match: prepare, compare (mapped), train, decide (mapped).
    chain = [*STAGES[: STAGES.index("match")], *partitions, *STAGES[STAGES.index("match") :]]
    for before, after in pairwise(chain):
        # Each task follows the previous one and takes the run id from start's XCom (the mapped ones also
        # take the partitions from match_prepare's).
        extra = {"match_prepare"} if after in ("match_compare", "match_decide") else set()
        assert dag["upstream"][after] == sorted({before, "start"} | extra), after
    # No task discards the run on a failure: retries and cleared tasks must find the staging folder. Train and
    # the match stage also run when there was no partition to map (the mapped tasks are then skipped).
    assert all(dag["trigger_rule"][t] == "all_success" for t in expected if t not in ("match_train", "match"))
    assert dag["trigger_rule"]["match_train"] == dag["trigger_rule"]["match"] == "none_failed"


def test_only_publish_updates_the_warehouse_asset(described: dict) -> None:
    outlets = described["dags"]["mdm_pipeline"]["outlets"]
    assert outlets["publish"] == [["mdm_warehouse", "x-mdm://warehouse"]]
    assert all(not assets for task_id, assets in outlets.items() if task_id != "publish")


def test_dags_import_only_the_task_sdk() -> None:
    files = sorted(DAGS.glob("*.py"))
    assert DAG_FILE in files
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                if module == "airflow" or module.startswith("airflow."):
                    assert module == "airflow.sdk" or module.startswith("airflow.sdk."), (
                        f"{path.name}:{node.lineno} imports {module}; DAGs may only use airflow.sdk"
                    )


# -- end to end with `airflow dags test` ---------------------------------------------------------------


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory, airflow_db_template: Path) -> Path:
    """A throwaway AIRFLOW_HOME with a migrated SQLite metadata DB."""
    from tests.dags.conftest import copy_db

    home = tmp_path_factory.mktemp("airflow_e2e")
    copy_db(airflow_db_template, home)
    return home


def _sample(out_dir: Path) -> tuple[Path, Path]:
    """Generate the synthetic sample; return its config path and its warehouse folder."""
    from pipelines.config import load_config
    from pipelines.sample import generate

    generate(out_dir, entities=200, seed=1)
    config = out_dir / "mdm.yaml"
    return config, load_config(config).warehouse


def _dags_test(home: Path, config: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = airflow_env(home) | {"MDM_CONFIG": str(config)}
    return run_airflow(["dags", "test", "mdm_pipeline"], env, cwd=cwd)


def _asset_events(home: Path) -> list[dict]:
    """The extra of every mdm_warehouse asset event recorded in the Airflow metadata DB."""
    con = sqlite3.connect(home / "airflow.db")
    try:
        rows = con.execute(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id "
            "WHERE a.name = 'mdm_warehouse' ORDER BY e.id"
        ).fetchall()
    finally:
        con.close()
    return [json.loads(extra) for (extra,) in rows]


def _table(db: Path, table: str) -> list[tuple]:
    """Every row of a published table without its run id, in a stable order."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] != "run_id"]
        return con.execute(
            f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM {table} ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.airflow
def test_dag_produces_what_mdm_run_produces(airflow_home: Path, tmp_path: Path) -> None:
    """The equivalence test: the DAG (all its tasks, in Airflow) and `mdm run` on the same sources give the
    same xref and golden records."""
    from pipelines import runner
    from tests.conftest import sample_config

    config, warehouse = _sample(tmp_path / "sample")
    events_before = len(_asset_events(airflow_home))

    proc = _dags_test(airflow_home, config, cwd=tmp_path)
    assert proc.returncode == 0, _tail(proc)

    db = warehouse / "mdm.duckdb"
    assert db.is_file(), _tail(proc)
    con = duckdb.connect(str(db), read_only=True)
    try:
        log = con.execute("SELECT run_id, stage, status FROM run_log").fetchall()
    finally:
        con.close()
    run_ids = {run_id for run_id, _, _ in log}
    assert len(run_ids) == 1
    assert sorted(stage for _, stage, _ in log) == sorted(STAGES)
    assert {status for _, _, status in log} == {"success"}
    # publish emitted one asset event naming the run.
    events = _asset_events(airflow_home)[events_before:]
    assert len(events) == 1
    assert events[0]["mdm_run_id"] in run_ids
    assert events[0]["stage"] == "publish"

    cli_config = sample_config(tmp_path / "sample", tmp_path / "cli_warehouse", tmp_path / "cli" / "mdm.yaml")
    runner.run(cli_config)
    for table in ("xref", "golden_organization"):
        dag_rows, cli_rows = _table(db, table), _table(tmp_path / "cli_warehouse" / "mdm.duckdb", table)
        assert len(dag_rows) > 0, table
        assert dag_rows == cli_rows, table


@pytest.mark.airflow
def test_failed_stage_keeps_the_warehouse_and_the_run_resumable(airflow_home: Path, tmp_path: Path) -> None:
    from pipelines.config import load_config

    config, warehouse = _sample(tmp_path / "sample")
    # The first file source cut in half: the config check passes (a regular file), landing it fails.
    source = next(s for s in load_config(config).sources if s.path is not None)
    data = source.path.read_bytes()
    source.path.write_bytes(data[: len(data) // 2])
    events_before = len(_asset_events(airflow_home))

    proc = _dags_test(airflow_home, config, cwd=tmp_path)
    assert proc.returncode != 0, _tail(proc)
    assert "DagRun failed" in proc.stdout + proc.stderr, _tail(proc)
    # The failure callback names the task and says what to do.
    assert "MDM task mdm_pipeline.land" in proc.stdout + proc.stderr, _tail(proc)

    assert not (warehouse / "mdm.duckdb").exists()
    runs = warehouse / ".runs"
    staged = [p for p in runs.iterdir() if p.is_dir()]
    # The run is kept (a fixed source and a cleared task resume it), not discarded on the first failure.
    assert len(staged) == 1 and (staged[0] / "plan.json").is_file(), _tail(proc)
    assert len(_asset_events(airflow_home)) == events_before
