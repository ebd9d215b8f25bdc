"""MDM sources: land and validate every source, and announce the ones with new data.

**When it runs.** Every day at 01:00 UTC, or when triggered (e.g. by the job that delivers a register file).

**What it does.** `start` opens an MDM run (the plan decides per source: read, reuse the unchanged last
landing, or read the rows changed since the last load). The sources land in parallel (`land`, one mapped
task per configured source: Parquet in the run's staging folder, no database), then `extract` and
`validate` (Great Expectations over every source; one task, it writes the staging database) run through
the pool `mdm_warehouse`. `announce` then emits one asset event per source with new data,
`mdm_source_<name>` (through the alias `mdm_sources`, so a new source needs no DAG change), carrying the
MDM run id: `mdm_pipeline` is scheduled on them and matches, merges and publishes that run. When no
source has new data the run is discarded and nothing is announced.

**Params.** `full`: read every source in full. `sources`: the sources landed by parallel tasks (default:
all; `extract` lands the others).

**Config.** The YAML config path is the environment variable `MDM_CONFIG` of the workers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Asset, AssetAlias, Param, dag, task

from pipelines import orchestration as mdm  # light: the runner is imported inside the tasks only

MDM_SOURCES = AssetAlias(name="mdm_sources")


@dag(
    dag_id="mdm_land_sources",
    schedule="0 1 * * *",
    catchup=False,
    max_active_runs=1,  # runs write the same warehouse folder
    default_args=mdm.default_args(),
    params={
        "full": Param(False, type="boolean", description="Read every source in full"),
        "sources": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Sources to land in parallel tasks (empty: all configured sources)",
        ),
    },
    tags=["mdm", "sources"],
    doc_md=__doc__,
)
def mdm_land_sources() -> None:
    @task(pool=mdm.POOL)
    def start(params: Any = None, dag_run: Any = None) -> str:
        """Open the MDM run (or find the one this DAG run opened); its id is the XCom."""
        return mdm.start(f"{dag_run.dag_id}/{dag_run.run_id}", full=bool(params["full"]))

    @task
    def sources(params: Any = None) -> list[str]:
        return mdm.sources(params["sources"])

    @task(max_active_tis_per_dagrun=4, execution_timeout=timedelta(hours=1))
    def land(mdm_run_id: str, source: str) -> dict[str, Any]:
        """Land one source (Parquet in the staging folder; no database, so in parallel)."""
        return mdm.land(mdm_run_id, source)

    @task(pool=mdm.POOL)
    def stage(mdm_run_id: str, name: str) -> dict[str, Any]:
        return mdm.stage(mdm_run_id, name)

    @task(pool=mdm.POOL, outlets=[MDM_SOURCES])
    def announce(mdm_run_id: str, landed: Any, outlet_events: Any = None) -> list[str]:
        """One asset event per source with new data (extra: the MDM run id, mode, rows)."""
        fresh = mdm.new_data(mdm_run_id, list(landed))
        for extra in fresh:
            name = mdm.source_asset_name(extra["source"])
            outlet_events[MDM_SOURCES].add(Asset(name=name, uri=f"x-mdm://source/{extra['source']}"), extra=extra)
        return [extra["source"] for extra in fresh]

    mdm_run_id = start()
    landed = land.partial(mdm_run_id=mdm_run_id).expand(source=sources())
    extract = stage.override(task_id="extract")(mdm_run_id, "extract")
    validate = stage.override(task_id="validate")(mdm_run_id, "validate")
    landed >> extract >> validate >> announce(mdm_run_id, landed)


mdm_land_sources()
