"""Steward decisions from the CSV named by matching.decisions: they bind clustering and train the model."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines import runner
from pipelines.decisions import read_decisions
from pipelines.errors import SourceError
from pipelines.sample import generate
from tests.conftest import sample_config


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("decisions") / "sample"
    generate(out, entities=300, seed=23)
    return out


def _config(sample: Path, tmp: Path, decisions: Path | None) -> Path:
    extra = {"matching": {"decisions": str(decisions)}} if decisions is not None else {}
    return sample_config(sample, tmp / "wh", tmp / "mdm.yaml", **extra)


def _xref(cfg_dir: Path) -> dict[str, str]:
    con = duckdb.connect(str(cfg_dir / "wh" / "mdm.duckdb"), read_only=True)
    try:
        return dict(con.execute("SELECT rid, golden_id FROM xref").fetchall())
    finally:
        con.close()


def test_decisions_split_and_join_clusters(sample: Path, tmp_path: Path) -> None:
    base_dir = tmp_path / "base"
    base_dir.mkdir()
    runner.run(_config(sample, base_dir, None))
    xref = _xref(base_dir)
    con = duckdb.connect(str(base_dir / "wh" / "mdm.duckdb"), read_only=True)
    # Two records the model merged into a cluster of their own, and two CRM singletons.
    merged = con.execute(
        "SELECT rid_a, rid_b FROM match_pair p JOIN xref a ON a.rid = p.rid_a JOIN xref b ON b.rid = p.rid_b "
        "WHERE p.rule = 'score' AND p.band = 'match' AND a.golden_id = b.golden_id "
        "AND a.golden_id IN (SELECT golden_id FROM xref GROUP BY 1 HAVING count(*) = 2) "
        "ORDER BY rid_a LIMIT 1"
    ).fetchone()
    singles = [
        r[0]
        for r in con.execute(
            "SELECT rid FROM xref WHERE source = 'crm' AND golden_id IN "
            "(SELECT golden_id FROM xref GROUP BY 1 HAVING count(*) = 1) ORDER BY rid LIMIT 2"
        ).fetchall()
    ]
    con.close()
    assert merged is not None and len(singles) == 2
    assert xref[merged[0]] == xref[merged[1]]
    assert xref[singles[0]] != xref[singles[1]]

    dec = tmp_path / "decisions.csv"
    s0, s1 = (r.split(":", 1) for r in singles)
    m0, m1 = (r.split(":", 1) for r in merged)
    dec.write_text(
        "source_a,source_id_a,source_b,source_id_b,decision\n"
        f"{m0[0]},{m0[1]},{m1[0]},{m1[1]},no_match\n"
        f"{s0[0]},{s0[1]},{s1[0]},{s1[1]},match\n",
        encoding="utf-8",
    )
    run_dir = tmp_path / "with"
    run_dir.mkdir()
    runner.run(_config(sample, run_dir, dec))
    after = _xref(run_dir)
    assert after[merged[0]] != after[merged[1]]  # cannot-link split the pair
    assert after[singles[0]] == after[singles[1]]  # must-link joined the singletons
    con = duckdb.connect(str(run_dir / "wh" / "mdm.duckdb"), read_only=True)
    rule = con.execute("SELECT match_rule FROM xref WHERE rid = ?", [singles[0]]).fetchone()[0]
    detail = con.execute("SELECT detail FROM run_log WHERE stage = 'match'").fetchone()[0]
    con.close()
    assert rule == "steward"
    assert '"steward_decisions": 2' in detail


def test_read_decisions_last_line_wins_and_bad_files_name_the_line(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text(
        "source_a,source_id_a,source_b,source_id_b,decision\ncrm,2,crm,1,match\ncrm,1,crm,2,no_match\n",
        encoding="utf-8",
    )
    d = read_decisions(f)
    assert d.to_dict("records") == [{"rid_a": "crm:1", "rid_b": "crm:2", "is_match": False}]
    f.write_text("source_a,source_id_a,source_b,source_id_b,decision\ncrm,1,crm,2,maybe\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"line 2.*match or no_match"):
        read_decisions(f)
    f.write_text("source_a,source_id_a,decision\n", encoding="utf-8")
    with pytest.raises(SourceError, match="source_b"):
        read_decisions(f)
