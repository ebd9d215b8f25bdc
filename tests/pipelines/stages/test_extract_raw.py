"""Extract in an incremental run: the raw account, balance and financial fact tables are the published ones
with only the (source, table) pairs whose landing changed loaded again, and ``run_reloaded`` lists those
pairs. Each step below changes the inputs, runs incrementally, runs the same inputs as a full run from the
same published state, and compares the published tables as multisets."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml

from mdm.schema import TABLES
from pipelines import runner
from pipelines.landing_merge import PROVENANCE
from pipelines.sample import generate
from pipelines.stages import STAGES, stage_function
from pipelines.warehouse import sql_text
from tests.conftest import query_warehouse, sample_config

COMPARED = ("account", "balance", "financial_fact", "relationship")
KEPT = ("financial_fact", "account", "balance")
SMALL_CRM = 25  # customers of the second database source


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def change_one_sec_fact(sample: Path) -> None:
    """Add 1 to the value of the first fact of a generated sample's SEC num.txt."""
    num = sample / "financials" / "num.txt"
    lines = num.read_text(encoding="utf-8").splitlines(keepends=True)
    cols = lines[1].split("\t")
    cols[8] = str(float(cols[8]) + 1)
    lines[1] = "\t".join(cols)
    num.write_text("".join(lines), encoding="utf-8")


def _config(sample: Path, wh: Path, dest: Path, second_crm: bool = True) -> Path:
    """The sample's config with a second, small CRM database (``crm_b``) beside ``crm``."""
    cfg = sample_config(sample, wh, dest, incremental=True)
    raw = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    crm = next(s for s in raw["sources"] if s["name"] == "crm")
    if second_crm:
        raw["sources"].append(crm | {"name": "crm_b", "url": "sqlite:///" + str(sample / "internal" / "crm_b.sqlite")})
    cfg.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return cfg


def _small_crm(sample: Path) -> None:
    """crm_b.sqlite: the first customers of the CRM with their accounts and balances."""
    dest = sample / "internal" / "crm_b.sqlite"
    shutil.copy2(sample / "internal" / "crm.sqlite", dest)
    con = sqlite3.connect(dest)
    keep = [r[0] for r in con.execute("SELECT source_id FROM customers ORDER BY source_id LIMIT ?", (SMALL_CRM,))]
    marks = ",".join("?" * len(keep))
    con.execute(f"DELETE FROM customers WHERE source_id NOT IN ({marks})", keep)
    con.execute(f"DELETE FROM accounts WHERE source_id NOT IN ({marks})", keep)
    con.execute("DELETE FROM balances WHERE account_id NOT IN (SELECT account_id FROM accounts)")
    assert con.execute("SELECT count(*) FROM balances").fetchone()[0] > 0
    con.commit()
    con.close()


def _run(cfg: Path, full: bool = False, crash_extract: bool = False) -> dict[str, Any]:
    """A run stage by stage; returns its id, the extract detail and run_reloaded as it was after extract.
    ``crash_extract``: extract does all its work, then fails once, and is run again."""
    run_id = runner.start_run(cfg, full=full)
    wh = Path(yaml.safe_load(cfg.read_text(encoding="utf-8"))["warehouse"])
    if crash_extract:
        real = stage_function("extract")

        def crashing(con: Any, ctx: Any) -> Any:
            real(con, ctx)
            raise RuntimeError("simulated crash at the end of extract")

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(runner, "stage_function", lambda name: crashing if name == "extract" else stage_function(name))
            with pytest.raises(RuntimeError, match="simulated crash"):
                runner.run_stage(cfg, run_id, "extract")
    extract = runner.run_stage(cfg, run_id, "extract")
    con = duckdb.connect(str(wh / ".runs" / run_id / "work.duckdb"), read_only=True)
    try:
        reloaded = set(con.execute("SELECT table_name, source FROM run_reloaded").fetchall())
        assert con.execute("SELECT count(*) FROM (SELECT DISTINCT * FROM run_reloaded)").fetchall()[0][0] == len(
            reloaded
        )
    finally:
        con.close()
    for stage in STAGES[1:]:
        runner.run_stage(cfg, run_id, stage)
    con = duckdb.connect(str(wh / "mdm.duckdb"), read_only=True)
    try:  # the export state of the kept tables as published, and their fingerprint computed again
        state = {
            t: (fp, ch)
            for t, fp, ch in con.execute("SELECT table_name, fingerprint, changed FROM export_state").fetchall()
        }
        fingerprint = sql_text("publish/fingerprint")
        prints = {t: (state[t][0], con.execute(fingerprint, {"table": t}).fetchall()[0][1], state[t][1]) for t in KEPT}
    finally:
        con.close()
    return {"run_id": run_id, "detail": extract["detail"], "reloaded": reloaded, "prints": prints}


