"""The one coordinator that both ``mdm run`` and the Airflow DAGs call.

A run is a plan (:mod:`pipelines.plan`, decided once at :func:`start_run`) and a sequence of stages
(:data:`pipelines.stages.STAGES`, one module each). Each stage works in the run's private staging
folder ``<warehouse>/.runs/<run_id>/`` (a copy of the published DuckDB file, ``work.duckdb``, plus
Parquet landings), so the stages can run in one process (``mdm run``) or as separate Airflow tasks.

A stage runs inside one DuckDB transaction together with the record of its completion (table
``run_stage``): it is either done, with its result and what it observed, or it left no trace. So a
failed or killed stage can simply run again, and running a completed stage again (a cleared Airflow
task) returns its recorded result without doing anything, before and after publish. Only ``publish``
touches the published warehouse, atomically; a run that fails anywhere leaves the warehouse as it was.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from pipelines import audit, catalog
from pipelines.config import Config, load_config
from pipelines.errors import MdmError
from pipelines.fileperms import owner_only
from pipelines.parallel import warm_up
from pipelines.plan import PLAN_FILE, RunPlan, make_plan, now, read_plan, write_plan
from pipelines.run_records import WORK_DB, completed, discard, public_result, sweep_abandoned
from pipelines.stages import APPLY_STAGES, STAGES, import_ahead, stage_function
from pipelines.stages.base import Progress, RunError, StageContext, StageResult, snapshot_decisions
from pipelines.warehouse import Warehouse, run_sql

__all__ = [
    "STAGES",
    "MdmError",
    "RunError",
    "RunSummary",
    "StageResult",
    "abort_run",
    "apply_decisions",
    "land_source",
    "load_config",
    "plan_run",
    "run",
    "run_stage",
    "start_run",
    "summarise",
    "sweep_abandoned",
]

log = logging.getLogger(__name__)
# A staging folder with no plan (its start never completed) is left alone for this long before it is swept.


@dataclass
class RunSummary:
    run_id: str
    warehouse: Path
    stages: list[StageResult]
    records_per_source: dict[str, int]
    golden_records: int
    matched_pairs: int
    warnings: int
    quarantined: int = 0

    @property
    def ok(self) -> bool:
        return all(s.status == "success" for s in self.stages)


def _resolve(config: Config | str | Path) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def _new_run_id() -> str:
    # Sorts in start order (microseconds), unique (random suffix).
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + os.urandom(3).hex()


def plan_run(config: Config | str | Path, full: bool = False) -> RunPlan:
    """What a run started now would do (``mdm run --plan-only``); nothing is written."""
    return make_plan(_resolve(config), run_id="(not started)", full=full)


def start_run(
    config: Config | str | Path,
    full: bool = False,
    mode: Literal["run", "apply"] = "run",
    meanwhile: Callable[[RunPlan, Path], None] | None = None,
) -> str:
    """Validate the config, sweep abandoned staging, plan the run and create its staging folder (a copy
    of the published database with the plan); return the new run id.

    ``meanwhile(plan, folder)`` runs while the published database is copied (a thread copies it: the copy
    is the kernel's work, about 10 s for a 4.4 GiB database at 1M entities), for work that needs the plan
    but no database, such as landing the sources (``mdm run``). If it raises, the run is not started."""
    owner_only()  # every file and folder of the run is owner-only (customer data)
    cfg = _resolve(config)
    wh = Warehouse(cfg.warehouse)
    wh.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    sweep_abandoned(wh)
    run_id = _new_run_id()
    folder = wh.staging(run_id)
    folder.mkdir(parents=True, mode=0o700)
    try:
        plan = make_plan(cfg, run_id, full=full, mode=mode, decisions=snapshot_decisions(cfg, folder))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        _copy_published(wh, folder / WORK_DB, plan, folder, meanwhile)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    con = duckdb.connect(str(folder / WORK_DB))
    try:
        run_sql(con, "schema/tables")
        run_sql(con, "staging/run_stage")
    finally:
        con.close()
    write_plan(plan, folder)  # last: a folder with a plan is a started run
    try:
        audit.record_at(
            cfg.warehouse,
            audit.os_actor(),
            audit.RUN_START,
            run_id,
            {"mode": mode, "full": plan.full, "base_run": plan.base_run},
        )
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)  # no unaudited run
        raise
    return run_id


def _copy_published(
    wh: Warehouse, dest: Path, plan: RunPlan, folder: Path, meanwhile: Callable[[RunPlan, Path], None] | None
) -> None:
    """Copy the published database (if any) to ``dest``, running ``meanwhile`` at the same time."""
    if not wh.exists():
        if meanwhile is not None:
            meanwhile(plan, folder)
        return
    if meanwhile is None:
        shutil.copy2(wh.db_path, dest)
        return
    failed: list[BaseException] = []

    def copy() -> None:
        try:
            shutil.copy2(wh.db_path, dest)
        except BaseException as e:  # re-raised in the caller's thread
            failed.append(e)

    copier = threading.Thread(target=copy, name="mdm-copy-published", daemon=True)
    copier.start()
    try:
        meanwhile(plan, folder)
    finally:
        copier.join()
    if failed:
        raise failed[0]


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Tables, views and table macros by name; those of a schema other than main (or temp) as schema.name."""
    tables = {
        t if s in ("main", "temp") else f"{s}.{t}"
        for s, t in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    }
    macros = {
        r[0]
        for r in con.execute(
            "SELECT function_name FROM duckdb_functions() WHERE function_type = 'table_macro' AND NOT internal"
        ).fetchall()
    }
    return tables | macros


def _published_result(wh: Warehouse, run_id: str, stage: str) -> dict[str, Any] | None:
    """The recorded result of a stage of a run that has been published, or None."""
    if not wh.exists():
        return None
    con = wh.connect(read_only=True)
    try:
        done = completed(con, run_id)
        return done.get(stage) if "publish" in done else None
    finally:
        con.close()


def run_stage(config: Config | str | Path, run_id: str, stage: str, progress: Progress | None = None) -> dict[str, Any]:
    """Run one stage of a started run; returns its result as a JSON-serialisable dict.

    A stage that already completed is not run again: its recorded result is returned (also after the run
    was published and its staging folder is gone)."""
    if stage not in STAGES and stage not in APPLY_STAGES:
        raise RunError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    t0 = time.perf_counter()
    cfg = _resolve(config)
    wh = Warehouse(cfg.warehouse)
    folder = wh.staging(run_id)
    if not (folder / PLAN_FILE).is_file():
        recorded = _published_result(wh, run_id, stage)
        if recorded is not None:
            return public_result(recorded, time.perf_counter() - t0)
        raise RunError(f"run {run_id}: no staging folder at {folder} (never started, or abandoned)")
    plan = read_plan(folder)
    con: duckdb.DuckDBPyConnection | None
    con = duckdb.connect(str(folder / WORK_DB), config=cfg.performance.duckdb_config(folder / "spill"))
    try:
        done = completed(con, run_id)
        observed: dict[str, Any] = {}
        for r in done.values():
            observed.update(r["observed"])
        ctx = StageContext(cfg, plan, folder, observed, progress)
        if stage in done:
            if stage == "publish":  # committed; the swap may not have happened yet
                con.close()
                con = None
                _publish_finish(ctx)
            return public_result(done[stage], time.perf_counter() - t0)
        if stage not in plan.stages:
            raise RunError(
                f"run {run_id} is a{'n' if plan.mode == 'apply' else ''} {plan.mode} run: its stages are "
                f"{', '.join(plan.stages)}"
            )
        expected = next(s for s in plan.stages if s not in done)
        if stage != expected:
            raise RunError(f"run {run_id}: stage {stage!r} cannot run now; next stage is {expected!r}")
        result = _run_in_transaction(con, stage, ctx, len(done))
    finally:
        if con is not None:
            con.close()
    if stage == "publish":
        _publish_finish(ctx)
    return public_result(result.as_dict(), time.perf_counter() - t0)


def land_source(config: Config | str | Path, run_id: str, source: str) -> dict[str, Any]:
    """Land one source of a started run (its Parquet landing in the staging folder; no database is
    touched, so sources land in parallel). The extract stage then loads every landing, landing itself
    the sources no task landed. Idempotent; after extract completed it returns without doing anything."""
    cfg = _resolve(config)
    if source not in {s.name for s in cfg.sources}:
        raise RunError(f"unknown source {source!r}; sources are {', '.join(s.name for s in cfg.sources)}")
    folder = Warehouse(cfg.warehouse).staging(run_id)
    if not (folder / PLAN_FILE).is_file():
        if _published_result(Warehouse(cfg.warehouse), run_id, "extract") is not None:
            return {"source": source, "status": "published"}
        raise RunError(f"run {run_id}: no staging folder at {folder} (never started, or abandoned)")
    con = duckdb.connect(str(folder / WORK_DB), read_only=True)
    try:
        done = "extract" in completed(con, run_id)
    finally:
        con.close()
    if done:
        return {"source": source, "status": "already loaded"}
    from pipelines.stages.extract import land_source as land

    return land(StageContext(cfg, read_plan(folder), folder, {}), source) | {"status": "landed"}


def _run_in_transaction(con: duckdb.DuckDBPyConnection, stage: str, ctx: StageContext, seq: int) -> StageResult:
    """Run a stage and record it, both in one transaction: all or nothing."""
    started = now()
    con.begin()
    try:
        before = _relations(con)
        result: StageResult = stage_function(stage)(con, ctx)
        problems = catalog.check_stage(stage, before, _relations(con))
        if problems:
            raise RunError(f"stage {stage} broke the table catalog: " + "; ".join(problems))
        if stage != "publish":  # publish wrote the run log itself and dropped run_stage
            result.started_at, result.finished_at = started, now()
            con.execute(
                "INSERT INTO run_stage VALUES ($seq, $stage, $s, $f, $i, $o, $st, $d, $obs)",
                {
                    "seq": seq,
                    "stage": stage,
                    "s": result.started_at,
                    "f": result.finished_at,
                    "i": result.rows_in,
                    "o": result.rows_out,
                    "st": result.status,
                    "d": json.dumps(result.detail, sort_keys=True),
                    "obs": json.dumps(ctx.notes, sort_keys=True),
                },
            )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return result


def _publish_finish(ctx: StageContext) -> None:
    from pipelines.stages.publish import finish

    finish(ctx)
    try:
        audit.record_at(ctx.config.warehouse, audit.os_actor(), audit.RUN_PUBLISH, ctx.run_id, {"mode": ctx.plan.mode})
    except Exception:  # the data is published; a missing audit entry must not turn the run red
        log.warning("run %s published, but its audit entry could not be written", ctx.run_id, exc_info=True)


def abort_run(config: Config | str | Path, run_id: str, reason: str | None = None) -> None:
    """Discard the staging folder of a run that is finally abandoned; the published warehouse is untouched.

    A short failure report is kept at ``<warehouse>/.runs/<run_id>.failed.json``, and the Data Docs of a
    failed validation at ``<warehouse>/.runs/<run_id>.docs/``."""
    wh = Warehouse(_resolve(config).warehouse)
    discard(wh, run_id, reason)


def run(
    config: Config | str | Path,
    progress: Progress | None = None,
    on_stage: Callable[[dict[str, Any]], None] | None = None,
    full: bool = False,
) -> RunSummary:
    """Run every stage in one process; on any failure discard the run (final for ``mdm run``) and re-raise."""
    return _run_all(_resolve(config), "run", progress, on_stage, full)


def apply_decisions(
    config: Config | str | Path,
    progress: Progress | None = None,
    on_stage: Callable[[dict[str, Any]], None] | None = None,
) -> RunSummary:
    """Apply the steward decisions of now to the published records and scored pairs: cluster, survive and
    publish again without extracting or matching (``mdm review apply``; seconds, not a full run)."""
    return _run_all(_resolve(config), "apply", progress, on_stage, False)


def _run_all(
    cfg: Config,
    mode: Literal["run", "apply"],
    progress: Progress | None,
    on_stage: Callable[[dict[str, Any]], None] | None,
    full: bool,
) -> RunSummary:
    owner_only()  # before the forkserver starts: its workers inherit the umask
    warm_up()  # the workers' forkserver imports its modules while the run starts
    import_ahead(APPLY_STAGES if mode == "apply" else STAGES)  # and so does a thread of this process
    # An mdm run lands its sources while the published database is copied (nothing else needs the database).
    run_id = start_run(cfg, full=full, mode=mode, meanwhile=_land_ahead(cfg, progress) if mode == "run" else None)
    results = []
    try:
        for stage in APPLY_STAGES if mode == "apply" else STAGES:
            if progress:
                progress(stage, 0, None)
            res = run_stage(cfg, run_id, stage, progress)
            results.append(res)
            if on_stage:
                on_stage(res)
    except BaseException as e:
        abort_run(cfg, run_id, reason=f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}")
        raise
    return summarise(cfg, run_id, results)


def _land_ahead(cfg: Config, progress: Progress | None) -> Callable[[RunPlan, Path], None]:
    """Land every source of a run about to start (see :func:`pipelines.stages.extract.land_ahead`)."""

    def land(plan: RunPlan, folder: Path) -> None:
        from pipelines.stages.extract import land_ahead

        land_ahead(StageContext(cfg, plan, folder, {}, progress))

    return land


def summarise(cfg: Config, run_id: str, results: list[dict[str, Any]]) -> RunSummary:
    by_stage = {r["stage"]: r for r in results}
    validated = by_stage.get("validate", {}).get("detail", {})
    matched = by_stage["match"]["rows_out"] if "match" in by_stage else by_stage["reuse"]["detail"]["matched_pairs"]
    return RunSummary(
        run_id=run_id,
        warehouse=cfg.warehouse,
        stages=[StageResult.from_dict(r) for r in results],
        records_per_source=validated.get("records_per_source", {}),
        golden_records=by_stage["cluster"]["rows_out"],
        matched_pairs=matched,
        warnings=validated.get("warnings", 0),
        quarantined=validated.get("quarantined", 0),
    )
