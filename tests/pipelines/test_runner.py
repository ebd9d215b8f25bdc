"""The runner on a generated sample: what a run publishes, reruns, the stage-by-stage API, atomic
publishing when a run fails, the guard against two runs publishing from the same base, and duplicate
natural keys."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from pipelines import runner
from pipelines.errors import MdmError, SourceError
from pipelines.runner import STAGES, RunError
from pipelines.sample import generate
from pipelines.warehouse import PARQUET_TABLES, Warehouse

ENTITIES = 300
SEED = 11
PUBLISHED_TABLES = (
    "xref",
    "golden_organization",
    "golden_attribute_lineage",
    "run_log",
    "organization_record",
    "match_pair",
    "relationship",
    "financial_fact",
    "account",
    "balance",
    "load_issue",
)


# --- helpers ---------------------------------------------------------------------------------------


def write_config(
    sample: Path, warehouse: Path, dest: Path, limits: dict[str, dict[str, Any]] | None = None, **replace: str
) -> Path:
    """The sample's mdm.yaml rewritten with absolute paths, the given warehouse and some sources
    pointed elsewhere (``name=path`` for file sources, ``name=url`` for SQL ones); ``limits`` sets
    per-source validation limits."""
    raw = yaml.safe_load((sample / "mdm.yaml").read_text(encoding="utf-8"))
    raw["warehouse"] = str(warehouse)
    for s in raw["sources"]:
        if limits and s["name"] in limits:
            s["validation"] = limits[s["name"]]
        if "path" in s:
            s["path"] = str(sample / s["path"])
        if "url" in s:
            s["url"] = "sqlite:///" + str(sample / s["url"].removeprefix("sqlite:///"))
        if s["name"] in replace:
            s["url" if s["format"] == "sql" else "path"] = replace[s["name"]]
    if raw.get("marts", {}).get("fx_rates"):
        raw["marts"]["fx_rates"] = str(sample / raw["marts"]["fx_rates"])
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def run_stages(cfg: Path, run_id: str, stages: tuple[str, ...] = STAGES) -> list[dict[str, Any]]:
    """Run the given stages of a started run one call at a time, the way the Airflow DAG does."""
    return [runner.run_stage(cfg, run_id, stage) for stage in stages]


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def xref_ids(warehouse: Path) -> list[tuple]:
    return query(warehouse, "SELECT source, source_id, golden_id FROM xref ORDER BY source, source_id")


def golden_rows(warehouse: Path) -> list[tuple]:
    return query(warehouse, "SELECT * EXCLUDE (run_id) FROM golden_organization ORDER BY golden_id")


def published_state(warehouse: Path) -> dict[str, str]:
    """sha256 of mdm.duckdb and of every file under parquet/ (through its symlink), plus the link target."""
    state = {"mdm.duckdb": hashlib.sha256((warehouse / "mdm.duckdb").read_bytes()).hexdigest()}
    parquet = warehouse / "parquet"
    state["parquet ->"] = str(parquet.resolve())
    for f in sorted(parquet.rglob("*")):
        if f.is_file():
            state[f"parquet/{f.relative_to(parquet)}"] = hashlib.sha256(f.read_bytes()).hexdigest()
    return state


def truth(sample: Path) -> set[tuple[str, str]]:
    with (sample / "truth.csv").open(encoding="utf-8", newline="") as fh:
        return {(r["source"], r["source_id"]) for r in csv.DictReader(fh)}


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A generated sample (never modified by the tests) and the record counts generate() reported."""
    out = tmp_path_factory.mktemp("sample")
    return out, generate(out, entities=ENTITIES, seed=SEED)


@pytest.fixture(scope="module")
def sample(generated: tuple[Path, dict[str, int]]) -> Path:
    return generated[0]


@pytest.fixture(scope="module")
def published(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, runner.RunSummary]:
    """One good run of the sample into a fresh warehouse (read-only for the tests that use it)."""
    base = tmp_path_factory.mktemp("published")
    cfg = write_config(sample, base / "wh", base / "mdm.yaml")
    return cfg, runner.run(cfg)


# --- what a run publishes --------------------------------------------------------------------------


def test_run_publishes_every_table(published: tuple[Path, runner.RunSummary]) -> None:
    _, summary = published
    wh = summary.warehouse
    assert summary.ok
    assert (wh / "mdm.duckdb").is_file()
    tables = {t for (t,) in query(wh, "SELECT table_name FROM information_schema.tables")}
    assert set(PUBLISHED_TABLES) <= tables
    for t in (
        "xref",
        "golden_organization",
        "golden_attribute_lineage",
        "organization_record",
        "match_pair",
        "relationship",
        "financial_fact",
        "account",
        "balance",
    ):
        assert query(wh, f"SELECT count(*) FROM {t}")[0][0] > 0, t
    assert summary.golden_records == query(wh, "SELECT count(*) FROM golden_organization")[0][0]
    assert Warehouse(wh).latest_run() == summary.run_id


