"""The Data Docs of a stage rendered by a worker process (pipelines.quality_docs.DocsJob): the same site as
rendering them in the stage's own process, errors reported to the stage, a cancelled job leaves no worker."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pipelines import quality_docs
from pipelines.fileperms import owner_only
from pipelines.quality_docs import DocsError, Sample
from tests.pipelines.test_validation import org_frame

# Random per rendering: timestamps in result names and pages, GX's element ids.
_VOLATILE = re.compile(
    r"\d{8}T\d{6}\.\d{6}Z|\d{4}-\d{2}-\d{2}[T ][0-9:.]+(\+00:00|Z)?|'_run_time_sort': [0-9.]+|"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def samples() -> list[Sample]:
    bad = org_frame(30)
    bad.loc[3, "incorporated_on"] = "not a date"
    return [
        Sample("gleif_lei_xml", "gleif", org_frame(20), {"min_rows": 1, "max_rows": None}, 20),
        Sample("companies_house_csv", "uk", bad, {"min_rows": 1, "max_rows": None}, 5_000),
    ]


def site(docs: Path) -> dict[str, str]:
    """Every file of a Data Docs site by its path, with the volatile parts blanked."""
    return {
        _VOLATILE.sub("X", str(p.relative_to(docs))): _VOLATILE.sub("X", p.read_bytes().decode("utf-8", "replace"))
        for p in sorted(docs.rglob("*"))
        if p.is_file()
    }


def test_the_worker_renders_the_same_site_as_the_stage_process(tmp_path: Path) -> None:
    inline, worker = tmp_path / "inline", tmp_path / "worker"
    quality_docs.document(inline, "run-a", samples())
    previous = owner_only()  # as a run does: the worker takes this process's umask
    try:
        job = quality_docs.start(worker, "run-a")
        assert job.in_worker
        for s in samples():
            job.add(s)
        job.wait()
    finally:
        os.umask(previous)
    assert not job.in_worker  # the worker has exited
    got, want = site(worker), site(inline)
    assert "index.html" in got and any(p.startswith("validations/companies_house_csv/run-a/") for p in got)
    assert got == want
    assert (worker / "index.html").stat().st_mode & 0o077 == 0  # owner-only, like every file of a run


def test_a_worker_error_reaches_the_stage(tmp_path: Path) -> None:
    job = quality_docs.start(tmp_path / "docs", "run-b")
    job.add(Sample("no_such_suite", "crm", org_frame(3), {}, 3))
    with pytest.raises(DocsError, match="no_such_suite"):
        job.wait()


def test_a_cancelled_job_stops_its_worker(tmp_path: Path) -> None:
    job = quality_docs.start(tmp_path / "docs", "run-c")
    proc = job._proc
    job.add(samples()[0])
    job.cancel()
    assert not proc.is_alive() and not job.in_worker
    job.cancel()  # twice is harmless
