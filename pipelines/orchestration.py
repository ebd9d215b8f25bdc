"""Glue between the Airflow DAGs (``dags/``) and the run API (:mod:`pipelines.runner`).

The DAG files stay thin: each task calls one function here. This module imports only the standard
library at module level, because the DAG processor imports it on every parse; the runner (pandas,
DuckDB, Great Expectations) is imported inside the functions, in the task process.

What the glue adds to the run API:

- the config path comes from the environment variable ``MDM_CONFIG``, read when a task runs;
- :func:`start` is idempotent per Airflow DAG run: a cleared or retried ``start`` task finds the run it
  started before (a small marker file ``<warehouse>/.runs/airflow-<digest>.json``) instead of opening a
  second one, so the downstream tasks keep working on the same staging folder;
- :func:`resolve` picks the run a data-triggered DAG run continues (the one named by the triggering
  asset events) or starts one (cron or manual trigger);
- :func:`new_data` says which sources of a landed run have new data (their asset events);
- :func:`quality_report` is the daily quality task; :func:`on_failure` the failure callback;
- every task function makes the files it creates owner-only (:func:`pipelines.fileperms.owner_only`: each
  Airflow task runs in a process of its own, so the umask the CLI sets does not reach it);
- a SQL source's ``connection: <conn_id>`` is resolved through Airflow (its secrets backend or metadata
  DB, :func:`pipelines.connections.airflow_lookup`) when a task loads the config.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("mdm.airflow")

CONFIG_ENV = "MDM_CONFIG"
POOL = "mdm_warehouse"  # one slot: every task that writes the warehouse or a staging database
SOURCE_ASSET_PREFIX = "mdm_source_"


def config_path() -> str:
    """The pipeline config path from ``MDM_CONFIG`` (read in the task process, never at parse time)."""
    path = os.environ.get(CONFIG_ENV)
    if not path:
        raise RuntimeError(
            f"environment variable {CONFIG_ENV} is not set: point it at the pipeline YAML config "
            "(in the environment of the Airflow workers)"
        )
    return path


def load(check_files: bool = True) -> Any:
    """The validated pipeline config, its SQL sources' Airflow connections resolved to URLs.

    Also makes every file this task process creates from now on owner-only (customer data)."""
    from pipelines.config import load_config
    from pipelines.connections import airflow_lookup, resolving
    from pipelines.fileperms import owner_only

    owner_only()
    with resolving(airflow_lookup):
        return load_config(config_path(), check_files=check_files)


def source_asset_name(source: str) -> str:
    return f"{SOURCE_ASSET_PREFIX}{source}"


def _marker(warehouse: Path, key: str) -> Path:
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return warehouse / ".runs" / f"airflow-{digest}.json"


def start(key: str, full: bool = False) -> str:
    """Start a run for the Airflow DAG run ``key`` (``<dag_id>/<run_id>``), or return the one it started.

    A started run whose staging folder is gone (published or abandoned) is returned as well: the stages
    then return their recorded results (published) or fail clearly (abandoned: trigger a new DAG run)."""
    from pipelines import runner

    cfg = load()
    marker = _marker(cfg.warehouse, key)
    if marker.is_file():
        run_id = json.loads(marker.read_text(encoding="utf-8"))["mdm_run_id"]
        log.info("Airflow run %s already started MDM run %s; continuing it", key, run_id)
        return str(run_id)
    run_id = runner.start_run(cfg, full=full)
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps({"airflow_run": key, "mdm_run_id": run_id}), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(marker)
    log.info("started MDM run %s (full=%s) for Airflow run %s", run_id, full, key)
    return run_id


def _staged(warehouse: Path, run_id: str) -> bool:
    return (warehouse / ".runs" / run_id / "plan.json").is_file()


def _current(warehouse: Path, run_id: str) -> bool:
    """Whether a staged run can still publish: it started from the run that is published now."""
    from pipelines.warehouse import Warehouse

    plan = json.loads((warehouse / ".runs" / run_id / "plan.json").read_text(encoding="utf-8"))
    return bool(plan.get("base_run") == Warehouse(warehouse).latest_run())


def resolve(key: str, events: Iterable[Mapping[str, Any]], full: bool = False) -> str:
    """The run a match-merge-publish DAG run works on: the newest run named by the triggering asset
    events that is still staged and still starts from the published state, else a run of its own (cron,
    manual trigger, or another run published since the sources landed). Idempotent like :func:`start`."""
    cfg = load()
    marker = _marker(cfg.warehouse, key)
    if marker.is_file():
        return start(key, full)
    named = sorted({str(e["mdm_run_id"]) for e in events if e.get("mdm_run_id")}, reverse=True)
    for run_id in named:  # run ids sort in start order
        if _staged(cfg.warehouse, run_id) and _current(cfg.warehouse, run_id) and not full:
            tmp = marker.with_suffix(".tmp")
            tmp.write_text(json.dumps({"airflow_run": key, "mdm_run_id": run_id}), encoding="utf-8")
            tmp.chmod(0o600)
            tmp.replace(marker)
            log.info("continuing MDM run %s landed by the triggering source events", run_id)
            return run_id
    if named:
        log.info(
            "runs %s named by the triggering events are gone or a full run was asked; starting a new run",
            ", ".join(named),
        )
    return start(key, full)


def sources(selected: Iterable[str] | None) -> list[str]:
    """The configured sources to land in parallel: all, or the selected ones (unknown names fail)."""
    names = [s.name for s in load().sources]
    chosen = [str(s) for s in (selected or [])]
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        raise ValueError(f"unknown source(s) {', '.join(unknown)} in the DAG params; the config has {', '.join(names)}")
    return [n for n in names if n in chosen] if chosen else names


def land(run_id: str, source: str) -> dict[str, Any]:
    from pipelines import runner

    return runner.land_source(load(), run_id, source)


def stage(run_id: str, name: str) -> dict[str, Any]:
    from pipelines import runner

    return runner.run_stage(load(), run_id, name)


def match_prepare(run_id: str) -> list[int]:
    """The match partitions of the run, their inputs written (pipelines/match_tasks.py)."""
    from pipelines import match_tasks

    return match_tasks.match_prepare(load(), run_id)


def match_partition(run_id: str, part: int, step: str) -> int:
    """Compare or decide one match partition (no database: runs on any worker sharing the staging folder)."""
    from pipelines import match_tasks

    if step not in ("compare", "decide"):
        raise ValueError(f"unknown match step {step!r}")
    return match_tasks.match_partition(load(), run_id, part, step)  # type: ignore[arg-type]  # checked above


def match_train(run_id: str) -> None:
    """Train the matching model on the labelled pairs of every partition (no database)."""
    from pipelines import match_tasks

    match_tasks.match_train(load(), run_id)


def new_data(run_id: str, landed: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The sources of a landed run with new data (read in full or by change-data capture, not reused
    unchanged), each with what its asset event carries. When no source has new data the run is
    abandoned (its staging discarded): nothing downstream needs it."""
    from pipelines import runner
    from pipelines.plan import read_plan

    cfg = load()
    folder = cfg.warehouse / ".runs" / run_id
    if not _staged(cfg.warehouse, run_id):
        return []  # already published or abandoned by an earlier try of this task
    plan = read_plan(folder)
    rows = {str(d.get("source")): d.get("rows") for d in landed if isinstance(d, Mapping)}
    fresh = [
        {"source": s.name, "mdm_run_id": run_id, "mode": s.mode, "rows": rows.get(s.name), "reason": s.reason}
        for s in plan.sources
        if s.mode != "reuse"
    ]
    if not fresh:
        runner.abort_run(cfg, run_id, reason="no source has new data; nothing to match")
        log.info("run %s: every source is unchanged since its last load; staging discarded", run_id)
    return fresh


