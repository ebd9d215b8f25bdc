"""A run's start does not wait for the stages' libraries: the plan names the comparison features without
importing recordlinkage (and with it scikit-learn and SciPy), and ``import_ahead`` imports the stage modules
in a thread of their own. Checked in fresh interpreters, where nothing is imported yet."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from mdm.comparison import FEATURES as COMPARED
from mdm.features import FEATURES


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300, check=True
    )
    return done.stdout.strip()


def test_the_plan_and_the_runner_import_no_comparison_library() -> None:
    out = _python(
        """
        import sys
        import pipelines.runner, pipelines.plan
        print(sorted(m for m in ("recordlinkage", "sklearn", "scipy", "great_expectations") if m in sys.modules))
        """
    )
    assert out == "[]"
    assert FEATURES is COMPARED  # one definition: the plan fingerprints the features the comparison computes


def test_import_ahead_imports_the_stages_named_and_ignores_other_names() -> None:
    out = _python(
        """
        import sys
        from pipelines.stages import import_ahead
        before = "pipelines.stages.match" in sys.modules
        import_ahead(["match", "cluster", "no_such_stage"]).join(timeout=240)
        print(before, "pipelines.stages.match" in sys.modules, "pipelines.stages.cluster" in sys.modules,
              "recordlinkage" in sys.modules, "pipelines.stages.no_such_stage" in sys.modules)
        """
    )
    assert out == "False True True True False"
