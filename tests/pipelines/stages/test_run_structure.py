"""The run's structure: the plan, the table catalog and stages that can be retried or cleared.

A stage runs in one transaction with the record of its completion, so a stage that fails half way can be
run again, and a completed stage run again (an Airflow task cleared after success) changes nothing: the
published result equals a run that never failed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import pipelines.stages as stages_pkg
from pipelines import catalog, runner
from pipelines.plan import PLAN_FILE
from pipelines.stages import STAGES
from pipelines.stages.base import RunError
from tests.pipelines.test_runner import (  # noqa: F401 - module fixtures shared with test_runner
    generated,
    golden_rows,
    published_state,
    query,
    run_stages,
    sample,
    write_config,
    xref_ids,
)


@pytest.fixture(scope="module")
def reference(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reference")
    return runner.run(write_config(sample, root / "wh", root / "mdm.yaml")).warehouse


def _failing_once(stage: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make ``stage`` do all its work and then fail, once; returns the call counter."""
    real = stages_pkg.stage_function(stage)
    calls = [0]

    def flaky(con: Any, ctx: Any) -> Any:
        result = real(con, ctx)
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError(f"simulated crash at the end of {stage}")
        return result

    original = stages_pkg.stage_function
    monkeypatch.setattr(runner, "stage_function", lambda name: flaky if name == stage else original(name))
    return calls


