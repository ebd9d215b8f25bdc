"""The match stage as separate tasks, for running its partitions on other workers (docs/scale-out.md).

``mdm run`` does all of this inside the match stage. An Airflow DAG can instead map the partitions over
its workers (dynamic task mapping), all sharing the run's staging folder:

1. :func:`match_prepare` (a warehouse task, in the pool of one writer): blocking and the pairs to compare,
   written as partition inputs; returns the partition numbers to map over;
2. :func:`match_partition` with step ``compare`` for every partition (no database);
3. :func:`match_train` (no database): the model from the labelled pairs of all partitions;
4. :func:`match_partition` with step ``decide`` for every partition (no database);
5. the match stage itself (``runner.run_stage(..., "match")``) finds the partitions done and loads them.

Every step is idempotent and may be retried or cleared: a partition rewrites its output from its inputs,
and the stage computes whatever a task did not (so skipping the tasks altogether is also correct). Once
the match stage has completed, every step does nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipelines.config import Config, load_config
from pipelines.plan import PLAN_FILE, read_plan
from pipelines.run_records import WORK_DB, completed
from pipelines.stages.base import RunError, StageContext
from pipelines.stages.match import WORK, prepare
from pipelines.stages.match_partition import Step, read_manifest, run_partition, train
from pipelines.warehouse import Warehouse


def _state(config: Config | str | Path, run_id: str) -> tuple[Config, Path, dict[str, dict[str, Any]]]:
    cfg = config if isinstance(config, Config) else load_config(config)
    folder = Warehouse(cfg.warehouse).staging(run_id)
    if not (folder / PLAN_FILE).is_file():
        return cfg, folder, {"match": {}}  # published (or abandoned): nothing left to do here
    con = duckdb.connect(str(folder / WORK_DB), read_only=True)
    try:
        return cfg, folder, completed(con, run_id)
    finally:
        con.close()


def match_prepare(config: Config | str | Path, run_id: str) -> list[int]:
    """Write the partition inputs of the run's match (unless they are there); returns the partitions."""
    cfg, folder, done = _state(config, run_id)
    if "match" in done:
        return []
    if "standardise" not in done:
        raise RunError(f"run {run_id}: the match partitions need the standardise stage first")
    manifest = read_manifest(folder / WORK)
    if manifest is None or manifest.get("run_id") != run_id:
        observed: dict[str, Any] = {}
        for r in done.values():
            observed.update(r["observed"])
        con = duckdb.connect(str(folder / WORK_DB), config=cfg.performance.duckdb_config(folder / "spill"))
        try:
            con.begin()  # only temp tables: rolled back, the staging database stays as it was
            try:
                manifest = prepare(con, StageContext(cfg, read_plan(folder), folder, observed))
            finally:
                con.rollback()
        finally:
            con.close()
    return list(range(manifest["parts"]))


def match_partition(config: Config | str | Path, run_id: str, part: int, step: Step) -> int:
    """Compare or decide one partition (no database); returns its pairs (0 when there is nothing to do)."""
    _, folder, done = _state(config, run_id)
    if "match" in done or read_manifest(folder / WORK) is None:
        return 0
    return run_partition(folder / WORK, part, step)


def match_train(config: Config | str | Path, run_id: str) -> None:
    """Train the model on every partition's labelled pairs (a full run's; an incremental run has one)."""
    _, folder, done = _state(config, run_id)
    manifest = read_manifest(folder / WORK)
    if "match" in done or manifest is None or manifest["incremental"]:
        return
    train(folder / WORK)
