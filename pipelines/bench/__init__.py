"""Benchmark: our matching pipeline against Splink 5 on the same generated sample.

``python -m pipelines.bench --entities N --seed S --out DIR [--no-splink] [--report docs/benchmarks.md]``

1. generates N legal entities (``pipelines.sample``) into ``DIR/sample``, with ``truth.csv``;
2. runs the whole pipeline (``pipelines.runner.run``) in a child process: per-stage and total wall time,
   peak resident memory of that process, pairs compared;
3. runs Splink 5 (DuckDB backend) in another child process on the very same standardised records
   (``organization_record`` of the published warehouse, one row per source record);
4. scores both against the truth: pairwise and B-cubed precision/recall/F1, and blocking recall (the share
   of true matching pairs that were compared or ended up in the same cluster);
5. prints a Markdown section and, with ``--report``, replaces the section for this N in that file.

Each system runs in its own freshly spawned process so the two peaks of memory are not shared; the
reported peak is the process' ``ru_maxrss`` (interpreter and imports included, DuckDB included).

Modules: ``systems`` (the two systems, each run in a child process), ``scoring`` and ``evaluation`` (accuracy
against the truth), ``run`` (the benchmark itself and the incremental rerun), ``report`` (Markdown), ``cli``
(arguments; ``python -m pipelines.bench``). The product run never imports this package.
"""

from __future__ import annotations

from pipelines.bench.report import machine, render, section_title, write_report
from pipelines.bench.run import Benchmark, run_benchmark
from pipelines.bench.scoring import Scores
from pipelines.bench.systems import (
    SPLINK_DEFAULT_THRESHOLD,
    SPLINK_METHODS,
    SPLINK_THRESHOLDS,
    SystemResult,
)

__all__ = [
    "SPLINK_DEFAULT_THRESHOLD",
    "SPLINK_METHODS",
    "SPLINK_THRESHOLDS",
    "Benchmark",
    "Scores",
    "SystemResult",
    "machine",
    "render",
    "run_benchmark",
    "section_title",
    "write_report",
]
