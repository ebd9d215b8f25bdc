"""The benchmark harness around the two systems: arguments, the matching-vs-Splink line, the scaling table
and the memory of a process tree. The smoke run of both systems is in test_bench.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.bench import SPLINK_DEFAULT_THRESHOLD, SPLINK_METHODS, Benchmark, Scores, SystemResult, render
from pipelines.bench.cli import command_line, main, parser
from pipelines.bench.memory import TreeMemory, descendants, tree_kib
from pipelines.bench.report import comparison_line, write_report
from pipelines.bench.scaling import SECTION, ScalePoint, parse_section, parse_sizes, render_scaling, run_scaling

INFO = {
    "cpu": "Test CPU",
    "cores": "2",
    "ram": "1.0 GiB",
    "python": "3.11",
    "os": "Linux",
    "duckdb": "x",
    "splink": "x",
    "recordlinkage": "x",
    "pandas": "x",
}


def _scores() -> Scores:
    unit = {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "true_pairs": 10.0}
    return Scores(
        pairwise=dict(unit), bcubed={"precision": 1.0, "recall": 0.5, "f1": 2 / 3}, blocking_recall=1.0, clusters=3
    )


def _bench(ours_stages: dict[str, float], splink_seconds: float | None) -> Benchmark:
    ours = SystemResult("ours", {}, pairs_compared=12, seconds=30.0, peak_rss_mb=500.0, stage_seconds=ours_stages)
    b = Benchmark(
        entities=10,
        seed=1,
        date="2026-01-01 00:00 UTC",
        counts={s: 2 for s in ("gleif", "cn_registry", "uk_registry", "sec", "crm")},
        records=10,
        truth_records=10,
        true_pairs=10,
        ours=ours,
        ours_scores=_scores(),
        command="python -m pipelines.bench --entities 10 --out /tmp/x",
    )
    if splink_seconds is not None:
        b.splink = SystemResult("splink", {}, 8, splink_seconds, 300.0, {"train": splink_seconds}, tree_peak_mb=310.0)
        b.splink_sweep = {(m, SPLINK_DEFAULT_THRESHOLD): _scores() for m in SPLINK_METHODS}
    return b


# -- arguments -------------------------------------------------------------------------------------------


def test_incremental_and_splink_can_be_switched_on_and_off() -> None:
    p = parser()
    default = p.parse_args(["--entities", "10", "--out", "o"])
    assert default.incremental is True and default.splink is True and default.scaling is None
    off = p.parse_args(["--entities", "1_000_000", "--out", "o", "--no-incremental", "--no-splink"])
    assert off.incremental is False and off.splink is False and off.entities == 1_000_000
    on = p.parse_args(["--entities", "10", "--out", "o", "--incremental", "--splink"])
    assert on.incremental is True and on.splink is True


def test_scaling_sizes_are_parsed_and_bad_ones_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_sizes("10000, 100_000,1e6") == [10_000, 100_000, 1_000_000]
    assert parser().parse_args(["--scaling", "500,1000", "--out", "o"]).scaling == [500, 1000]
    for bad in ("0", "12.5", "ten", ","):
        with pytest.raises(ValueError):
            parse_sizes(bad)
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(["--scaling", "10,abc", "--out", "o"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(["--entities", "0", "--out", "o"])
    assert exc.value.code == 2


def test_entities_required_without_scaling(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "--entities is required" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing was generated


def test_command_line_is_quoted_for_the_report() -> None:
    assert command_line(["--entities", "10", "--out", "a b"]) == "python -m pipelines.bench --entities 10 --out 'a b'"


# -- the report ------------------------------------------------------------------------------------------


def test_report_states_matching_stages_against_splink() -> None:
    stages = {"extract": 5.0, "standardise": 2.5, "match": 3.25, "cluster": 0.25, "publish": 4.0}
    faster = _bench(stages, splink_seconds=26.7)
    line = comparison_line(faster)
    assert line.startswith("Matching stages vs Splink: 6.0 s vs 26.7 s")  # 2.5 + 3.25 + 0.25, not extract/publish
    assert "no longer than Splink" in line and "(22% of Splink's time)" in line
    slower = comparison_line(_bench(stages, splink_seconds=5.0))
    assert slower.startswith("Matching stages vs Splink: 6.0 s vs 5.0 s") and "longer than Splink" in slower
    assert "no longer" not in slower
    assert "not measured (--no-splink)" in comparison_line(_bench(stages, splink_seconds=None))

    section = render(faster, INFO)
    assert line in section.splitlines()
    assert "Command: `python -m pipelines.bench --entities 10 --out /tmp/x`" in section
    assert "| matching wall time | 6.0 s | 26.7 s |" in section
    row = next(x for x in section.splitlines() if x.startswith("| peak memory, with worker processes |"))
    assert row.split("|")[2].strip() == "–" and row.split("|")[3].strip() == "310 MiB"


# -- the scaling table ------------------------------------------------------------------------------------


def _point(n: int, total: float, stages: dict[str, float] | None = None) -> ScalePoint:
    return ScalePoint(
        entities=n,
        records=2 * n,
        pairs=5 * n,
        generate_seconds=0.5,
        stage_seconds=stages or {"extract": 1.0, "match": 2.0},
        seconds=total,
        peak_rss_mb=100.0,
        tree_peak_mb=150.0,
        date="2026-01-01 00:00 UTC",
    )


def test_scaling_table_keeps_other_sizes_and_replaces_the_same_size(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    report.write_text("# Benchmarks\n\nPreamble.\n\n## N = 10 entities\n\nother section\n", encoding="utf-8")
    first = render_scaling([_point(1000, 9.0), _point(100, 3.0)], INFO, "python -m pipelines.bench --scaling 100,1000")
    write_report(report, first)
    # A later run measures 1,000 again (a new stage appears) and adds 10,000.
    later = [_point(1000, 7.0, {"extract": 1.0, "match": 1.5, "survive": 0.5}), _point(10_000, 70.0)]
    second = render_scaling(later, INFO, "cmd two", report.read_text(encoding="utf-8"))
    write_report(report, second)
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nPreamble.\n") and "other section" in text
    assert text.count(SECTION) == 1
    rows, commands = parse_section(text)
    assert [r["entities"] for r in rows] == ["100", "1,000", "10,000"]
    by_n = {r["entities"]: r for r in rows}
    assert by_n["1,000"]["total run"] == "7.0 s" and by_n["1,000"]["survive"] == "0.5 s"
    assert by_n["100"]["total run"] == "3.0 s" and by_n["100"]["survive"] == "–"  # kept, column added
    assert by_n["10,000"]["pairs compared"] == "50,000" and by_n["10,000"]["peak memory, with workers"] == "150 MiB"
    assert len(commands) == 2 and commands[-1].endswith("`cmd two`") and "Test CPU, 2 cores" in commands[-1]


def test_scaling_runs_the_pipeline_at_each_size(tmp_path: Path) -> None:
    points = run_scaling([100, 220], seed=3, out=tmp_path)
    assert [p.entities for p in points] == [100, 220]
    for p in points:
        # The warehouse's records against the generator's own count of what it wrote.
        assert p.records == p.generated_records > p.entities
        assert p.pairs > 0 and p.seconds > 0 and p.generate_seconds > 0
        assert {"extract", "standardise", "match", "cluster", "publish"} <= set(p.stage_seconds)
        assert sum(p.stage_seconds.values()) <= p.seconds
        assert p.peak_rss_mb > 50 and p.tree_peak_mb is not None and p.tree_peak_mb > 50
    assert points[1].records > points[0].records
    assert not any(tmp_path.iterdir())  # without keep, each size's folder is removed after measuring
    section = render_scaling(points, INFO, "cmd")
    rows, _ = parse_section(section)
    assert [r["source records"] for r in rows] == [f"{p.records:,}" for p in points]


# -- memory of a process tree -----------------------------------------------------------------------------

# Holds 400 MB until its stdin is closed.
HOG = "import sys; b = b'x' * 400_000_000; print('ready', flush=True); sys.stdin.read()"


def test_tree_memory_counts_grandchildren() -> None:
    before = tree_kib(os.getpid())
    with TreeMemory(interval=0.05) as tree:
        # A grandchild (shell -> python; "; :" keeps the shell from exec-ing it) holding 400 MB: the
        # ru_maxrss of this process would not see it.
        proc = subprocess.Popen(
            ["sh", "-c", f'"{sys.executable}" -c "{HOG}"; :'],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            assert len(descendants(os.getpid())) >= 3  # this process, the shell, python
            tree._sample()
        finally:
            assert proc.stdin is not None
            proc.stdin.close()  # the grandchild reads EOF and ends, then the shell
            proc.wait(timeout=30)
    # The tree without the grandchild, before and after: the lower one, because another test's process that
    # ends meanwhile (a worker shutting down) would otherwise count against the grandchild. The margin is wide
    # (400 MB held, 150 MB asserted): the other processes' PSS moves by tens of MB while the grandchild runs
    # (shared pages are split with it), and with a 200 MB grandchild the difference was once 147 MB.
    after = tree_kib(os.getpid())
    assert tree.peak_mb is not None
    assert tree.peak_mb - min(before, after) / 1024 > 150
