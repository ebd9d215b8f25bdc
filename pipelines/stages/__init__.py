"""The stages of a run, one module each (``pipelines/stages/<stage>.py``, each exposing ``run(con, ctx)``).

This package's own namespace stays light: the DAG files import :data:`STAGES` on every scheduler
parse, so the stage modules (pandas, Great Expectations, recordlinkage) are imported only by
:func:`stage_function`, in the process that runs the stage.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

STAGES = ("extract", "validate", "standardise", "match", "cluster", "survive", "publish")
# An apply run (steward decisions applied on the published records and pairs, no extract): `reuse` stands in
# for extract .. match.
APPLY_STAGES = ("reuse", "cluster", "survive", "publish")


def stage_function(name: str) -> Callable[..., Any]:
    """The ``run(con, ctx)`` function of a stage module."""
    if name not in STAGES and name not in APPLY_STAGES:
        raise KeyError(name)
    return importlib.import_module(f"pipelines.stages.{name}").run


def import_ahead(names: Iterable[str]) -> threading.Thread:
    """Import the modules of the stages ``names`` in a daemon thread, for a process that will run them one
    after the other (``mdm run``): their libraries (Great Expectations, recordlinkage with scikit-learn and
    SciPy) take seconds to import, which then overlap the start of the run (copying the published database,
    landing the sources: mostly time outside the GIL) instead of delaying a stage. A module that fails to
    import here is imported again by :func:`stage_function`, which raises its error."""
    modules = [f"pipelines.stages.{n}" for n in names if n in STAGES or n in APPLY_STAGES]

    def work() -> None:
        for module in modules:
            try:
                importlib.import_module(module)
            except Exception as e:  # raised again where the stage imports it
                log.debug("importing %s ahead failed (%s); the stage imports it again", module, e)

    thread = threading.Thread(target=work, name="mdm-import-ahead", daemon=True)
    thread.start()
    return thread
