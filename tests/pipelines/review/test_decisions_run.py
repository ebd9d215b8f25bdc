"""Steward decisions honoured by the run, on a generated sample: a no-match separates two records for good
(over later incremental and full runs), a match joins two records, an undo restores the model's result,
golden ids of unrelated clusters do not change, and every decision is attributable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines import control, runner
from pipelines.cli import app
from pipelines.config import load_config
from pipelines.review import inputs, store
from pipelines.sample import generate
from tests.conftest import query_warehouse, sample_config

cli = CliRunner()


def golden(wh: Path) -> dict[str, str]:
    return dict(query_warehouse(wh, "SELECT rid, golden_id FROM xref"))


def decide(cfg: Path, *args: str) -> str:
    res = cli.invoke(
        app, ["review", *args, "--config", str(cfg), "--user", "alice", "--reason", "checked the register"]
    )
    assert res.exit_code == 0, res.output
    return res.output.split()[0]  # the decision id


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("steward")
    generate(root / "sample", entities=300, seed=11)
    cfg_path = sample_config(root / "sample", root / "wh", root / "mdm.yaml")
    cfg = load_config(cfg_path)
    wh = cfg.warehouse
    runner.run(cfg)
    g1 = golden(wh)
    # A pair the model matched (two records of one cluster, no shared identifier) ...
    apart = query_warehouse(
        wh,
        "SELECT p.rid_a, p.rid_b FROM match_pair p JOIN xref a ON a.rid = p.rid_a "
        "JOIN xref b ON b.rid = p.rid_b WHERE p.rule = 'score' AND p.band = 'match' "
        "AND a.golden_id = b.golden_id ORDER BY p.score DESC, p.rid_a LIMIT 1",
    )[0]
    # ... and a queued review pair (two clusters that could merge) that it did not.
    join = query_warehouse(wh, "SELECT rid_a, rid_b FROM review_item WHERE kind = 'pair' ORDER BY priority LIMIT 1")[0]
    assert g1[apart[0]] == g1[apart[1]] and g1[join[0]] != g1[join[1]]
    d_no = decide(cfg_path, "decide", "--left", apart[0], "--right", apart[1], "--verdict", "no-match")
    d_yes = decide(cfg_path, "decide", "--left", join[1], "--right", join[0], "--verdict", "match")
    runner.run(cfg)
    g2 = golden(wh)
    queue2 = {r[0] for r in query_warehouse(wh, "SELECT subject FROM review_item")}
    runner.run(cfg.model_copy(update={"incremental": False}))
    g3 = golden(wh)
    decide(cfg_path, "undo", "--decision", d_no)
    decide(cfg_path, "undo", "--decision", d_yes)
    runner.run(cfg)
    g4 = golden(wh)
    return {
        "cfg": cfg,
        "cfg_path": cfg_path,
        "apart": apart,
        "join": join,
        "g": [g1, g2, g3, g4],
        "queue2": queue2,
        "ids": (d_no, d_yes),
    }


def test_no_match_separates_for_good_and_match_joins(scenario):
    a, b = scenario["apart"]
    x, y = scenario["join"]
    for g in scenario["g"][1:3]:  # the next incremental run and a full run after it
        assert g[a] != g[b]
        assert g[x] == g[y]


def clusters(g: dict[str, str]) -> set[frozenset[str]]:
    out: dict[str, set[str]] = {}
    for rid, gid in g.items():
        out.setdefault(gid, set()).add(rid)
    return {frozenset(v) for v in out.values()}


def test_undo_restores_the_models_result(scenario):
    g1, g2, _, g4 = scenario["g"]
    a, b = scenario["apart"]
    x, y = scenario["join"]
    assert g4[a] == g4[b] and g4[x] != g4[y]
    assert clusters(g4) == clusters(g1) != clusters(g2)
    # The cluster that kept its id through the decisions keeps it; a retired id is never issued again.
    assert g4[a] == g1[a] and (g4[x] == g1[x] or g4[y] == g1[y])


def test_golden_ids_of_unrelated_clusters_do_not_change(scenario):
    g1, g2, g3, _ = scenario["g"]
    touched = {g1[r] for r in (*scenario["apart"], *scenario["join"])}
    unrelated = {r for r, gid in g1.items() if gid not in touched}
    assert len(unrelated) > 500
    assert all(g2[r] == g1[r] and g3[r] == g1[r] for r in unrelated)


def test_decided_pair_leaves_the_queue(scenario):
    assert "|".join(sorted(scenario["join"])) not in scenario["queue2"]


def test_every_decision_is_attributable_and_kept(scenario):
    ds = store.load_all(scenario["cfg"])
    assert [d.kind for d in ds] == ["no_match", "match", "undo", "undo"]
    assert all(d.user == "alice" and d.reason == "checked the register" and d.decided_at for d in ds)
    assert [d.target_id for d in ds[2:]] == list(scenario["ids"])
    con = control.connect(scenario["cfg"].warehouse)
    try:
        for sql in ("UPDATE steward_decision SET reason = 'x'", "DELETE FROM steward_decision"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                con.execute(sql)
    finally:
        con.close()
    assert len(store.load_all(scenario["cfg"])) == 4
    con = control.connect(scenario["cfg"].warehouse)
    try:
        logged = con.execute(
            "SELECT actor, action, detail FROM audit_log WHERE action LIKE 'review.%' ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    assert [(a, act, json.loads(det)["decision_id"]) for a, act, det in logged] == [
        ("alice", "review.decide", ds[0].id),
        ("alice", "review.decide", ds[1].id),
        ("alice", "review.undo", ds[2].id),
        ("alice", "review.undo", ds[3].id),
    ]
    assert all(json.loads(det)["reason"] == "checked the register" for _, _, det in logged)
    assert inputs.decision_inputs(scenario["cfg"]).pairs.empty


@pytest.fixture
def fresh(scenario, tmp_path: Path):
    """The scenario's published warehouse with an empty control store, and its config."""
    import shutil

    (tmp_path / "wh").mkdir()
    shutil.copy2(scenario["cfg"].warehouse / "mdm.duckdb", tmp_path / "wh" / "mdm.duckdb")
    return scenario["cfg"].model_copy(update={"warehouse": tmp_path / "wh"})


