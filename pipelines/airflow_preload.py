"""Warm task processes: import the run's modules once in the Airflow scheduler, not in every task.

With the LocalExecutor on Linux, every task process is forked from an executor worker, itself forked
from the scheduler, without a new interpreter. Modules the scheduler imported are then already loaded
in each task, so a task spends its time on its work instead of importing pandas, DuckDB, recordlinkage
and Great Expectations again (seconds per task, the bulk of a short task). Importing a module runs no
pipeline code and opens no file, database or connection: nothing is shared across the fork but code.

Enable it with an ``airflow_local_settings.py`` in ``$AIRFLOW_HOME/config/`` (``make airflow`` writes
:data:`LOCAL_SETTINGS` there)::

    import sys
    if sys.argv[1:2] == ["scheduler"]:
        from pipelines.airflow_preload import preload
        preload()

The DAG processor and the API server are left alone (DAG files stay cheap to parse: they import only
``airflow.sdk`` and :mod:`pipelines.orchestration`).
"""

from __future__ import annotations

import importlib
import logging
import time

log = logging.getLogger("mdm.airflow")

MODULES = (
    "pipelines.runner",
    "pipelines.stages.extract",
    "pipelines.stages.validate",
    "pipelines.stages.standardise",
    "pipelines.stages.match",
    "pipelines.stages.cluster",
    "pipelines.stages.survive",
    "pipelines.stages.publish",
    "pipelines.validation",
    "pipelines.quality",
)

LOCAL_SETTINGS = '''"""Written by scripts/airflow_local.py: preload the MDM run's modules in the scheduler."""

import sys

__all__: list[str] = []  # no Airflow policy or setting is overridden

if sys.argv[1:2] == ["scheduler"]:
    from pipelines.airflow_preload import preload

    preload()
'''


def preload(modules: tuple[str, ...] = MODULES) -> list[str]:
    """Import ``modules``; returns the ones that could not be imported (logged, never fatal)."""
    t0 = time.perf_counter()
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as e:  # a missing optional module must not stop the scheduler
            failed.append(name)
            log.warning("MDM preload: cannot import %s: %s: %s", name, type(e).__name__, e)
    log.info("MDM preload: %d modules in %.1f s", len(modules) - len(failed), time.perf_counter() - t0)
    return failed
