"""Survivorship in a published warehouse: lineage for every golden value, rules from the config,
steward overrides beating every rule, and the same golden records from an incremental run."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdm.survivorship import ATTRIBUTES
from pipelines import runner
from pipelines.config import load_config
from pipelines.errors import ConfigError
from pipelines.sample import generate
from tests.conftest import query_warehouse, sample_config


def _config(sample: Path, wh: Path, dest: Path, **extra: object) -> Path:
    return sample_config(sample, wh, dest, **extra)


_q = query_warehouse


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("surv") / "sample"
    generate(out, entities=300, seed=61)
    return out


def test_every_golden_value_has_its_lineage(sample: Path, tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    run = runner.run(_config(sample, wh, tmp_path / "mdm.yaml"))
    cols = ", ".join(ATTRIBUTES)
    missing = _q(
        wh,
        f"""
        WITH v AS (UNPIVOT (SELECT golden_id, {", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in ATTRIBUTES)}
                            FROM golden_organization) ON {cols} INTO NAME attribute VALUE value)
        SELECT v.golden_id, v.attribute FROM v
        LEFT JOIN golden_attribute_lineage l USING (golden_id, attribute)
        WHERE l.value IS DISTINCT FROM v.value""",
    )
    assert missing == []
    n_values, n_lineage = _q(
        wh,
        f"""
        SELECT (SELECT count(*) FROM (UNPIVOT (SELECT golden_id, {
            ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in ATTRIBUTES)
        }
                FROM golden_organization) ON {cols} INTO NAME attribute VALUE value)),
               (SELECT count(*) FROM golden_attribute_lineage)""",
    )[0]
    assert n_values == n_lineage > 0
    rules = {r for (r,) in _q(wh, "SELECT DISTINCT rule FROM golden_attribute_lineage")}
    assert rules <= {"source_priority", "most_recent", "most_complete", "most_frequent", "tie_break"}
    src = _q(
        wh,
        "SELECT count(*) FROM golden_attribute_lineage l JOIN xref x ON x.rid = l.rid "
        "AND x.source = l.source AND x.source_id = l.source_id AND x.golden_id = l.golden_id",
    )[0][0]
    assert src == n_lineage  # every lineage row names a record of that very cluster
    assert {r for (r,) in _q(wh, "SELECT DISTINCT run_id FROM golden_attribute_lineage")} == {run.run_id}


def test_rules_and_overrides_from_the_config(sample: Path, tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    runner.run(_config(sample, wh, tmp_path / "mdm.yaml"))
    gid, _ = _q(
        wh, "SELECT golden_id, legal_name FROM golden_organization WHERE record_count > 1 ORDER BY golden_id LIMIT 1"
    )[0]
    overrides = tmp_path / "overrides.csv"
    overrides.write_text(
        "golden_id,attribute,value,steward,decided_at\n"
        f"{gid},legal_name,Steward Corrected Name Ltd,alice,2026-11-20T10:00:00\n",
        encoding="utf-8",
    )
    cfg = _config(
        sample,
        wh,
        tmp_path / "rules.yaml",
        survivorship={
            "overrides": str(overrides),
            "rules": {"attributes": {"legal_name": {"rules": ["most_frequent", "source_priority"]}}},
        },
    )
    runner.run(cfg)
    assert _q(wh, "SELECT legal_name FROM golden_organization WHERE golden_id = ?", [gid]) == [
        ("Steward Corrected Name Ltd",)
    ]
    assert _q(
        wh, "SELECT rule, source FROM golden_attribute_lineage WHERE golden_id = ? AND attribute = 'legal_name'", [gid]
    ) == [("steward_override", "alice")]
    others = {
        r
        for (r,) in _q(
            wh,
            "SELECT DISTINCT rule FROM golden_attribute_lineage WHERE attribute = 'legal_name' AND golden_id <> ?",
            [gid],
        )
    }
    assert others <= {"most_frequent", "source_priority", "tie_break"} and "most_frequent" in others


def test_bad_rules_fail_before_any_work(sample: Path, tmp_path: Path) -> None:
    cfg = _config(
        sample,
        tmp_path / "wh",
        tmp_path / "bad.yaml",
        survivorship={"rules": {"attributes": {"legal_name": {"rules": ["loudest"]}}}},
    )
    with pytest.raises(ConfigError, match=r"survivorship.*legal_name.*loudest"):
        load_config(cfg)
    assert not (tmp_path / "wh").exists()
