"""`mdm explain`: why two records were or were not matched."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from pipelines import runner
from pipelines.cli import app
from pipelines.config import load_config
from pipelines.errors import MdmError
from pipelines.explain import explain
from pipelines.sample import generate


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("explain") / "sample"
    generate(out, entities=300, seed=31)
    runner.run(out / "mdm.yaml")
    return out / "mdm.yaml"


def _one(cfg: Path, sql: str, params: dict[str, object] | None = None) -> tuple:
    con = duckdb.connect(str(load_config(cfg).warehouse / "mdm.duckdb"), read_only=True)
    try:
        row = con.execute(sql, params or {}).fetchone()
    finally:
        con.close()
    assert row is not None, sql
    return row


def test_a_scored_match_is_explained_by_its_features(published: Path) -> None:
    a, b, score = _one(
        published,
        "SELECT rid_a, rid_b, score FROM match_pair WHERE rule = 'score' AND band = 'match' ORDER BY rid_a LIMIT 1",
    )
    e = explain(load_config(published), b, a)  # order of the arguments does not matter
    assert (e.rid_a, e.rid_b) == (a, b)
    assert e.rule == "score" and e.band == "match"
    assert e.score == pytest.approx(score, abs=1e-6)
    names = [f["feature"] for f in e.features]
    assert names[:2] == ["name", "name_tokens"]
    assert all(f["level"] == -1 or f["value"] is not None for f in e.features)
    assert "scored by the model: match" in e.verdict


def test_a_deterministic_pair_names_the_shared_identifier(published: Path) -> None:
    a, b, rule = _one(
        published, "SELECT rid_a, rid_b, rule FROM match_pair WHERE rule LIKE 'id:%' ORDER BY rid_a LIMIT 1"
    )
    e = explain(load_config(published), a, b)
    assert e.rule == rule and e.band == "match" and e.same_cluster
    assert rule[3:] in e.shared_keys
    assert "matched deterministically" in e.verdict


def test_two_registered_companies_are_never_merged_and_it_says_why(published: Path) -> None:
    a, b = _one(
        published,
        "SELECT a.rid, b.rid FROM organization_record a JOIN organization_record b "
        "ON a.source = 'uk_registry' AND b.source = 'uk_registry' AND a.rid < b.rid LIMIT 1",
    )
    e = explain(load_config(published), a, b)
    assert not e.same_cluster
    assert "KEY:uk_registry" in e.conflicting_keys
    assert "can never be merged" in e.verdict


def test_a_pair_never_compared_is_scored_for_information(published: Path) -> None:
    a, b = _one(
        published,
        "SELECT a.rid, b.rid FROM organization_record a, organization_record b "
        "WHERE a.rid < b.rid AND NOT EXISTS (SELECT 1 FROM match_pair p WHERE p.rid_a = a.rid "
        "AND p.rid_b = b.rid) AND a.source = 'crm' AND b.source = 'gleif' LIMIT 1",
    )
    e = explain(load_config(published), a, b)
    assert e.rule is None and not e.candidate
    assert "never compared" in e.verdict
    assert e.band == "non-match"


def test_unknown_records_and_bad_references_are_clear_errors(published: Path) -> None:
    with pytest.raises(MdmError, match="no loaded record crm:NOPE"):
        explain(load_config(published), "crm:NOPE", "gleif:X")
    with pytest.raises(MdmError, match="SOURCE:ID"):
        explain(load_config(published), "nocolon", "gleif:X")


def test_the_cli_prints_the_table_and_json(published: Path) -> None:
    a, b = _one(published, "SELECT rid_a, rid_b FROM match_pair WHERE rule = 'score' ORDER BY score DESC LIMIT 1")
    cli = CliRunner()
    res = cli.invoke(app, ["explain", "--config", str(published), a, b])
    assert res.exit_code == 0, res.output
    assert "match probability" in res.output and "name_tokens" in res.output and a in res.output
    res = cli.invoke(app, ["explain", "--config", str(published), "--json", a, b])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {"features", "score", "band", "verdict", "records"} <= set(data)
    res = cli.invoke(app, ["explain", "--config", str(published), "crm:NOPE", a])
    assert res.exit_code == 1 and "no loaded record" in res.output and "Traceback" not in res.output
    assert "Example:" in cli.invoke(app, ["explain", "--help"]).output


def _stored_pairs(cfg: Path) -> list[tuple]:
    """Up to 8 stored pairs of every (rule kind, band): identifier links and scored matches, reviews, non-matches."""
    con = duckdb.connect(str(load_config(cfg).warehouse / "mdm.duckdb"), read_only=True)
    try:
        return con.execute(
            "SELECT rid_a, rid_b, rule, score, band FROM match_pair "
            "QUALIFY row_number() OVER (PARTITION BY rule LIKE 'id:%', band ORDER BY rid_a, rid_b) <= 8 "
            "ORDER BY rid_a, rid_b"
        ).fetchall()
    finally:
        con.close()


def test_explain_decides_stored_pairs_exactly_as_the_run_did(published: Path) -> None:
    """explain recomputes each pair with the stored model and token frequencies through the run's own
    decision function: probability, band and rule equal the stored ones to the last digit."""
    pairs = _stored_pairs(published)
    kinds = {(rule.startswith("id:"), band) for _, _, rule, _, band in pairs}
    assert {(True, "match"), (False, "match"), (False, "non-match")} <= kinds, kinds
    cfg = load_config(published)
    for a, b, rule, score, band in pairs:
        e = explain(cfg, a, b)
        assert (e.rule, e.band, e.score) == (rule, band, score), (a, b)
        assert e.stored is not None and e.candidate
        assert "stored as" not in e.verdict  # nothing to reconcile: the run decided it the same way


def test_a_steward_no_match_is_the_reason_two_matching_records_stay_apart(published: Path, tmp_path: Path) -> None:
    a, b = _one(
        published,
        "SELECT rid_a, rid_b FROM match_pair WHERE rule = 'score' AND band = 'match' "
        "ORDER BY score DESC, rid_a LIMIT 1",
    )
    assert explain(load_config(published), a, b).same_cluster
    (sa, ia), (sb, ib) = a.split(":", 1), b.split(":", 1)
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(
        f"source_a,source_id_a,source_b,source_id_b,decision\n{sa},{ia},{sb},{ib},no_match\n", encoding="utf-8"
    )
    raw = yaml.safe_load(published.read_text(encoding="utf-8"))
    raw["warehouse"] = str(tmp_path / "wh")
    raw["matching"] = {**(raw.get("matching") or {}), "decisions": str(decisions)}
    cfg_path = published.parent / f"steward-{tmp_path.name}.yaml"  # relative source paths resolve as before
    cfg_path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    runner.run(cfg_path)
    e = explain(load_config(cfg_path), b, a)
    stored = _one(
        cfg_path, "SELECT rule, band, score FROM match_pair WHERE rid_a = $a AND rid_b = $b", {"a": a, "b": b}
    )
    assert (e.rule, e.band, e.score) == stored
    assert e.band == "match"  # the model still says match ...
    assert e.steward is False and e.steward_changed  # ... the steward said no, and that decided it
    assert not e.same_cluster
    assert "a steward decided no_match" in e.verdict and "cannot-link" in e.verdict
