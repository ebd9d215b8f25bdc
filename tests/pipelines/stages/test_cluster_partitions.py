"""Clustering in batches of whole link components gives exactly the single-batch result (issue 15).

The cluster stage makes the records of no link singletons and clusters the others in batches of whole
connected components of their links, in worker processes. The same sample run as one batch in the run's
own process, and as many small batches over two worker processes, must publish the same cross-reference
(cluster keys, rules, golden ids), the same golden records and refuse the same merges. The small sample
links about 540 records and ``performance.batch_rows`` is at least 1000, so the many-batches run cuts its
batches at a tenth of it (mdm.clustering.pack wrapped in the run's process; the workers only cluster).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mdm import clustering
from pipelines import runner
from tests.pipelines.test_runner import (  # noqa: F401 - module fixtures shared with test_runner
    generated,
    golden_rows,
    query,
    sample,
    write_config,
)


def _run(sample: Path, root: Path, workers: int, batch_rows: int) -> tuple[Path, dict]:
    cfg = write_config(sample, root / "wh", root / "mdm.yaml")
    raw = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    raw["performance"] = {"workers": workers, "batch_rows": batch_rows}
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    summary = runner.run(cfg)
    stage = next(s for s in summary.stages if s.stage == "cluster")
    return root / "wh", stage.detail


XREF = "SELECT * EXCLUDE (run_id) FROM xref ORDER BY source, source_id"


def test_clustering_in_batches_of_components_gives_the_single_batch_result(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, one_detail = _run(sample, tmp_path / "one", workers=1, batch_rows=5_000_000)
    pack = clustering.pack
    monkeypatch.setattr(clustering, "pack", lambda comp, rows: pack(comp, rows // 10))
    many, many_detail = _run(sample, tmp_path / "many", workers=2, batch_rows=1_000)
    xref = query(one, XREF)
    # Independent recount: the records of some link (an identifier or 'match' pair) are the linked ones.
    linked = query(
        one,
        "SELECT count(*) FROM (SELECT rid_a AS rid FROM match_pair WHERE rule <> 'score' OR band = 'match' "
        "UNION SELECT rid_b FROM match_pair WHERE rule <> 'score' OR band = 'match')",
    )[0][0]
    assert one_detail["linked"] == many_detail["linked"] == linked
    assert 300 < linked < len(xref) == one_detail["clustered"]
    assert one_detail["batches"] == 1
    assert many_detail["batches"] >= linked // 100 >= 3 and many_detail["workers"] == 2
    assert one_detail["refused_merges"] == many_detail["refused_merges"]
    assert query(many, XREF) == xref
    assert golden_rows(many) == golden_rows(one)
    # Records of no link are their own cluster, keyed by their rid.
    singles = query(
        one,
        "SELECT rid, cluster_key, match_rule FROM xref WHERE rid NOT IN (SELECT rid_a FROM match_pair "
        "WHERE rule <> 'score' OR band = 'match' UNION SELECT rid_b FROM match_pair WHERE rule <> 'score' OR band = 'match')",
    )
    assert len(singles) == len(xref) - linked > 0
    assert all(key == rid and rule == "singleton" for rid, key, rule in singles)
