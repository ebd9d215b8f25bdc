"""Airflow 3 DAG that runs the MDM pipeline one stage per task.

Thin wiring around :mod:`pipelines.runner`, the same runner ``mdm run`` uses: ``start`` validates
the config and opens a run (its run id goes to XCom), then one task per stage in
:data:`pipelines.stages.STAGES` order, each a separate task that resumes the run from its staging
folder. ``publish`` updates the ``mdm_warehouse`` asset, so downstream DAGs can be scheduled on
``Asset.ref(name="mdm_warehouse")``; the asset event's ``extra`` carries the pipeline run id
(``mdm_run_id``) and the publish stage's counts.

If ``start`` or any stage fails, ``cleanup`` discards the run's staging folder (the published
warehouse is untouched until ``publish`` succeeds) and then fails itself, so the DAG run ends
``failed`` rather than being marked successful by its last task.

The config path is read from the environment variable ``MDM_CONFIG`` when tasks run, never at
parse time. ``schedule=None``: runs are triggered manually or by the API; give the DAG a cron
(e.g. ``"0 2 * * *"``) or an upstream asset when the sources land on a known cadence.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from airflow.sdk import Asset, TriggerRule, chain, dag, task

from pipelines.stages import STAGES  # light module: the runner itself is imported in the tasks only

# Logical identity of the published warehouse; the x- scheme tells Airflow not to interpret the URI.
MDM_WAREHOUSE = Asset(name="mdm_warehouse", uri="x-mdm://warehouse")


def _runner() -> ModuleType:
    """The pipeline runner, imported in the task process only."""
    from pipelines import runner

    return runner


def _config_path() -> str:
    """The pipeline config path from MDM_CONFIG, read in the task process at run time."""
    path = os.environ.get("MDM_CONFIG")
    if not path:
        raise RuntimeError("environment variable MDM_CONFIG is not set: point it at the pipeline YAML config")
    return path


@dag(
    dag_id="mdm_pipeline",
    schedule=None,
    catchup=False,
    max_active_runs=1,  # runs publish to the same warehouse
    default_args={"retries": 0},
    tags=["mdm"],
    doc_md=__doc__,
)
def mdm_pipeline() -> None:
    """Wire start -> extract -> ... -> publish, with cleanup on any failure."""

    @task
    def start() -> str:
        """Validate the config and open a run; the run id is this task's XCom."""
        return _runner().start_run(_config_path())

    @task
    def stage(mdm_run_id: str, name: str, outlet_events: Any = None) -> dict[str, Any]:
        """Run one pipeline stage of the run; its counts are the XCom (outlet_events: injected by Airflow)."""
        result = _runner().run_stage(_config_path(), mdm_run_id, name)
        if name == "publish":
            outlet_events[MDM_WAREHOUSE].extra = {"mdm_run_id": mdm_run_id, **result}
        return result

    @task(trigger_rule=TriggerRule.ONE_FAILED)
    def cleanup(mdm_run_id: str | None, run_id: str | None = None) -> None:
        """Discard the failed run's staging folder, then fail so the DAG run is marked failed.

        ``run_id`` is the Airflow DAG run id, injected from the task context.
        """
        if mdm_run_id is not None:  # None: start failed before a run existed
            _runner().abort_run(_config_path(), mdm_run_id, reason=f"Airflow DAG run {run_id} of mdm_pipeline failed")
        raise RuntimeError(f"MDM pipeline run {mdm_run_id} failed; staging discarded (see the failed task's log)")

    # The pipeline's run id travels as mdm_run_id: Airflow reserves run_id for the DAG run id.
    mdm_run_id = start()
    stages = [
        stage.override(task_id=name, outlets=[MDM_WAREHOUSE] if name == "publish" else [])(mdm_run_id, name)
        for name in STAGES
    ]
    chain(mdm_run_id, *stages, cleanup(mdm_run_id))


mdm_pipeline()