def test_run_log_has_one_success_row_per_stage_in_order(published: tuple[Path, runner.RunSummary]) -> None:
    _, summary = published
    rows = query(
        summary.warehouse,
        "SELECT run_id, stage, status, rows_in, rows_out, started_at, finished_at FROM run_log ORDER BY started_at",
    )
    assert [r[1] for r in rows] == list(STAGES)
    assert {r[0] for r in rows} == {summary.run_id}
    assert all(r[2] == "success" for r in rows)
    assert all(r[5] is not None and r[6] is not None and r[5] <= r[6] for r in rows)
    assert [s.stage for s in summary.stages] == list(STAGES)
    validated = json.loads(query(summary.warehouse, "SELECT detail FROM run_log WHERE stage = 'validate'")[0][0])
    assert validated["records_per_source"] == summary.records_per_source


def test_xref_has_one_row_per_truth_record(sample: Path, published: tuple[Path, runner.RunSummary]) -> None:
    _, summary = published
    wh = summary.warehouse
    rows = query(wh, "SELECT source, source_id FROM xref")
    assert len(rows) == len(set(rows)), "xref holds a (source, source_id) twice"
    expected = truth(sample)
    assert set(rows) == expected
    assert not [r for r in rows if r[0] == "gleif_rr"]
    per_source: dict[str, int] = {}
    for s, _ in expected:
        per_source[s] = per_source.get(s, 0) + 1
    assert {k: v for k, v in summary.records_per_source.items() if v} == per_source
    # Every record has a golden id, and golden records and xref agree.
    assert query(wh, "SELECT count(*) FROM xref WHERE golden_id IS NULL")[0][0] == 0
    assert {g for (g,) in query(wh, "SELECT DISTINCT golden_id FROM xref")} == {
        g for (g,) in query(wh, "SELECT golden_id FROM golden_organization")
    }
    assert query(wh, "SELECT count(*), count(DISTINCT golden_id) FROM golden_organization")[0] == (
        summary.golden_records,
        summary.golden_records,
    )
    assert (
        query(wh, "SELECT count(*) FROM golden_attribute_lineage l ANTI JOIN golden_organization g USING (golden_id)")[
            0
        ][0]
        == 0
    )
    assert query(
        wh,
        "SELECT count(*) FROM organization_record o JOIN xref x USING (source, source_id) "
        "WHERE o.golden_id = x.golden_id",
    )[0][0] == len(rows)


def test_satellite_tables_hold_the_sample(
    generated: tuple[Path, dict[str, int]], published: tuple[Path, runner.RunSummary]
) -> None:
    _, counts = generated
    _, summary = published
    wh = summary.warehouse
    assert query(wh, "SELECT count(*) FROM relationship")[0][0] == counts["gleif_rr"]
    assert query(wh, "SELECT count(*) FROM account")[0][0] == counts["crm_accounts"]
    assert query(wh, "SELECT count(*) FROM balance")[0][0] == counts["crm_balances"]
    n_fact, n_cik = query(wh, "SELECT count(*), count(DISTINCT source_id) FROM financial_fact")[0]
    assert 0 < n_fact <= counts["sec_facts"]
    assert n_cik <= counts["sec"]


def test_parquet_snapshot_matches_duckdb(published: tuple[Path, runner.RunSummary]) -> None:
    _, summary = published
    wh = summary.warehouse
    parquet = wh / "parquet"
    assert {"xref", "golden_organization", "golden_attribute_lineage"} <= set(PARQUET_TABLES)
    for table in PARQUET_TABLES:
        t = pq.read_table(parquet / f"{table}.parquet")
        assert t.num_rows == query(wh, f"SELECT count(*) FROM {table}")[0][0], table
    golden = pq.read_table(parquet / "golden_organization.parquet")
    duck_cols = [
        c
        for (c,) in query(
            wh,
            "SELECT column_name FROM information_schema.columns WHERE "
            "table_name = 'golden_organization' ORDER BY ordinal_position",
        )
    ]
    assert golden.column_names == duck_cols
    assert sorted(golden.column("golden_id").to_pylist()) == [
        g for (g,) in query(wh, "SELECT golden_id FROM golden_organization ORDER BY golden_id")
    ]


