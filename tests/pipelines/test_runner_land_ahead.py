"""``mdm run`` lands its sources while the published database is copied into the run's staging folder.

The landing needs the plan but no database, so :func:`pipelines.runner.start_run` runs it beside the copy;
a source that fails to land then is landed again by the extract stage, whose error names the source, and
the run's result is the one a run landing everything in the extract stage gives.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from pipelines import runner
from pipelines.errors import SourceError
from pipelines.landing import LANDED
from pipelines.plan import PLAN_FILE, RunPlan
from pipelines.run_records import WORK_DB
from pipelines.stages import extract
from pipelines.warehouse import Warehouse
from tests.pipelines.test_runner import (  # noqa: F401 - module fixtures shared with test_runner
    generated,
    golden_rows,
    published,
    sample,
    write_config,
    xref_ids,
)


def test_meanwhile_runs_with_the_plan_while_the_database_is_copied(
    published: tuple[Path, runner.RunSummary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, summary = published
    copying = threading.Event()
    release = threading.Event()
    real_copy = runner.shutil.copy2

    def slow_copy(src: Any, dst: Any) -> Any:
        copying.set()
        assert release.wait(10), "meanwhile never ran while the copy was in progress"
        return real_copy(src, dst)

    monkeypatch.setattr(runner.shutil, "copy2", slow_copy)
    seen: list[tuple[RunPlan, Path]] = []

    def meanwhile(plan: RunPlan, folder: Path) -> None:
        assert copying.wait(10)
        assert not (folder / WORK_DB).exists()  # the copy is still held back: both run at the same time
        assert not (folder / PLAN_FILE).exists()  # not a started run yet
        seen.append((plan, folder))
        release.set()

    run_id = runner.start_run(cfg, meanwhile=meanwhile)
    try:
        assert len(seen) == 1
        plan, folder = seen[0]
        assert plan.run_id == run_id and plan.base_run == summary.run_id
        assert (folder / WORK_DB).is_file() and (folder / PLAN_FILE).is_file()
    finally:
        runner.abort_run(cfg, run_id, reason="test")


def test_a_failure_meanwhile_starts_no_run(published: tuple[Path, runner.RunSummary]) -> None:
    cfg, summary = published
    runs = Warehouse(summary.warehouse).runs_dir
    before = set(runs.iterdir()) if runs.is_dir() else set()

    def meanwhile(plan: RunPlan, folder: Path) -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        runner.start_run(cfg, meanwhile=meanwhile)
    after = set(runs.iterdir()) if runs.is_dir() else set()
    assert after == before  # the staging folder (and the copy made meanwhile) is gone


def test_mdm_run_lands_every_source_before_the_extract_stage(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    landed_ahead: list[str] = []
    at_extract: list[list[str]] = []
    real_ahead, real_run = extract.land_ahead, extract.run

    def ahead(ctx: Any) -> None:
        real_ahead(ctx)
        landed_ahead.extend(sorted(p.parent.name for p in (ctx.dir / "raw").glob(f"*/{LANDED}")))

    def run(con: Any, ctx: Any) -> Any:
        at_extract.append(sorted(p.parent.name for p in (ctx.dir / "raw").glob(f"*/{LANDED}")))
        return real_run(con, ctx)

    monkeypatch.setattr(extract, "land_ahead", ahead)
    monkeypatch.setattr(runner, "stage_function", _with(runner.stage_function, "extract", run))
    summary = runner.run(cfg)
    sources = sorted(summary.records_per_source)
    assert landed_ahead == sources
    assert at_extract == [sources]  # nothing left for the stage to land


def test_a_source_failing_ahead_is_landed_again_by_the_stage_to_the_same_result(
    sample: Path, published: tuple[Path, runner.RunSummary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, reference = published
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    real = extract.land_source
    calls: dict[str, int] = {}

    def flaky(ctx: Any, name: str) -> Any:
        calls[name] = calls.get(name, 0) + 1
        if calls[name] == 1:  # every source fails once, ahead of the stage, after landing half of it
            (ctx.dir / "raw" / name / "organization").mkdir(parents=True, exist_ok=True)
            raise OSError(f"simulated failure landing {name}")
        return real(ctx, name)

    monkeypatch.setattr(extract, "land_source", flaky)
    summary = runner.run(cfg)
    assert calls and all(n == 2 for n in calls.values())
    assert xref_ids(summary.warehouse) == xref_ids(reference.warehouse)
    assert golden_rows(summary.warehouse) == golden_rows(reference.warehouse)


def test_a_bad_source_still_fails_the_run_naming_the_source(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    real = extract.land_source

    def broken(ctx: Any, name: str) -> Any:
        if name == "crm":
            raise SourceError("cannot read: simulated", source=name, file="crm.sqlite")
        return real(ctx, name)

    monkeypatch.setattr(extract, "land_source", broken)
    with pytest.raises(SourceError, match="crm"):
        runner.run(cfg)
    runs = Warehouse(tmp_path / "wh").runs_dir
    # The run started, failed in its extract stage and was discarded, with its failure report.
    assert not [p for p in runs.iterdir() if p.is_dir() and not p.name.endswith(".docs")]
    (report,) = runs.glob("*.failed.json")
    assert "crm" in report.read_text(encoding="utf-8")


def _with(original: Any, stage: str, fn: Any) -> Any:
    return lambda name: fn if name == stage else original(name)