def draft(**kw) -> store.Draft:
    return store.Draft(**({"user": "bob", "reason": "seen the certificate"} | kw))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kind": "match", "rid_a": "crm:NOPE", "rid_b": "crm:NOPE2"}, "unknown record crm:NOPE, crm:NOPE2"),
        ({"kind": "match", "rid_a": "nocolon", "rid_b": "crm:X"}, "must be SOURCE:ID"),
        (
            {"kind": "override", "golden_id": "GFFFFFFFFFFFFFFFF", "attribute": "legal_name", "value": "X"},
            "unknown golden id",
        ),
        (
            {"kind": "override", "golden_id": "G1", "attribute": "colour", "value": "X"},
            "unknown golden attribute 'colour'",
        ),
        ({"kind": "undo", "target_id": "D0000"}, "unknown decision"),
        ({"kind": "match", "rid_a": "crm:A", "rid_b": "crm:B", "reason": "  "}, "needs a reason"),
        ({"kind": "match", "rid_a": "crm:A", "rid_b": "crm:B", "user": ""}, "needs a user"),
    ],
)
def test_bad_decisions_are_refused_at_once(fresh, kw, message):
    with pytest.raises(store.DecisionError, match=message):
        store.record(fresh, draft(**kw))
    assert store.load_all(fresh) == []


def test_once_users_exist_only_an_enabled_steward_decides(fresh):
    from pipelines import users

    a, b = query_warehouse(
        fresh.warehouse,
        "SELECT rid_a, rid_b FROM match_pair WHERE rule = 'score' AND band = 'match' ORDER BY rid_a LIMIT 1",
    )[0]
    con = control.connect(fresh.warehouse)
    try:
        users.add_user(con, "ann", "a long enough secret 1", "analyst")
        users.add_user(con, "sam", "a long enough secret 2", "steward")
    finally:
        con.close()
    with pytest.raises(store.DecisionError, match="unknown user 'bob'"):
        store.record(fresh, draft(kind="no_match", rid_a=a, rid_b=b))
    with pytest.raises(store.DecisionError, match=r"'ann' \(analyst\) may not"):
        store.record(fresh, draft(kind="no_match", rid_a=a, rid_b=b, user="ann"))
    assert store.record(fresh, draft(kind="no_match", rid_a=a, rid_b=b, user="Sam")).user == "sam"


def test_bad_verdict_is_refused_by_the_cli(fresh, tmp_path):
    import yaml

    cfg = tmp_path / "mdm.yaml"
    raw = yaml.safe_load(Path(fresh.config_path).read_text()) | {"warehouse": str(fresh.warehouse)}
    cfg.write_text(yaml.safe_dump(raw))
    res = cli.invoke(
        app,
        [
            "review",
            "decide",
            "--config",
            str(cfg),
            "--left",
            "crm:A",
            "--right",
            "crm:B",
            "--verdict",
            "maybe",
            "--user",
            "u",
            "--reason",
            "r",
        ],
    )
    assert res.exit_code == 1 and "verdict must be match or no-match, not 'maybe'" in res.output
    assert "Traceback" not in res.output


