"""MDM match-merge-publish: one MDM run from landing to the published warehouse.

**When it runs.** When any source has new data (the `mdm_land_sources` DAG lands and validates the
sources and emits an asset event `mdm_source_<name>` per changed source through the alias `mdm_sources`),
and every day at 03:00 UTC (a reconciliation run that lands every source itself), or when triggered.

**What it does.** `start` picks the MDM run: the one the triggering source events name (already landed
and validated: its `land`, `extract` and `validate` tasks return at once), otherwise a new run. Then
the sources land in parallel (`land`, one mapped task per source: Parquet only, no database), and the
stages `extract` -> `validate` -> `standardise` -> `match` -> `cluster` -> `survive` -> `publish` run
in order, each in one DuckDB transaction. Before `match`, its partitions are mapped over the workers:
`match_prepare` writes them, `match_compare` and `match_decide` (one task per partition, no database)
compare and decide their pairs around `match_train`, and the `match` stage loads them (it computes itself
whatever a partition task did not; docs/scale-out.md). `publish` swaps the warehouse in atomically and updates the
asset `mdm_warehouse` (its event's extra names the MDM run).

**Safe to retry and clear.** Every task that writes the warehouse or the run's staging database uses the
pool `mdm_warehouse` (one slot; create it: `airflow pools set mdm_warehouse 1 "MDM warehouse writer"`).
A failed task leaves the published warehouse as it was and keeps the staging folder, so retries and
cleared tasks resume the run; a completed task cleared runs again without changing anything, also after
publish. A run never resumed is discarded when a later run publishes.

**Params.** `full`: read every source in full and recompute everything (`mdm run --full`).
`sources`: the sources landed by parallel tasks (default: all); the run always covers every configured
source, `extract` lands the others itself.

**Config.** The YAML config path is the environment variable `MDM_CONFIG` of the workers.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, AssetAlias, AssetOrTimeSchedule, CronTriggerTimetable, Param, chain, dag, task

from pipelines import orchestration as mdm  # light: the runner is imported inside the tasks only
from pipelines.stages import STAGES

MDM_WAREHOUSE = Asset(name="mdm_warehouse", uri="x-mdm://warehouse")
MDM_SOURCES = AssetAlias(name="mdm_sources")  # every mdm_source_<name> asset is emitted through it


@dag(
    dag_id="mdm_pipeline",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 3 * * *", timezone="UTC"), assets=MDM_SOURCES),
    catchup=False,
    max_active_runs=1,  # runs publish to the same warehouse
    default_args=mdm.default_args(),
    params={
        "full": Param(False, type="boolean", description="Full (reconciliation) run: read and recompute everything"),
        "sources": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Sources to land in parallel tasks (empty: all configured sources)",
        ),
    },
    tags=["mdm", "match-merge-publish"],
    doc_md=__doc__,
)
def mdm_pipeline() -> None:
    @task(pool=mdm.POOL)
    def start(params: Any = None, dag_run: Any = None, triggering_asset_events: Any = None) -> str:
        """Pick or start the MDM run; its id is the XCom."""
        events = [e.extra or {} for evs in (triggering_asset_events or {}).values() for e in evs]
        return mdm.resolve(f"{dag_run.dag_id}/{dag_run.run_id}", events, full=bool(params["full"]))

    @task
    def sources(params: Any = None) -> list[str]:
        return mdm.sources(params["sources"])

    @task(max_active_tis_per_dagrun=4)
    def land(mdm_run_id: str, source: str) -> dict[str, Any]:
        """Land one source (Parquet in the staging folder; no database, so in parallel)."""
        return mdm.land(mdm_run_id, source)

    @task(pool=mdm.POOL)
    def stage(mdm_run_id: str, name: str, outlet_events: Any = None) -> dict[str, Any]:
        result = mdm.stage(mdm_run_id, name)
        if name == "publish":
            outlet_events[MDM_WAREHOUSE].extra = {"mdm_run_id": mdm_run_id, **result}
        return result

    @task(pool=mdm.POOL)
    def match_prepare(mdm_run_id: str) -> list[int]:
        """Blocking over every record; writes each match partition's inputs; the partitions to map over."""
        return mdm.match_prepare(mdm_run_id)

    @task(max_active_tis_per_dagrun=16)
    def match_compare(mdm_run_id: str, part: int) -> int:
        """Compare one partition's pairs (no database: any worker sharing the staging folder)."""
        return mdm.match_partition(mdm_run_id, part, "compare")

    @task(trigger_rule="none_failed")
    def match_train(mdm_run_id: str) -> None:
        """Train the model on the labelled pairs of every partition."""
        mdm.match_train(mdm_run_id)

    @task(max_active_tis_per_dagrun=16)
    def match_decide(mdm_run_id: str, part: int) -> int:
        """Decide one partition's pairs with the trained model."""
        return mdm.match_partition(mdm_run_id, part, "decide")

    mdm_run_id = start()
    landed = land.partial(mdm_run_id=mdm_run_id).expand(source=sources())
    stages = [
        stage.override(
            task_id=name,
            outlets=[MDM_WAREHOUSE] if name == "publish" else [],
            # after the mapped partitions, which are skipped when there is nothing to map
            trigger_rule="none_failed" if name == "match" else "all_success",
        )(mdm_run_id, name)
        for name in STAGES
    ]
    at = STAGES.index("match")
    parts = match_prepare(mdm_run_id)
    compared = match_compare.partial(mdm_run_id=mdm_run_id).expand(part=parts)
    decided = match_decide.partial(mdm_run_id=mdm_run_id).expand(part=parts)
    chain(landed, *stages[:at], parts, compared, match_train(mdm_run_id), decided, *stages[at:])


mdm_pipeline()
