"""Partitioned matching gives exactly the single-process result (issue 15).

The match stage cuts its pairs into partitions (ranges of their blocking key) that are compared and
decided in worker processes from Parquet inputs. The same sample run with one partition in the run's own
process, and with many small partitions spread over two worker processes, must publish the same pairs
(every column, scores to the last digit), the same model, the same clusters and golden records.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pipelines import runner
from tests.pipelines.test_runner import (  # noqa: F401 - module fixtures shared with test_runner
    generated,
    golden_rows,
    query,
    sample,
    write_config,
    xref_ids,
)


def _run(sample: Path, root: Path, workers: int, batch_rows: int) -> tuple[Path, dict]:
    cfg = write_config(sample, root / "wh", root / "mdm.yaml")
    raw = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    raw["performance"] = {"workers": workers, "batch_rows": batch_rows}
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    summary = runner.run(cfg)
    match = next(s for s in summary.stages if s.stage == "match")
    return root / "wh", match.detail


def test_partitions_in_worker_processes_give_the_single_process_result(sample: Path, tmp_path: Path) -> None:
    one, one_detail = _run(sample, tmp_path / "one", workers=1, batch_rows=5_000_000)
    many, many_detail = _run(sample, tmp_path / "many", workers=2, batch_rows=1_000)
    assert one_detail["partitions"] == 1
    assert many_detail["partitions"] >= 3  # the sample compares a few thousand pairs
    assert many_detail["workers"] == 2
    pairs = "SELECT * EXCLUDE (run_id) FROM match_pair ORDER BY rid_a, rid_b"
    assert len(query(one, pairs)) == one_detail["compared_pairs"] > 1_000
    assert query(many, pairs) == query(one, pairs)
    model = "SELECT * EXCLUDE (run_id) FROM match_model ORDER BY feature, level"
    assert query(many, model) == query(one, model)
    assert xref_ids(many) == xref_ids(one)
    assert golden_rows(many) == golden_rows(one)