def test_a_match_between_two_leis_and_a_contradiction_are_refused(fresh):
    two = query_warehouse(
        fresh.warehouse, "SELECT rid FROM organization_record WHERE id_LEI IS NOT NULL ORDER BY rid LIMIT 2"
    )
    with pytest.raises(store.DecisionError, match=r"different LEI|two keys of register"):
        store.record(fresh, draft(kind="match", rid_a=two[0][0], rid_b=two[1][0]))
    a, b, c = [
        r
        for (r,) in query_warehouse(
            fresh.warehouse, "SELECT rid FROM organization_record WHERE source = 'crm' ORDER BY rid LIMIT 3"
        )
    ]
    store.record(fresh, draft(kind="match", rid_a=a, rid_b=b))
    store.record(fresh, draft(kind="match", rid_a=b, rid_b=c))
    with pytest.raises(store.DecisionError, match="undo one of those first"):
        store.record(fresh, draft(kind="no_match", rid_a=a, rid_b=c))
    undo = store.record(fresh, draft(kind="undo", target_id=store.load_all(fresh)[0].id))
    with pytest.raises(store.DecisionError, match="is undone, not live"):
        store.record(fresh, draft(kind="undo", target_id=undo.target_id))
    store.record(fresh, draft(kind="no_match", rid_a=a, rid_b=c))


def test_split_keeps_the_record_apart_from_its_cluster(fresh):
    gid, n = query_warehouse(
        fresh.warehouse, "SELECT golden_id, count(*) FROM xref GROUP BY 1 HAVING count(*) >= 3 ORDER BY 1 LIMIT 1"
    )[0]
    members = [
        r for (r,) in query_warehouse(fresh.warehouse, "SELECT rid FROM xref WHERE golden_id = ? ORDER BY rid", [gid])
    ]
    d = store.record(fresh, draft(kind="split", rid_a=members[0]))
    assert d.golden_id == gid and sorted(d.cannot_link) == members[1:] and len(members) == n
    pairs = inputs.decision_inputs(fresh).pairs
    assert sorted(zip(pairs.rid_a, pairs.rid_b)) == [(members[0], m) for m in members[1:]]
    assert not pairs.is_match.any()
    alone = query_warehouse(
        fresh.warehouse, "SELECT min(rid) FROM xref GROUP BY golden_id HAVING count(*) = 1 ORDER BY 1 LIMIT 1"
    )[0][0]
    with pytest.raises(store.DecisionError, match="is alone"):
        store.record(fresh, draft(kind="split", rid_a=alone))


def test_legacy_csv_import_is_idempotent_and_changes_nothing_the_run_sees(fresh, tmp_path):
    # Two pairs the run merged: a match decision on them is possible.
    (a, b), (c, e) = query_warehouse(
        fresh.warehouse,
        "SELECT rid_a, rid_b FROM match_pair WHERE rule = 'score' AND band = 'match' ORDER BY rid_a, rid_b LIMIT 2",
    )
    gid = query_warehouse(fresh.warehouse, "SELECT min(golden_id) FROM golden_organization")[0][0]
    dec = tmp_path / "decisions.csv"
    rows = ["source_a,source_id_a,source_b,source_id_b,decision"]
    for x, y, v in ((a, b, "match"), (c, e, "no_match"), (a, b, "no_match"), ("crm:GONE", c, "match")):
        rows.append(",".join([*x.split(":", 1), *y.split(":", 1), v]))
    dec.write_text("\n".join(rows) + "\n")
    ov = tmp_path / "overrides.csv"
    ov.write_text(
        f"golden_id,attribute,value,steward,decided_at\n{gid},legal_name,Old Name,carol,2026-01-01\n"
        f"{gid},legal_name,New Name,dave,2026-02-01\n"
    )
    cfg = fresh.model_copy(
        update={
            "matching": fresh.matching.model_copy(update={"decisions": dec}),
            "survivorship": fresh.survivorship.model_copy(update={"overrides": ov}),
        }
    )
    before = inputs.decision_inputs(cfg)
    assert sorted(zip(before.pairs.rid_a, before.pairs.rid_b, before.pairs.is_match)) == sorted(
        [(min(a, b), max(a, b), False), (min(c, e), max(c, e), False), (min("crm:GONE", c), max("crm:GONE", c), True)]
    )
    assert before.overrides[["golden_id", "attribute", "value", "steward"]].values.tolist() == [
        [gid, "legal_name", "New Name", "dave"]
    ]
    first = inputs.import_legacy(cfg, user="erin")
    assert len(first.added) == 5 and first.already == 0
    assert [line for _, line, _ in first.refused] == [5] and "unknown record crm:GONE" in first.refused[0][2]
    second = inputs.import_legacy(cfg, user="erin")
    assert second.added == [] and second.already == 5 and len(second.refused) == 1
    assert len(store.load_all(cfg)) == 5
    after = inputs.decision_inputs(cfg)
    # The refused row (an unknown record) is still read from the CSV, as before; the rest is unchanged.
    assert after.pairs.equals(before.pairs)
    assert after.overrides[["golden_id", "attribute", "value", "steward"]].values.tolist() == [
        [gid, "legal_name", "New Name", "dave"]
    ]
    ds = store.load_all(cfg)
    assert all(d.origin == "import" and d.reason.startswith("imported from ") for d in ds)
    assert {d.user for d in ds} == {"erin", "carol", "dave"}


