"""Golden ids through a warehouse's life: rerun, growth, merge (oldest survives, redirect), split (majority keeps)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipelines import runner
from pipelines.sample import generate
from tests.conftest import query_warehouse, sample_config


def _config(sample: Path, wh: Path, dest: Path, decisions: Path | None = None) -> Path:
    extra = {"matching": {"decisions": str(decisions)}} if decisions is not None else {}
    return sample_config(sample, wh, dest, **extra)


_q = query_warehouse


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("lifecycle")
    sample = tmp / "sample"
    generate(sample, entities=300, seed=53)
    wh = tmp / "wh"
    cfg = _config(sample, wh, tmp / "mdm.yaml")
    first = runner.run(cfg)
    return {"tmp": tmp, "sample": sample, "wh": wh, "cfg": cfg, "first": first}


def test_lifecycle(world: dict) -> None:
    wh, sample, tmp = world["wh"], world["sample"], world["tmp"]
    ids0 = dict(_q(wh, "SELECT rid, golden_id FROM xref"))

    # 1. A rerun on unchanged input changes no id.
    runner.run(world["cfg"])
    assert dict(_q(wh, "SELECT rid, golden_id FROM xref")) == ids0

    # 2. Growth: a new CRM record carrying a GLEIF record's LEI joins that cluster, which keeps its id.
    lei, gleif_rid = _q(wh, "SELECT id_LEI, rid FROM organization_record WHERE source = 'gleif' ORDER BY rid LIMIT 1")[
        0
    ]
    con = sqlite3.connect(sample / "internal" / "crm.sqlite")
    con.execute(
        "INSERT INTO customers (source_id, name, lei, updated_at) VALUES ('CUSTGROW01', 'Whatever', ?, '2026-11-01')",
        (lei,),
    )
    con.commit()
    con.close()
    runner.run(world["cfg"])
    ids1 = dict(_q(wh, "SELECT rid, golden_id FROM xref"))
    assert ids1["crm:CUSTGROW01"] == ids0[gleif_rid]
    assert {r: g for r, g in ids1.items() if r in ids0} == ids0

    # 3. Merge by a steward must-link: the oldest id survives, the other is retired with a redirect.
    # Two CRM singletons without identifiers (two register keys could never be merged, not even by a steward).
    singles = [
        r
        for (r,) in _q(
            wh,
            "SELECT rid FROM organization_record WHERE source = 'crm' AND id_LEI IS NULL "
            "AND id_USCC IS NULL AND id_GB_COH IS NULL AND id_CN_REG IS NULL AND golden_id IN "
            "(SELECT golden_id FROM xref GROUP BY 1 HAVING count(*) = 1) ORDER BY rid LIMIT 2",
        )
    ]
    a, b = singles
    ga, gb = ids1[a], ids1[b]
    seq = dict(_q(wh, "SELECT golden_id, minted_seq FROM golden_id_registry WHERE golden_id IN (?, ?)", [ga, gb]))
    older, newer = sorted((ga, gb), key=lambda g: seq[g])
    decisions = tmp / "decisions.csv"
    decisions.write_text(
        "source_a,source_id_a,source_b,source_id_b,decision\n"
        f"{a.split(':', 1)[0]},{a.split(':', 1)[1]},{b.split(':', 1)[0]},{b.split(':', 1)[1]},match\n",
        encoding="utf-8",
    )
    merged_run = runner.run(_config(sample, wh, tmp / "with-decisions.yaml", decisions))
    ids2 = dict(_q(wh, "SELECT rid, golden_id FROM xref"))
    assert ids2[a] == ids2[b] == older
    assert _q(wh, "SELECT surviving_id, reason, run_id FROM golden_id_redirect WHERE retired_id = ?", [newer]) == [
        (older, "merge", merged_run.run_id)
    ]
    assert _q(wh, "SELECT retired_run FROM golden_id_registry WHERE golden_id = ?", [newer]) == [(merged_run.run_id,)]

    # 4. Split: without the decision the two part again; with a 1-1 tie the part holding the smaller
    # record keeps the id and the other gets a new one (never a retired id back).
    runner.run(world["cfg"])
    ids3 = dict(_q(wh, "SELECT rid, golden_id FROM xref"))
    assert ids3[a] != ids3[b]
    assert ids3[min(a, b)] == older
    assert ids3[max(a, b)] not in (older, newer)
    assert {r: g for r, g in ids3.items() if r not in (a, b)} == {r: g for r, g in ids2.items() if r not in (a, b)}
    # Ids are opaque strings, not row numbers.
    assert all(g.startswith("G") and len(g) == 17 for g in ids3.values())
