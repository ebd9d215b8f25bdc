"""What a run leaves behind: the record of its completed stages, and discarding a run that is abandoned.

A stage's completion is recorded in the staging database (``run_stage``) in the same transaction as its
work, and in the published ``run_log`` once the run has published; :func:`completed` reads both. A run
that is finally abandoned is discarded (:func:`discard`): its staging folder goes, a short failure report
and the Data Docs of a failed validation stay next to it, and the audit log says so. :func:`sweep_abandoned`
finds the runs that can never publish.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from typing import Any

import duckdb

from pipelines import audit
from pipelines.plan import PLAN_FILE, now
from pipelines.warehouse import Warehouse

log = logging.getLogger(__name__)

WORK_DB = "work.duckdb"  # the run's private copy of the published database, in its staging folder
# A staging folder without a plan older than this never finished starting.
STALE_START_SECONDS = 3600


def completed(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, dict[str, Any]]:
    """The run's completed stages: result dicts with their observations, in stage order."""
    done: dict[str, dict[str, Any]] = {}
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "run_stage" in names:
        for stage, s, f, i, o, st, d, obs in con.execute(
            "SELECT stage, started_at, finished_at, rows_in, rows_out, status, detail, observed "
            "FROM run_stage ORDER BY seq"
        ).fetchall():
            done[stage] = {
                "stage": stage,
                "rows_in": i,
                "rows_out": o,
                "status": st,
                "started_at": s,
                "finished_at": f,
                "detail": json.loads(d or "{}"),
                "observed": json.loads(obs or "{}"),
            }
    if "run_log" in names:  # after publish committed, the run log holds every stage
        for stage, s, f, i, o, st, d in con.execute(
            "SELECT stage, started_at, finished_at, rows_in, rows_out, status, detail FROM run_log "
            "WHERE run_id = $r ORDER BY started_at",
            {"r": run_id},
        ).fetchall():
            done.setdefault(
                stage,
                {
                    "stage": stage,
                    "rows_in": i,
                    "rows_out": o,
                    "status": st,
                    "started_at": str(s).replace(" ", "T"),
                    "finished_at": str(f).replace(" ", "T"),
                    "detail": json.loads(d or "{}"),
                    "observed": {},
                },
            )
    return done


def public_result(result: dict[str, Any], seconds: float) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "observed"} | {"seconds": round(seconds, 3)}


def discard(wh: Warehouse, run_id: str, reason: str | None) -> None:
    folder = wh.staging(run_id)
    if not folder.exists():
        return
    report: dict[str, Any] = {"run_id": run_id, "failed_at": now(), "reason": reason, "results": []}
    if (folder / WORK_DB).exists():
        try:
            con = duckdb.connect(str(folder / WORK_DB), read_only=True)
            try:
                report["results"] = [public_result(r, 0) for r in completed(con, run_id).values()]
            finally:
                con.close()
        except (duckdb.Error, ValueError):
            pass
    try:
        audit.record_at(wh.root, audit.os_actor(), audit.RUN_ABORT, run_id, {"reason": (reason or "")[:2000]})
    except Exception:
        log.warning("run %s discarded, but its audit entry could not be written", run_id, exc_info=True)
    report_path = wh.runs_dir / f"{run_id}.failed.json"
    report_path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    report_path.chmod(0o600)
    docs = folder / "docs"
    if (docs / "index.html").exists():  # Data Docs of the failed validation, for the engineer to read
        shutil.move(str(docs), str(wh.runs_dir / f"{run_id}.docs"))
    shutil.rmtree(folder, ignore_errors=True)


def sweep_abandoned(wh: Warehouse) -> list[str]:
    """Discard the staging of runs that can never publish: started from a state that is no longer the
    published one (another run published since), or never finished starting an hour ago. Returns their ids."""
    if not wh.runs_dir.is_dir():
        return []
    latest = wh.latest_run()
    swept = []
    for folder in sorted(p for p in wh.runs_dir.iterdir() if p.is_dir() and not p.name.endswith(".docs")):
        plan_file = folder / PLAN_FILE
        if plan_file.is_file():
            try:
                base = json.loads(plan_file.read_text(encoding="utf-8")).get("base_run")
            except ValueError:
                base = "(unreadable plan)"
            if base == latest:
                continue
            reason = f"abandoned: started from {base or 'an empty warehouse'}, but run {latest} published since"
        elif time.time() - folder.stat().st_mtime > STALE_START_SECONDS:
            reason = "abandoned: the run never finished starting"
        else:
            continue
        discard(wh, folder.name, reason)
        swept.append(folder.name)
    return swept