def quality_report(out: Path | None = None) -> dict[str, Any]:
    """The daily quality task: the scorecard of the latest run (as ``mdm quality``), and the HTML report
    when :mod:`pipelines.report` is available (``<warehouse>/reports/report.html`` by default)."""
    import importlib

    from pipelines.quality import scorecard

    cfg = load(check_files=False)
    card = scorecard(cfg)
    if card.run_id is None:
        raise RuntimeError(f"no published run in {cfg.warehouse}: nothing to score")
    m = card.metrics
    summary: dict[str, Any] = {
        "run_id": card.run_id,
        "previous_run_id": card.previous_run_id,
        "sources": {str(s): int(g["rows"].iloc[0]) for s, g in m.groupby("source", sort=True)} if len(m) else {},
        "min_completeness": float(m["completeness"].min()) if len(m) else None,
        "quarantined_rows": int(card.quarantine["rows"].sum()) if len(card.quarantine) else 0,
        "failed_validations": int((~card.validations["success"].astype(bool)).sum()) if len(card.validations) else 0,
        "data_docs": str(card.docs) if card.docs else None,
        "report": None,
    }
    try:
        report = importlib.import_module("pipelines.report")
    except ImportError:
        report = None
    if report is not None and hasattr(report, "build_report"):
        from pipelines.warehouse import Warehouse

        wh = Warehouse(cfg.warehouse)
        summary["report"] = str(report.build_report(wh.db_path, out or wh.root / "reports"))
    log.info("quality of run %s: %s", card.run_id, json.dumps(summary, default=str))
    return summary


def on_failure(context: Mapping[str, Any]) -> None:
    """Failure callback: one clear log line naming the DAG, task, try, MDM run and the error, and what to do."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    task_id = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    where = f"{getattr(ti, 'dag_id', '?')}.{task_id}" + (f"[{map_index}]" if map_index not in (-1, None) else "")
    error = context.get("exception")
    log.error(
        "MDM task %s failed in DAG run %s (try %s): %s: %s. The published warehouse is unchanged and the run's "
        "staging folder is kept: fix the cause and clear the task to resume; a run that is never resumed is "
        "discarded when a later run publishes.",
        where,
        getattr(dag_run, "run_id", "?"),
        getattr(ti, "try_number", "?"),
        type(error).__name__ if error else "error",
        error,
    )


def default_args() -> dict[str, Any]:
    """Task defaults of every MDM DAG: retries with exponential backoff, a timeout, the failure callback."""
    from datetime import timedelta

    return {
        "owner": "mdm",
        "retries": 2,
        "retry_delay": timedelta(seconds=20),
        "retry_exponential_backoff": 2.0,  # 20 s, 40 s, ... capped below
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(hours=2),
        "on_failure_callback": on_failure,
    }
