"""Smoke run of the benchmark on a tiny sample (300 entities, both systems): report structure and metric ranges.

Kept small on purpose (well under a minute): the real figures come from `python -m pipelines.bench` runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.bench import (
    SPLINK_DEFAULT_THRESHOLD,
    SPLINK_METHODS,
    SPLINK_THRESHOLDS,
    Benchmark,
    Scores,
    machine,
    render,
    run_benchmark,
    section_title,
    write_report,
)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Benchmark:
    return run_benchmark(300, seed=3, out=tmp_path_factory.mktemp("bench"), u_max_pairs=1e5)


def _in_unit(scores: Scores) -> None:
    for value in (
        *[scores.pairwise[k] for k in ("precision", "recall", "f1")],
        *scores.bcubed.values(),
        scores.blocking_recall,
    ):
        assert 0.0 <= value <= 1.0


def test_both_systems_measured_and_scored(bench: Benchmark) -> None:
    assert bench.records >= 300 and bench.truth_records == bench.records
    assert bench.true_pairs > 0
    _in_unit(bench.ours_scores)
    assert bench.ours.pairs_compared > 0 and bench.ours.seconds > 0 and bench.ours.peak_rss_mb > 50
    assert {"extract", "match", "cluster", "publish"} <= set(bench.ours.stage_seconds)
    assert bench.splink is not None
    assert bench.splink.pairs_compared > 0 and bench.splink.peak_rss_mb > 50
    assert set(bench.splink_sweep) == {(m, t) for m in SPLINK_METHODS for t in SPLINK_THRESHOLDS}
    for scores in bench.splink_sweep.values():
        _in_unit(scores)
        assert 0 < scores.clusters <= bench.records
    # Both systems should find most true pairs on this easy, tiny sample.
    assert bench.ours_scores.pairwise["f1"] > 0.8
    assert bench.splink_sweep[("sbl", SPLINK_DEFAULT_THRESHOLD)].pairwise["f1"] > 0.5
    # Memory with worker processes (sampled) is at least a good part of the process' own peak.
    assert bench.ours.tree_peak_mb is not None and bench.ours.tree_peak_mb > 50
    assert bench.splink.tree_peak_mb is not None and bench.splink.tree_peak_mb > 50
    assert bench.generation is not None and bench.generation["seconds"] > 0
    assert bench.incremental is not None and bench.incremental["changed"] >= 1  # run by default


def test_report_section_replaces_its_n_and_keeps_the_rest(bench: Benchmark, tmp_path: Path) -> None:
    section = render(bench, machine())
    lines = section.splitlines()
    assert lines[0] == section_title(300)
    header = next(line for line in lines if line.startswith("| | ours |"))
    assert header.count("Splink 5") == len(SPLINK_METHODS) + 1
    for label in (
        "pairwise F1",
        "B-cubed F1",
        "pairs compared",
        "pairs per record",
        "blocking recall",
        "total wall time",
        "matching wall time",
        "peak memory (RSS)",
        "peak memory, with worker processes",
    ):
        row = next(line for line in lines if line.startswith(f"| {label} |"))
        assert row.count("|") == header.count("|")
    assert "Our stages: extract" in section and "Splink stages: prepare" in section
    # Every measured figure is in the section: the comparison issue 15 asks for, generation, incremental run.
    ours = sum(bench.ours.stage_seconds[s] for s in ("standardise", "match", "cluster"))
    assert bench.splink is not None
    assert f"Matching stages vs Splink: {ours:.1f} s vs {bench.splink.seconds:.1f} s" in section
    assert "The sample was generated in" in section
    assert "Incremental run after changing" in section and "| peak memory, with worker processes |" in section

    report = tmp_path / "benchmarks.md"
    report.write_text(
        f"# Benchmarks\n\nHand-written preamble.\n\n## N = 5 entities\n\nold five\n\n{section_title(300)}\n\nstale\n",
        encoding="utf-8",
    )
    write_report(report, section, 300)
    write_report(report, section, 300)  # idempotent: still one section for this N
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nHand-written preamble.\n")
    assert "old five" in text and "stale" not in text
    assert text.count(section_title(300) + "\n") == 1