def _differences(a: Path, b: Path) -> dict[str, tuple[int, int, int]]:
    """table -> (rows only in a, rows only in b, rows of a), as multisets (EXCEPT ALL both ways) of every
    column but the provenance (src_file, src_line): a row a change-captured read landed again says so there
    (the changes query and its row number), where a full read names the whole query."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH $p AS a (READ_ONLY)", {"p": str(a / "mdm.duckdb")})
        con.execute("ATTACH $p AS b (READ_ONLY)", {"p": str(b / "mdm.duckdb")})
        out = {}
        for t in COMPARED:  # table names are constants of this module
            cols = ", ".join(c for c in TABLES[t] if c not in PROVENANCE)
            a_b = f"SELECT {cols} FROM a.{t} EXCEPT ALL SELECT {cols} FROM b.{t}"
            b_a = f"SELECT {cols} FROM b.{t} EXCEPT ALL SELECT {cols} FROM a.{t}"
            out[t] = tuple(
                con.execute(f"SELECT count(*) FROM ({q})").fetchall()[0][0] for q in (a_b, b_a, f"FROM a.{t}")
            )
        return out
    finally:
        con.close()


def _differences_from_landings(wh: Path, run_id: str) -> dict[str, tuple[int, int, int]]:
    """table -> (rows only published, rows only landed, rows) for the kept tables: what a published run put
    in them against every landing of that run (all columns: what loading every landing gives)."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH $p AS w (READ_ONLY)", {"p": str(wh / "mdm.duckdb")})
        out = {}
        for t in KEPT:
            files = sorted(str(p) for p in (wh / "raw").glob(f"*/load={run_id}/{t}/*.parquet"))
            landed = "SELECT * FROM read_parquet($files, hive_partitioning = false)"
            out[t] = tuple(
                con.execute(f"SELECT count(*) FROM ({q})", {"files": files}).fetchall()[0][0]
                for q in (f"FROM w.{t} EXCEPT ALL {landed}", f"{landed} EXCEPT ALL FROM w.{t}", f"{landed}")
            )
        return out
    finally:
        con.close()


def _landed_pairs(wh: Path, run_id: str) -> set[tuple[str, str]]:
    """(table, source) pairs with rows in a published run's landings, counted from the Parquet footers."""
    pairs = set()
    for part in (wh / "raw").glob(f"*/load={run_id}/*/*.parquet"):
        if pq.ParquetFile(part).metadata.num_rows:
            pairs.add((part.parent.name, part.parent.parent.parent.name))
    return pairs


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("extract_raw")
    sample = tmp / "sample"
    generate(sample, entities=120, seed=23)
    _small_crm(sample)
    wh = tmp / "wh"
    cfg = _config(sample, wh, tmp / "mdm.yaml")
    out: dict[str, Any] = {"wh": wh, "first": _run(cfg)}

    def step(name: str, cfg: Path = cfg, crash_extract: bool = False) -> None:
        """An incremental run of the changed inputs, and a full run of them from the same published state."""
        full_wh = tmp / f"full-{name}"
        shutil.copytree(wh, full_wh, symlinks=True)
        raw = yaml.safe_load(cfg.read_text(encoding="utf-8")) | {"warehouse": str(full_wh)}
        full_cfg = tmp / f"full-{name}.yaml"
        full_cfg.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        inc = _run(cfg, crash_extract=crash_extract)
        full = _run(full_cfg, full=True)
        out[name] = {
            "inc": inc,
            "full": full,
            "full_wh": full_wh,
            "diff": _differences(wh, full_wh),
            "landed": _differences_from_landings(wh, inc["run_id"]),
        }

    crm = sqlite3.connect(sample / "internal" / "crm.sqlite")
    # 1. Customers only: two CRM customers edited (every file source unchanged, no account or balance).
    ids = [r[0] for r in crm.execute("SELECT source_id FROM customers ORDER BY source_id DESC LIMIT 2")]
    crm.executemany(
        "UPDATE customers SET city = 'Leeds', updated_at = ? WHERE source_id = ?", [(_stamp(), i) for i in ids]
    )
    crm.commit()
    step("customers")
    # 2. Some balances of the CRM changed (crm_b, the other database, is unchanged).
    months = crm.execute("SELECT account_id, month FROM balances ORDER BY account_id, month LIMIT 3").fetchall()
    crm.executemany(
        "UPDATE balances SET balance = balance + 1000, updated_at = ? WHERE account_id = ? AND month = ?",
        [(_stamp(), a, m) for a, m in months],
    )
    crm.commit()
    out["balances_changed"] = len(months)
    step("balances", crash_extract=True)  # the renamed published tables come back with the rollback
    # 3. A file source changed: one SEC fact's value (the SEC's financial facts are read again).
    change_one_sec_fact(sample)
    step("sec")
    # 4. After an apply run (steward decisions applied, no source loaded): the published tables are the
    # last load's, but the plan's base loads are not the published run: every landing is loaded again.
    out["apply"] = runner.apply_decisions(cfg).run_id
    step("after_apply")
    # 5. A source removed from the config: its rows leave the kept tables.
    step("removed", cfg=_config(sample, wh, tmp / "mdm-one-crm.yaml", second_crm=False))
    crm.close()
    return out


