"""Sources landed side by side in worker processes give exactly the landing of one process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from mdm.schema import TABLES
from pipelines import runner
from pipelines.sample import generate
from pipelines.stages import extract
from tests.conftest import sample_config


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out, entities=200, seed=5)
    return out


def _extracted(sample: Path, root: Path) -> dict[str, list[tuple]]:
    """The raw tables after the extract stage of a first run, ordered."""
    cfg = sample_config(sample, root / "wh", root / "mdm.yaml", performance={"workers": 2})
    run_id = runner.start_run(cfg)
    result = runner.run_stage(cfg, run_id, "extract")
    assert result["status"] == "success"
    con = duckdb.connect(str(root / "wh" / ".runs" / run_id / runner.WORK_DB), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT * EXCLUDE (src_file) FROM raw_{t} ORDER BY ALL").fetchall()
            + con.execute(
                f"SELECT DISTINCT replace(src_file, $r, '') FROM raw_{t} ORDER BY 1", {"r": str(sample)}
            ).fetchall()
            for t in TABLES
        }
    finally:
        con.close()


def _count_workers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Landing in workers at any input size; returns the worker counts of the landings started in workers."""
    calls: list[int] = []
    real = extract.map_batches

    def counting(fn: Any, batches: Any, workers: int) -> Any:
        calls.append(workers)
        return real(fn, batches, workers)

    monkeypatch.setattr(extract, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(extract, "map_batches", counting)
    return calls


def test_parallel_landing_gives_the_serial_landing(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = _extracted(sample, tmp_path / "serial")
    calls = _count_workers(monkeypatch)
    parallel = _extracted(sample, tmp_path / "parallel")
    assert calls == [2]  # the sources did land in two worker processes
    assert sum(len(v) for v in serial.values()) > 1000
    assert parallel == serial


def test_reused_landings_start_no_worker(sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second run over unchanged files reuses their landings (hard links): with one source left to read
    (the CRM, change-captured) it lands in the run's own process, without starting workers."""
    cfg = sample_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml", performance={"workers": 2})
    runner.run(cfg)
    calls = _count_workers(monkeypatch)
    run_id = runner.start_run(cfg)
    plan = runner.read_plan(tmp_path / "wh" / ".runs" / run_id)
    modes = sorted(s.mode for s in plan.sources)
    assert modes.count("reuse") == len(modes) - 1 and "changes" in modes
    assert runner.run_stage(cfg, run_id, "extract")["status"] == "success"
    assert calls == []
    landed = {p.parent.name for p in (tmp_path / "wh" / ".runs" / run_id / "raw").glob(f"*/{extract.LANDED}")}
    assert landed == {s.name for s in plan.sources}
