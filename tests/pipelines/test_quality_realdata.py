"""Quality of the real Chinese enterprise register extract (78,242 rows, read in place from
../shared/realdata; skipped when absent): how its identifiers are classified, the one duplicate USCC,
and what ``mdm quality`` shows.

One run with the register as the only source. The counts are pinned twice: in the staging database
right after the validate stage, and in the published warehouse after the whole run.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines import runner
from pipelines.cli import app
from pipelines.runner import STAGES

pytestmark = pytest.mark.realdata

CN_FILE = ("cn-enterprise-registry", "cn-enterprise-registration-1998-all-provinces.csv")
ROWS = 78_242
CLASSES = {"uscc": 77_924, "uscc_bad_check": 4, "legacy_registration": 276, "other_format": 38}
DUPLICATE_USCC = "91430900748377342E"


@pytest.fixture(scope="module")
def real(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run, stage by stage: what the staging database holds after validate, then the rest of the run
    (its exception, if any, is kept for the tests of the published warehouse)."""
    root = tmp_path_factory.mktemp("cn_quality")
    cfg = root / "mdm.yaml"
    cfg.write_text(
        f"warehouse: {root / 'warehouse'}\n"
        f'sources:\n  - {{name: cn, format: cn_registry_csv, path: "{realdata.joinpath(*CN_FILE)}"}}\n',
        encoding="utf-8",
    )
    run_id = runner.start_run(cfg)
    staged: dict[str, list[tuple]] = {}
    error: BaseException | None = None
    try:
        for stage in STAGES[: STAGES.index("validate") + 1]:
            runner.run_stage(cfg, run_id, stage)
        con = duckdb.connect(str(root / "warehouse" / ".runs" / run_id / runner.WORK_DB), read_only=True)
        try:
            staged["classes"] = con.execute(
                "SELECT source, attribute, class, rows FROM run_identifier_quality"
            ).fetchall()
            staged["metrics"] = con.execute(
                "SELECT attribute, completeness, validity, uniqueness, rows FROM run_quality"
            ).fetchall()
            staged["issues"] = con.execute("SELECT code, key FROM run_issue").fetchall()
            staged["quarantine"] = con.execute("SELECT count(*) FROM run_quarantine").fetchall()
        finally:
            con.close()
        for stage in STAGES[STAGES.index("validate") + 1 :]:
            runner.run_stage(cfg, run_id, stage)
    except Exception as e:
        error = e
        runner.abort_run(cfg, run_id, reason=repr(e))
    return {"cfg": cfg, "run_id": run_id, "warehouse": root / "warehouse", "staged": staged, "error": error}


def published(real: dict) -> Path:
    """The published warehouse; re-raises what stopped the run."""
    if real["error"] is not None:
        raise real["error"]
    return real["warehouse"]


def q(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# --- after the validate stage ------------------------------------------------------------------------


def test_staged_identifier_classes(real: dict) -> None:
    assert sum(CLASSES.values()) == ROWS
    assert {c: n for s, a, c, n in real["staged"]["classes"] if (s, a) == ("cn", "uscc")} == CLASSES
    assert {(s, a) for s, a, _, _ in real["staged"]["classes"]} == {("cn", "uscc")}
    assert real["staged"]["quarantine"] == [(0,)]


def test_staged_metrics_and_the_duplicate_uscc(real: dict) -> None:
    m = {a: (c, v, u, n) for a, c, v, u, n in real["staged"]["metrics"]}
    assert m["name"][0] == 1.0 and m["name"][3] == ROWS
    completeness, validity, uniqueness, _ = m["source_id"]
    assert completeness == 1.0
    assert validity == pytest.approx((CLASSES["uscc"] + CLASSES["legacy_registration"]) / ROWS)
    assert uniqueness == pytest.approx((ROWS - 1) / ROWS) and uniqueness < 1
    assert [k for c, k in real["staged"]["issues"] if c == "duplicate_key"] == [DUPLICATE_USCC]


# --- in the published warehouse and `mdm quality` ----------------------------------------------------


def test_published_identifier_quality(real: dict) -> None:
    wh = published(real)
    rows = q(wh, "SELECT class, rows FROM identifier_quality WHERE source = 'cn' AND attribute = 'uscc'")
    assert dict(rows) == CLASSES
    assert q(wh, "SELECT sum(rows) FROM source_load WHERE source = 'cn'") == [(ROWS,)]


def test_published_metrics_and_the_duplicate_uscc(real: dict) -> None:
    wh = published(real)
    m = {
        a: (c, u)
        for a, c, u in q(wh, "SELECT attribute, completeness, uniqueness FROM quality_metrics WHERE source = 'cn'")
    }
    assert m["name"][0] == 1.0
    assert m["source_id"][1] < 1
    assert q(wh, "SELECT key FROM load_issue WHERE code = 'duplicate_key'") == [(DUPLICATE_USCC,)]
    assert q(wh, "SELECT count(*) FROM xref WHERE source = 'cn'") == [(ROWS - 1,)]


def test_mdm_quality_shows_the_counts(real: dict) -> None:
    published(real)
    res = CliRunner().invoke(app, ["quality", "--config", str(real["cfg"])])
    assert res.exit_code == 0, res.output
    out = res.output
    assert f"Quality of run {real['run_id']} (first run)" in out
    assert "cn: 78,242 rows" in out
    lines = [ln for ln in out.splitlines() if "│ cn " in ln and "uscc" in ln]
    for cls, n in CLASSES.items():
        assert any(f" {cls} " in ln and f" {n:,} " in ln for ln in lines), (cls, n, lines)
    assert any("duplicate_key" in ln and " 1 " in ln for ln in out.splitlines())