def test_raw_landings_carry_lineage(sample: Path, published: tuple[Path, runner.RunSummary]) -> None:
    cfg_path, summary = published
    wh = summary.warehouse
    cfg = runner.load_config(cfg_path)
    expected_tables = {
        "gleif": {"organization"},
        "gleif_rr": {"relationship"},
        "cn_registry": {"organization"},
        "uk_registry": {"organization"},
        "sec": {"organization", "financial_fact"},
        "crm": {"organization", "account", "balance"},
    }
    for name, tables in expected_tables.items():
        load = wh / "raw" / name / f"load={summary.run_id}"
        assert load.is_dir(), load
        assert {p.name for p in load.iterdir() if p.is_dir()} == tables
        # The quality tally of the organisation rows (pipelines.quality_changes) is kept with their landing.
        assert (load / "_quality.json").is_file() == ("organization" in tables), name
        assert {p.name for p in load.iterdir() if not p.is_dir()} <= {"_quality.json"}
        src = cfg.source(name)
        for table in tables:
            parts = sorted((load / table).glob("part-*.parquet"))
            assert parts, (name, table)
            data = pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True)
            assert len(data) > 0
            assert data["src_file"].notna().all() and data["src_line"].notna().all()
            assert (data["src_line"] >= 1).all()
            assert (data["source"] == name).all()
            location = str(src.path) if src.path is not None else str(src.url)
            assert data["src_file"].map(lambda f, loc=location: f.startswith(loc)).all(), (
                name,
                data["src_file"].iloc[0],
            )
    # No landing stays behind in a staging folder.
    assert not list((wh / ".runs").rglob("*.parquet"))


def test_successful_run_leaves_no_staging_folder(published: tuple[Path, runner.RunSummary]) -> None:
    _, summary = published
    runs = summary.warehouse / ".runs"
    assert not (runs / summary.run_id).exists()
    assert [p for p in runs.iterdir() if p.is_dir()] == []


# --- reruns and the stage-by-stage API ---------------------------------------------------------------


def test_rerun_on_same_input_keeps_xref_and_golden_records(sample: Path, tmp_path: Path) -> None:
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    first = runner.run(cfg)
    xref1, golden1 = xref_ids(first.warehouse), golden_rows(first.warehouse)
    second = runner.run(cfg)
    assert second.run_id != first.run_id
    assert xref_ids(second.warehouse) == xref1
    assert golden_rows(second.warehouse) == golden1
    # Nothing changed: an incremental rerun carries every golden record over, still marked with the run
    # that computed it.
    assert query(second.warehouse, "SELECT DISTINCT run_id FROM golden_organization") == [(first.run_id,)]
    assert query(second.warehouse, "SELECT count(*) FROM golden_id_redirect")[0][0] == 0
    assert query(second.warehouse, "SELECT DISTINCT id_origin FROM xref") == [("kept",)]
    assert query(second.warehouse, "SELECT DISTINCT run_id FROM xref") == [(second.run_id,)]
    # Both runs are logged; the second publish swapped the Parquet link to its own snapshot.
    assert query(second.warehouse, "SELECT count(DISTINCT run_id) FROM run_log")[0][0] == 2
    assert (second.warehouse / "parquet").resolve().parent.name == second.run_id


def test_stage_by_stage_equals_run(sample: Path, published: tuple[Path, runner.RunSummary], tmp_path: Path) -> None:
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    run_id = runner.start_run(cfg)
    with pytest.raises(RunError, match="next stage is 'extract'"):
        runner.run_stage(cfg, run_id, "match")
    results = [runner.run_stage(cfg, run_id, "extract")]
    # A completed stage run again (a retried or cleared Airflow task) returns its recorded result.
    again = runner.run_stage(cfg, run_id, "extract")
    assert {k: v for k, v in again.items() if k != "seconds"} == {k: v for k, v in results[0].items() if k != "seconds"}
    with pytest.raises(RunError, match="next stage is 'validate'"):
        runner.run_stage(cfg, run_id, "publish")
    with pytest.raises(RunError, match="unknown stage"):
        runner.run_stage(cfg, run_id, "load")
    results += run_stages(cfg, run_id, STAGES[1:])
    assert [r["stage"] for r in results] == list(STAGES)
    json.dumps(results)  # what Airflow passes between tasks must be JSON
    wh = tmp_path / "wh"
    assert Warehouse(wh).latest_run() == run_id
    _, reference = published
    assert xref_ids(wh) == xref_ids(reference.warehouse)
    assert golden_rows(wh) == golden_rows(reference.warehouse)
    assert [s for (s,) in query(wh, "SELECT stage FROM run_log ORDER BY started_at")] == list(STAGES)


