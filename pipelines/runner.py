"""The one runner that both ``mdm run`` and the Airflow DAG call.

A run is a sequence of stages (:data:`STAGES`). Each stage reads and writes the run's private staging
folder ``<warehouse>/.runs/<run_id>/`` (a DuckDB file plus Parquet landings), so stages can run in
one process (``mdm run``) or as separate Airflow tasks. Only ``publish`` touches the published
warehouse, atomically; a run that fails anywhere before it leaves the warehouse as it was.
"""

from __future__ import annotations

STAGES = ("extract", "standardise", "match", "cluster", "survive", "publish")

# API (implemented below as the work lands):
#   start_run(config_path) -> run_id
#   run_stage(config_path, run_id, stage) -> StageResult
#   abort_run(config_path, run_id) -> None
#   run(config_path, progress=...) -> RunSummary
