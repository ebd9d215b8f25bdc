"""MDM quality: the daily data-quality scorecard and report of the published warehouse.

**When it runs.** Every day at 06:00 UTC, or when triggered.

**What it does.** `scorecard` computes what `mdm quality` prints for the latest published run (completeness,
validity and uniqueness per source and attribute, identifier classes, quarantined rows, load warnings,
Great Expectations results, with the change against the run before) and, where `pipelines.report` is
installed, writes the HTML report to `<warehouse>/reports/report.html`. Its XCom is a short summary.
It only reads the warehouse, so it needs no pool.

**Config.** The YAML config path is the environment variable `MDM_CONFIG` of the workers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from pipelines import orchestration as mdm  # light: pandas and DuckDB are imported inside the task only


@dag(
    dag_id="mdm_quality",
    schedule="0 6 * * *",
    catchup=False,
    max_active_runs=1,
    default_args=mdm.default_args() | {"execution_timeout": timedelta(minutes=30)},
    tags=["mdm", "quality"],
    doc_md=__doc__,
)
def mdm_quality() -> None:
    @task
    def scorecard() -> dict[str, Any]:
        return mdm.quality_report()

    scorecard()


mdm_quality()