def test_match_api_finds_the_golden_record_of_a_known_company(fresh):
    import shutil

    from pipelines.explain import explain
    from pipelines.review import onboard

    rid, name, country, gid = query_warehouse(
        fresh.warehouse,
        "SELECT rid, name, country_iso, golden_id FROM organization_record WHERE source = 'uk_registry' "
        "ORDER BY rid LIMIT 1",
    )[0]
    res = onboard.api_match(fresh, onboard.MatchRequest(name=name, country=country))
    best = res.candidates[0]
    assert best.golden_id == gid and best.band == "match" and best.probability >= fresh.matching.match_threshold
    assert len({c.golden_id for c in res.candidates}) == len(res.candidates) <= 5
    assert [f["feature"] for f in best.explanation["features"]] == [
        f["feature"] for f in explain(fresh, best.record, rid).features
    ]
    _lei_rid, lei, lei_gid = query_warehouse(
        fresh.warehouse,
        "SELECT rid, id_LEI, golden_id FROM organization_record WHERE id_LEI IS NOT NULL ORDER BY rid LIMIT 1",
    )[0]
    res = onboard.api_match(fresh, onboard.MatchRequest(name="Quite Another Name Ltd", lei=lei.lower()))
    assert (res.candidates[0].golden_id, res.candidates[0].rule, res.candidates[0].probability) == (
        lei_gid,
        "id:LEI",
        1.0,
    )
    assert lei in res.candidates[0].explanation["verdict"]
    # The index is built once per published warehouse, and again after a new publish.
    idx = onboard.index_for(fresh)
    assert onboard.index_for(fresh) is idx
    shutil.copy2(fresh.warehouse / "mdm.duckdb", fresh.warehouse / "new.duckdb")
    (fresh.warehouse / "new.duckdb").replace(fresh.warehouse / "mdm.duckdb")
    assert onboard.index_for(fresh) is not idx


def test_match_api_validates_its_request():
    from pydantic import ValidationError

    from pipelines.review import onboard

    with pytest.raises(ValidationError):
        onboard.MatchRequest(name="")
    with pytest.raises(ValidationError):
        onboard.MatchRequest(name="x" * 501)
    with pytest.raises(ValidationError):
        onboard.MatchRequest(name="Acme", limit=0)


@pytest.mark.parametrize("command", ["list", "show", "decide", "override", "split", "undo", "import", "apply"])
def test_review_commands_have_an_example(command):
    res = cli.invoke(app, ["review", command, "--help"])
    assert res.exit_code == 0 and f"Example: mdm review {command}" in res.output.replace("\n", " ")


def test_cli_lists_and_shows_the_queue_and_matches(scenario):
    cfg = str(scenario["cfg_path"])
    res = cli.invoke(app, ["review", "list", "--config", cfg, "--json", "-n", "3"])
    assert res.exit_code == 0, res.output
    items = json.loads(res.output)
    published = query_warehouse(scenario["cfg"].warehouse, "SELECT item_id FROM review_item ORDER BY priority LIMIT 3")
    assert [i["item_id"] for i in items] == [r[0] for r in published]
    pair = query_warehouse(
        scenario["cfg"].warehouse,
        "SELECT item_id, rid_a, rid_b FROM review_item WHERE kind = 'pair' ORDER BY priority LIMIT 1",
    )[0]
    res = cli.invoke(app, ["review", "show", "--config", cfg, pair[0], "--json"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.output)
    assert (shown["rid_a"], shown["rid_b"]) == pair[1:] and shown["explanation"]["features"]
    res = cli.invoke(app, ["review", "show", "--config", cfg, "Rnope"])
    assert res.exit_code == 1 and "no open review item 'Rnope'" in res.output
    res = cli.invoke(app, ["review", "list", "--config", cfg, "--decisions"])
    assert res.exit_code == 0 and res.output.count("[undone by D") == 2 and res.output.count(" undo ") == 2
    name = query_warehouse(
        scenario["cfg"].warehouse, "SELECT legal_name FROM golden_organization ORDER BY golden_id LIMIT 1"
    )[0][0]
    res = cli.invoke(app, ["match", "--config", cfg, "--name", name, "--json"])
    assert res.exit_code == 0, res.output
    assert name in [c["legal_name"] for c in json.loads(res.output)["candidates"]]
