"""The match stage as separate tasks (pipelines.match_tasks), the way a DAG maps its partitions over
workers: the published result equals a plain run's, and every task is idempotent."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipelines import match_tasks, runner
from pipelines.stages import STAGES
from tests.pipelines.test_runner import (  # noqa: F401 - module fixtures shared with test_runner
    generated,
    golden_rows,
    query,
    run_stages,
    sample,
    write_config,
    xref_ids,
)


def _config(sample: Path, root: Path) -> Path:
    cfg = write_config(sample, root / "wh", root / "mdm.yaml")
    raw = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    raw["performance"] = {"workers": 1, "batch_rows": 1_000}
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return cfg


def test_mapped_match_partitions_publish_what_a_plain_run_does(sample: Path, tmp_path: Path) -> None:
    plain = _config(sample, tmp_path / "plain")
    runner.run(plain)
    cfg = _config(sample, tmp_path / "tasks")
    run_id = runner.start_run(cfg)
    run_stages(cfg, run_id, STAGES[: STAGES.index("match")])
    parts = match_tasks.match_prepare(cfg, run_id)
    assert len(parts) >= 3
    assert match_tasks.match_prepare(cfg, run_id) == parts  # a cleared task finds its inputs
    compared = [match_tasks.match_partition(cfg, run_id, k, "compare") for k in parts]
    assert match_tasks.match_partition(cfg, run_id, parts[0], "compare") == compared[0]  # retried: same again
    match_tasks.match_train(cfg, run_id)
    decided = [match_tasks.match_partition(cfg, run_id, k, "decide") for k in parts]
    assert decided == compared and sum(decided) > 1_000
    results = run_stages(cfg, run_id, STAGES[STAGES.index("match") :])
    match = results[0]
    assert match["detail"]["compared_pairs"] == sum(decided)
    assert match["detail"]["partitions"] == len(parts)
    # Once the stage completed, the tasks have nothing left to do.
    assert match_tasks.match_prepare(cfg, run_id) == []
    assert match_tasks.match_partition(cfg, run_id, parts[0], "decide") == 0
    pairs = "SELECT * EXCLUDE (run_id) FROM match_pair ORDER BY rid_a, rid_b"
    one, two = tmp_path / "plain" / "wh", tmp_path / "tasks" / "wh"
    assert query(two, pairs) == query(one, pairs)
    assert xref_ids(two) == xref_ids(one)
    assert golden_rows(two) == golden_rows(one)


def test_the_stage_finishes_what_the_tasks_left_undone(sample: Path, tmp_path: Path) -> None:
    """Only some partitions were compared by tasks (the others failed for good): the stage does the rest."""
    plain = _config(sample, tmp_path / "plain")
    runner.run(plain)
    cfg = _config(sample, tmp_path / "tasks")
    run_id = runner.start_run(cfg)
    run_stages(cfg, run_id, STAGES[: STAGES.index("match")])
    parts = match_tasks.match_prepare(cfg, run_id)
    match_tasks.match_partition(cfg, run_id, parts[0], "compare")
    run_stages(cfg, run_id, STAGES[STAGES.index("match") :])
    pairs = "SELECT * EXCLUDE (run_id) FROM match_pair ORDER BY rid_a, rid_b"
    assert query(tmp_path / "tasks" / "wh", pairs) == query(tmp_path / "plain" / "wh", pairs)