def _only(reloaded: set[tuple[str, str]], tables: tuple[str, ...] = KEPT) -> set[tuple[str, str]]:
    return {(t, s) for t, s in reloaded if t in tables}


@pytest.mark.parametrize("name", ["customers", "balances", "sec", "after_apply", "removed"])
def test_incremental_raw_tables_publish_what_a_full_run_publishes(steps: dict[str, Any], name: str) -> None:
    for table, (only_inc, only_full, rows) in steps[name]["diff"].items():
        assert (only_inc, only_full) == (0, 0), (name, table)
        assert rows > 0, (name, table)


@pytest.mark.parametrize("name", ["customers", "balances", "sec", "after_apply", "removed"])
def test_kept_tables_hold_exactly_the_runs_landings(steps: dict[str, Any], name: str) -> None:
    """Every column, provenance included: what loading every landing of the run (the full load) gives."""
    for table, (only_published, only_landed, rows) in steps[name]["landed"].items():
        assert (only_published, only_landed) == (0, 0), (name, table)
        assert rows > 0, (name, table)


def test_a_full_run_lists_every_pair_with_rows(steps: dict[str, Any]) -> None:
    first = steps["first"]
    landed = _landed_pairs(steps["wh"], first["run_id"])
    assert {("balance", "crm"), ("balance", "crm_b"), ("financial_fact", "sec"), ("organization", "gleif")} <= landed
    assert first["reloaded"] == landed and first["detail"]["raw_kept"] == {}
    full = steps["customers"]["full"]
    assert full["reloaded"] == _landed_pairs(steps["customers"]["full_wh"], full["run_id"])


def test_a_customer_change_reloads_no_account_balance_or_financial_fact(steps: dict[str, Any]) -> None:
    inc = steps["customers"]["inc"]
    kept = inc["detail"]["raw_kept"]
    assert {"crm", "crm_b"} <= set(kept["account"]) and {"crm", "crm_b"} <= set(kept["balance"])
    assert "sec" in kept["financial_fact"]
    assert _only(inc["reloaded"]) == set()
    # Organisations and relationships are loaded from the landing in every run.
    assert ("organization", "crm") in inc["reloaded"] and ("relationship", "gleif_rr") in inc["reloaded"]
    # The unchanged landing parts were hard links of the last load's (that is what made them kept).
    assert steps["customers"]["inc"]["detail"]["changes"]["crm"]["linked_parts"] > 0


def test_a_balance_change_reloads_only_that_sources_balances(steps: dict[str, Any]) -> None:
    inc = steps["balances"]["inc"]
    assert _only(inc["reloaded"]) == {("balance", "crm")}
    kept = inc["detail"]["raw_kept"]
    assert "crm" not in kept["balance"] and "crm_b" in kept["balance"] and "crm" in kept["account"]
    # The changed values are published (and equal the full run's, checked above).
    changed = query_warehouse(steps["wh"], "SELECT count(*) FROM balance WHERE source = 'crm' AND balance >= 1000")
    assert changed[0][0] >= steps["balances_changed"]


def test_a_file_source_change_reloads_only_its_tables(steps: dict[str, Any]) -> None:
    inc = steps["sec"]["inc"]
    assert _only(inc["reloaded"]) == {("financial_fact", "sec")}
    assert {"crm", "crm_b"} <= set(inc["detail"]["raw_kept"]["balance"])


def test_after_an_apply_run_every_landing_is_loaded_again(steps: dict[str, Any]) -> None:
    inc = steps["after_apply"]["inc"]
    assert inc["detail"]["raw_kept"] == {}
    assert inc["reloaded"] == _landed_pairs(steps["wh"], inc["run_id"])


def test_a_source_removed_from_the_config_leaves_the_kept_tables(steps: dict[str, Any]) -> None:
    inc = steps["removed"]["inc"]
    assert _only(inc["reloaded"]) == {("account", "crm_b"), ("balance", "crm_b")}
    assert "crm" in inc["detail"]["raw_kept"]["balance"]
    assert query_warehouse(steps["wh"], "SELECT count(*) FROM balance WHERE source = 'crm_b'") == [(0,)]


@pytest.mark.parametrize("name", ["customers", "balances", "sec"])
def test_the_published_fingerprints_of_kept_tables_are_their_contents(steps: dict[str, Any], name: str) -> None:
    """publish carries a kept table's fingerprint over unread (pipelines.exports.KEPT): recounted from the
    published table, it is the one recorded, and the table's export is written again exactly when it changed."""
    inc = steps[name]["inc"]
    for table in KEPT:
        recorded, fresh, changed = inc["prints"][table]
        assert recorded == fresh, (name, table)
        assert changed == (table in {t for t, _ in _only(inc["reloaded"])}), (name, table)