@pytest.mark.parametrize("stage", ["match", "survive"])
def test_a_stage_that_fails_half_way_runs_again_to_the_same_result(
    sample: Path, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    run_id = runner.start_run(cfg)
    calls = _failing_once(stage, monkeypatch)
    before = STAGES[: STAGES.index(stage)]
    run_stages(cfg, run_id, before)
    with pytest.raises(RuntimeError, match="simulated crash"):
        runner.run_stage(cfg, run_id, stage)
    # The failed attempt left no trace: the stage is still the next one, its tables are not there.
    with pytest.raises(RunError, match=f"next stage is '{stage}'"):
        runner.run_stage(cfg, run_id, STAGES[STAGES.index(stage) + 1])
    run_stages(cfg, run_id, STAGES[STAGES.index(stage) :])
    assert calls[0] == 2
    wh = tmp_path / "wh"
    assert xref_ids(wh) == xref_ids(reference)
    assert golden_rows(wh) == golden_rows(reference)


def test_clearing_a_middle_stage_after_publish_gives_the_same_published_result(
    sample: Path, reference: Path, tmp_path: Path
) -> None:
    """What Airflow does when a task of a finished DAG run is cleared: it runs again, and so do the tasks
    after it. Nothing changes, and nothing fails for want of a staging folder."""
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    run_id = runner.start_run(cfg)
    first = run_stages(cfg, run_id)
    wh = tmp_path / "wh"
    assert not (wh / ".runs" / run_id).exists()
    before = published_state(wh)
    again = run_stages(cfg, run_id, STAGES[STAGES.index("match") :])
    strip = [{k: v for k, v in r.items() if k not in ("seconds", "started_at", "finished_at")} for r in first[3:]]
    assert [{k: v for k, v in r.items() if k not in ("seconds", "started_at", "finished_at")} for r in again] == strip
    assert published_state(wh) == before
    assert xref_ids(wh) == xref_ids(reference)


def test_clearing_a_stage_of_a_run_in_progress_changes_nothing(sample: Path, tmp_path: Path) -> None:
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    run_id = runner.start_run(cfg)
    first = run_stages(cfg, run_id, STAGES[:4])
    assert runner.run_stage(cfg, run_id, "standardise")["rows_out"] == first[2]["rows_out"]
    run_stages(cfg, run_id, STAGES[4:])
    assert query(tmp_path / "wh", "SELECT count(DISTINCT stage) FROM run_log")[0][0] == len(STAGES)
    assert query(tmp_path / "wh", "SELECT count(*) FROM run_log")[0][0] == len(STAGES)


def test_a_stage_that_leaves_an_undeclared_table_fails_and_leaves_no_trace(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    run_id = runner.start_run(cfg)
    real = stages_pkg.stage_function("extract")

    def sloppy(con: Any, ctx: Any) -> Any:
        result = real(con, ctx)
        con.execute("CREATE TABLE scratch_notes AS SELECT 1 AS x")
        return result

    original = stages_pkg.stage_function
    monkeypatch.setattr(runner, "stage_function", lambda name: sloppy if name == "extract" else original(name))
    with pytest.raises(RunError, match="scratch_notes: not declared"):
        runner.run_stage(cfg, run_id, "extract")
    monkeypatch.setattr(runner, "stage_function", original)
    assert runner.run_stage(cfg, run_id, "extract")["stage"] == "extract"  # rolled back: runs cleanly now


def test_a_stage_that_creates_another_stages_table_fails(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    run_id = runner.start_run(cfg)
    real = stages_pkg.stage_function("extract")

    def overreaching(con: Any, ctx: Any) -> Any:
        result = real(con, ctx)
        con.execute("CREATE TABLE new_xref AS SELECT 1 AS x")  # the cluster stage's
        return result

    original = stages_pkg.stage_function
    monkeypatch.setattr(runner, "stage_function", lambda name: overreaching if name == "extract" else original(name))
    with pytest.raises(RunError, match="new_xref: created by stage 'extract', but owned by 'cluster'"):
        runner.run_stage(cfg, run_id, "extract")


def test_the_plan_says_what_the_run_will_do_and_why(sample: Path, tmp_path: Path) -> None:
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    empty = runner.plan_run(cfg)
    assert {s.mode for s in empty.sources} == {"read"} and empty.base_run is None
    assert not empty.match.incremental and empty.match.reason == "no earlier model"
    first = runner.run(cfg)
    again = runner.plan_run(cfg)
    assert again.base_run == first.run_id
    modes = {s.name: s.mode for s in again.sources}
    assert modes["crm"] == "changes" and {m for n, m in modes.items() if n != "crm"} == {"reuse"}
    assert again.match.incremental and again.survive.incremental and again.standardise.incremental
    full = runner.plan_run(cfg, full=True)
    assert {s.mode for s in full.sources} == {"read"} and not full.match.incremental
    assert full.match.reason == "full run requested"
    # The plan a started run works by is in its staging folder, as JSON.
    run_id = runner.start_run(cfg)
    written = json.loads((tmp_path / "wh" / ".runs" / run_id / PLAN_FILE).read_text())
    assert written["run_id"] == run_id and written["base_run"] == first.run_id
    runner.abort_run(cfg, run_id)


def test_every_run_table_is_dropped_at_publish_and_only_declared_tables_are_published(reference: Path) -> None:
    names = {
        n for (n,) in query(reference, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
    }
    assert not names & set(catalog.run_relations())
    published = {r.name for r in catalog.published()}
    assert names <= published
    assert {"golden_organization", "xref", "match_pair", "v_golden_organization"} <= names


def test_every_sql_file_that_builds_a_relation_is_declared() -> None:
    declared = catalog.sql_files_declared()
    for path in sorted(catalog.SQL_DIR.glob("*/*.sql")):
        rel = str(path.relative_to(catalog.SQL_DIR).with_suffix(""))
        text = path.read_text(encoding="utf-8").upper()
        if ("CREATE " in text or "RENAME TO" in text) and not rel.startswith("control/"):
            assert rel in declared or any(
                rel.startswith(p)
                for p in (
                    "staging/std_reused_none",
                    "staging/std_organization_in_place",
                    "golden/new_organization_record_in_place",
                    "staging/cluster_scope_grow",
                    "staging/match_candidate_changed",
                    "staging/match_identifier_link_changed",
                    "staging/run_stage",
                    "staging/reuse_published",
                    "golden/new_golden_copied",
                    "golden/carry_over",
                    "golden/survive_input_affected",
                    "golden/affected_changed",
                    "golden/golden_drop_reclustered",
                    "golden/history_rebuild",
                )
            ), rel


def test_sources_landed_one_by_one_then_extracted_equal_a_normal_run(
    sample: Path, reference: Path, tmp_path: Path
) -> None:
    """The Airflow DAG lands each source in its own task (in parallel), then runs extract."""
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    run_id = runner.start_run(cfg)
    names = [s.name for s in runner.load_config(cfg).sources]
    landed = [runner.land_source(cfg, run_id, name) for name in reversed(names)]
    assert [r["status"] for r in landed] == ["landed"] * len(names)
    again = runner.land_source(cfg, run_id, names[0])  # a retried landing task
    assert again == landed[-1]
    with pytest.raises(RunError, match="unknown source"):
        runner.land_source(cfg, run_id, "nope")
    run_stages(cfg, run_id)
    assert runner.land_source(cfg, run_id, names[0])["status"] == "published"
    assert xref_ids(tmp_path / "wh") == xref_ids(reference)
    assert golden_rows(tmp_path / "wh") == golden_rows(reference)


def test_an_apply_run_reclusters_with_new_decisions_without_extracting(
    sample: Path, reference: Path, tmp_path: Path
) -> None:
    """Steward decisions applied on the published pairs: a no-match splits a matched pair, everything else
    keeps its golden id, and no source is read again (no new load)."""
    import shutil

    wh = tmp_path / "wh"
    shutil.copytree(reference, wh, symlinks=True)
    pair = query(
        wh,
        "SELECT rid_a, rid_b FROM match_pair p JOIN xref a ON a.rid = p.rid_a "
        "JOIN xref b ON b.rid = p.rid_b WHERE p.band = 'match' AND p.rule = 'score' "
        "AND a.golden_id = b.golden_id ORDER BY rid_a, rid_b LIMIT 1",
    )[0]
    decisions = tmp_path / "decisions.csv"
    (sa, ia), (sb, ib) = (r.split(":", 1) for r in pair)
    decisions.write_text(f"source_a,source_id_a,source_b,source_id_b,decision\n{sa},{ia},{sb},{ib},no_match\n")
    cfg = write_config(sample, wh, tmp_path / "mdm.yaml")
    raw = __import__("yaml").safe_load(cfg.read_text())
    raw["matching"] = {"decisions": str(decisions)}
    cfg.write_text(__import__("yaml").safe_dump(raw))
    loads = query(wh, "SELECT count(*) FROM source_load")[0][0]
    summary = runner.apply_decisions(cfg)
    assert [s.stage for s in summary.stages] == ["reuse", "cluster", "survive", "publish"]
    a, b = (query(wh, f"SELECT golden_id FROM xref WHERE rid = '{r}'")[0][0] for r in pair)
    assert a != b
    assert query(wh, "SELECT count(*) FROM source_load")[0][0] == loads  # nothing was read again
    before = dict(query(reference, "SELECT rid, golden_id FROM xref"))
    after = dict(query(wh, "SELECT rid, golden_id FROM xref"))
    moved = {r for r in after if after[r] != before[r]}
    assert moved and moved <= set(pair)  # only one side of the split pair got a new id
    assert (
        query(wh, "SELECT count(*) FROM match_pair")[0][0] == query(reference, "SELECT count(*) FROM match_pair")[0][0]
    )


def test_a_publish_killed_before_its_switch_leaves_the_old_state_and_runs_again(
    sample: Path, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12: a kill inside publish must never leave the database of one run beside the Parquet export of
    another. Publish writes everything into the new run's snapshot first; the one switch is the rename of
    `current`. Killed just before that rename, readers still see the old run whole; publish then runs again."""
    import shutil

    from pipelines.warehouse import Warehouse

    wh = tmp_path / "wh"
    shutil.copytree(reference, wh, symlinks=True)
    cfg = write_config(sample, wh, tmp_path / "mdm.yaml")
    before = published_state(wh)
    old_run = Warehouse(wh).latest_run()
    run_id = runner.start_run(cfg, full=True)
    run_stages(cfg, run_id, STAGES[:-1])
    real_link = Warehouse._link

    def killed(self: Warehouse, name: str, target: str, rid: str) -> None:
        if name == "current":
            raise KeyboardInterrupt("killed before the switch")
        real_link(self, name, target, rid)

    monkeypatch.setattr(Warehouse, "_link", killed)
    with pytest.raises(KeyboardInterrupt):
        runner.run_stage(cfg, run_id, "publish")
    assert published_state(wh) == before and Warehouse(wh).latest_run() == old_run
    monkeypatch.setattr(Warehouse, "_link", real_link)
    runner.run_stage(cfg, run_id, "publish")  # the retry finishes the switch
    assert Warehouse(wh).latest_run() == run_id
    assert (wh / "parquet").resolve().parent.name == run_id and (wh / "mdm.duckdb").resolve().parent.name == run_id
    assert not (wh / ".runs" / run_id).exists()


def test_staging_of_a_run_that_can_never_publish_is_swept_at_the_next_start(sample: Path, tmp_path: Path) -> None:
    """Issue 12: killed or abandoned runs must not leave staging folders (clear-text landings) forever."""
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    dead = runner.start_run(cfg)
    run_stages(cfg, dead, STAGES[:2])  # landings written, then the run is abandoned (e.g. SIGKILL)
    assert list((tmp_path / "wh" / ".runs" / dead / "raw").rglob("*.parquet"))
    runner.run(cfg)  # another run publishes: the dead one started from an older state and can never publish
    live = runner.start_run(cfg)  # the next start sweeps it
    assert not (tmp_path / "wh" / ".runs" / dead).exists()
    assert (tmp_path / "wh" / ".runs" / f"{dead}.failed.json").is_file()
    assert (tmp_path / "wh" / ".runs" / live).is_dir()
    runner.abort_run(cfg, live)
