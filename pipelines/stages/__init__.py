"""The stages of a run, one module each (``pipelines/stages/<stage>.py``, each exposing ``run(con, ctx)``).

This package's own namespace stays light: the DAG files import :data:`STAGES` on every scheduler
parse, so the stage modules (pandas, Great Expectations, recordlinkage) are imported only by
:func:`stage_function`, in the process that runs the stage.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

STAGES = ("extract", "validate", "standardise", "match", "cluster", "survive", "publish")
# An apply run (steward decisions applied on the published records and pairs, no extract): `reuse` stands in
# for extract .. match.
APPLY_STAGES = ("reuse", "cluster", "survive", "publish")


def stage_function(name: str) -> Callable[..., Any]:
    """The ``run(con, ctx)`` function of a stage module."""
    if name not in STAGES and name not in APPLY_STAGES:
        raise KeyError(name)
    return importlib.import_module(f"pipelines.stages.{name}").run