def test_run_stage_of_unknown_run_raises(sample: Path, tmp_path: Path) -> None:
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    with pytest.raises(RunError, match="no-such-run"):
        runner.run_stage(cfg, "no-such-run", "extract")


def test_publish_of_a_finished_run_returns_its_result_and_touches_nothing(sample: Path, tmp_path: Path) -> None:
    """An Airflow retry or clear of publish (or of any stage) after the run published must not touch the
    warehouse: it returns the recorded result."""
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    run_id = runner.start_run(cfg)
    results = run_stages(cfg, run_id)
    before = published_state(tmp_path / "wh")
    again = runner.run_stage(cfg, run_id, "publish")
    assert (again["rows_in"], again["rows_out"]) == (results[-1]["rows_in"], results[-1]["rows_out"])
    assert runner.run_stage(cfg, run_id, "match")["rows_out"] == results[STAGES.index("match")]["rows_out"]
    assert published_state(tmp_path / "wh") == before


# --- atomicity -------------------------------------------------------------------------------------


def _truncated_gleif(sample: Path, bad: Path) -> tuple[str, str]:
    data = (sample / "registry" / "gleif_lei2.xml").read_bytes()
    out = bad / "gleif_lei2.xml"
    out.write_bytes(data[: len(data) * 2 // 3])
    return "gleif", str(out)


def _csv_missing_column(sample: Path, bad: Path) -> tuple[str, str]:
    src = sample / "registry" / "uk_basiccompany.csv"
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    drop = [n.strip() for n in rows[0]].index("CompanyNumber")
    out = bad / "uk_basiccompany.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(r[:drop] + r[drop + 1 :] for r in rows)
    return "uk_registry", str(out)


def _crm_table_dropped(sample: Path, bad: Path) -> tuple[str, str]:
    out = bad / "crm.sqlite"
    shutil.copy(sample / "internal" / "crm.sqlite", out)
    con = sqlite3.connect(out)
    con.execute("DROP TABLE customers")
    con.commit()
    con.close()
    return "crm", "sqlite:///" + str(out)


BREAKERS = {
    "truncated_gleif_xml": (_truncated_gleif, "gleif_lei2.xml"),
    "csv_missing_required_column": (_csv_missing_column, "CompanyNumber"),
    "sqlite_table_dropped": (_crm_table_dropped, "customers"),
}


@pytest.mark.parametrize("case", list(BREAKERS))
def test_failed_run_leaves_published_state_untouched(sample: Path, tmp_path: Path, case: str) -> None:
    wh = tmp_path / "wh"
    good = write_config(sample, wh, tmp_path / "good.yaml")
    first = runner.run(good)
    before = published_state(wh)
    xref_before = xref_ids(wh)
    runs_before = set((wh / ".runs").iterdir())
    raw_before = sorted(p.relative_to(wh) for p in (wh / "raw").rglob("*"))
    snapshots_before = sorted((wh / "snapshots").iterdir())

    breaker, what = BREAKERS[case]
    (tmp_path / "bad").mkdir()
    source, location = breaker(sample, tmp_path / "bad")
    bad = write_config(sample, wh, tmp_path / "bad.yaml", **{source: location})
    with pytest.raises(MdmError) as exc:
        runner.run(bad)
    assert isinstance(exc.value, SourceError)
    msg = str(exc.value)
    assert f"source '{source}'" in msg
    assert location in msg
    assert what in msg
    assert exc.value.source == source

    # Published state byte for byte as before, nothing of the failed run anywhere but its report.
    assert published_state(wh) == before
    new = set((wh / ".runs").iterdir()) - runs_before
    assert len(new) == 1
    (report,) = new
    assert report.is_file() and report.name.endswith(".failed.json")
    assert all(p.is_file() and p.name.endswith(".failed.json") for p in (wh / ".runs").iterdir())
    failed_id = report.name.removesuffix(".failed.json")
    assert not (wh / ".runs" / failed_id).exists()
    reason = json.loads(report.read_text())
    assert reason["run_id"] == failed_id and source in reason["reason"]
    assert sorted(p.relative_to(wh) for p in (wh / "raw").rglob("*")) == raw_before
    assert sorted((wh / "snapshots").iterdir()) == snapshots_before
    assert Warehouse(wh).latest_run() == first.run_id

    # The warehouse still works: the next good run publishes on top of the first.
    again = runner.run(good)
    assert query(wh, "SELECT DISTINCT run_id FROM xref") == [(again.run_id,)]
    assert xref_ids(wh) == xref_before
    assert published_state(wh)["mdm.duckdb"] != before["mdm.duckdb"]


def test_failed_first_run_publishes_nothing(sample: Path, tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    (tmp_path / "bad").mkdir()
    source, location = _truncated_gleif(sample, tmp_path / "bad")
    bad = write_config(sample, wh, tmp_path / "bad.yaml", **{source: location})
    with pytest.raises(SourceError, match="gleif"):
        runner.run(bad)
    assert not (wh / "mdm.duckdb").exists()
    assert not (wh / "parquet").exists() and not (wh / "parquet").is_symlink()
    assert not (wh / "raw").exists() or not list((wh / "raw").rglob("*.parquet"))
    assert [p.name.endswith(".failed.json") for p in (wh / ".runs").iterdir()] == [True]
    assert Warehouse(wh).latest_run() is None


def test_second_publish_from_same_base_is_refused(sample: Path, tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    cfg = write_config(sample, wh, tmp_path / "mdm.yaml")
    first = runner.start_run(cfg)
    second = runner.start_run(cfg)
    assert first != second
    run_stages(cfg, first)
    assert Warehouse(wh).latest_run() == first
    after_first = published_state(wh)
    run_stages(cfg, second, STAGES[:-1])
    with pytest.raises(RunError) as exc:
        runner.run_stage(cfg, second, "publish")
    assert first in str(exc.value)
    assert published_state(wh) == after_first
    assert Warehouse(wh).latest_run() == first
    assert query(wh, "SELECT DISTINCT run_id FROM xref") == [(first,)]
    assert query(wh, f"SELECT count(*) FROM run_log WHERE run_id = '{second}'")[0][0] == 0
    assert not list((wh / "raw").glob(f"*/load={second}"))
    assert not (wh / "snapshots" / second).exists()
    runner.abort_run(cfg, second, reason="refused")
    assert not (wh / ".runs" / second).exists()
    assert (wh / ".runs" / f"{second}.failed.json").is_file()
    assert published_state(wh) == after_first


def test_run_ids_sort_in_start_order_even_within_one_second(sample: Path, tmp_path: Path) -> None:
    """The concurrency guard compares run ids; ids started within the same second must still sort in
    start order and never collide."""
    cfg = write_config(sample, tmp_path / "wh", tmp_path / "mdm.yaml")
    ids = [runner.start_run(cfg) for _ in range(20)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    for run_id in ids:
        runner.abort_run(cfg, run_id)


def test_duplicate_natural_key_is_loaded_once_and_reported(sample: Path, tmp_path: Path) -> None:
    src = sample / "registry" / "cn_registry.csv"
    data = src.read_bytes()
    assert data.endswith(b"\r\n")
    with src.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        code_col = header.index("统一社会信用代码")
        row, kept_line = next((r, reader.line_num) for r in reader if r[code_col].strip())
    key = row[code_col].strip().upper()
    dup_line = data.count(b"\n") + 1
    copy = tmp_path / "cn_registry.csv"
    with copy.open("wb") as fh:
        fh.write(data)
    with copy.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerow(row)

    wh = tmp_path / "wh"
    # One duplicated key among ~100 rows is beyond the default duplicate limit (0.1%): first the batch failure...
    with pytest.raises(
        MdmError,
        match=r"source 'cn_registry' \(file .*cn_registry.csv\): expectation "
        r"expect_column_values_to_be_unique on column 'source_id' failed",
    ):
        runner.run(write_config(sample, wh, tmp_path / "mdm.yaml", cn_registry=str(copy)))
    assert not (wh / "mdm.duckdb").exists()
    # ... then, with the limit raised for this source, a load with a counted warning.
    summary = runner.run(
        write_config(
            sample,
            wh,
            tmp_path / "mdm.yaml",
            limits={"cn_registry": {"max_duplicate_rate": 0.05}},
            cn_registry=str(copy),
        )
    )
    assert query(wh, f"SELECT count(*) FROM xref WHERE source = 'cn_registry' AND source_id = '{key}'")[0][0] == 1
    assert query(wh, "SELECT count(*) FROM xref WHERE source = 'cn_registry'")[0][0] == len(
        [t for t in truth(sample) if t[0] == "cn_registry"]
    )
    issues = query(wh, "SELECT run_id, source, file, line, key, message FROM load_issue WHERE code = 'duplicate_key'")
    assert issues == [
        (
            summary.run_id,
            "cn_registry",
            str(copy),
            dup_line,
            key,
            f"duplicate natural key within the source; kept the row at line {kept_line}",
        )
    ]
    assert summary.warnings >= 1
