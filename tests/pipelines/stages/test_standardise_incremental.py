"""The incremental standardise stage: records whose landed row is the last load's, unchanged, keep their
published form without a comparison of their content (sql/staging/std_carried.sql), the others are compared
or standardised; std_organization is, row for row, the one the comparison of every record gives and the one
standardising every record gives."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines import runner
from pipelines.config import load_config
from pipelines.plan import read_plan
from pipelines.run_records import WORK_DB, completed
from pipelines.sample import generate
from pipelines.stages import standardise
from pipelines.stages.base import StageContext
from tests.conftest import sample_config


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An incremental run stopped after validate: a published first run of a generated sample, then CRM
    changes (an edited name, an edited city, a new customer, a removed one)."""
    tmp = tmp_path_factory.mktemp("std_incremental")
    sample = tmp / "sample"
    generate(sample, entities=120, seed=11)
    cfg = sample_config(sample, tmp / "wh", tmp / "mdm.yaml", incremental=True)
    runner.run(cfg)
    con = sqlite3.connect(sample / "internal" / "crm.sqlite")
    ids = [r[0] for r in con.execute("SELECT source_id FROM customers ORDER BY source_id LIMIT 3")]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    con.execute("UPDATE customers SET name = name || ' Trading', updated_at = ? WHERE source_id = ?", (stamp, ids[0]))
    con.execute("UPDATE customers SET city = 'Leeds', updated_at = ? WHERE source_id = ?", (stamp, ids[1]))
    con.execute(
        "INSERT INTO customers (source_id, name, country, city, updated_at) VALUES "
        "('CUSTNEW0001', 'Brand New Widgets Ltd', 'GB', 'York', ?)",
        (stamp,),
    )
    con.execute("DELETE FROM accounts WHERE source_id = ?", (ids[2],))
    con.execute("DELETE FROM customers WHERE source_id = ?", (ids[2],))
    con.commit()
    con.close()
    run_id = runner.start_run(cfg)
    for stage in ("extract", "validate"):
        runner.run_stage(cfg, run_id, stage)
    return {"cfg": cfg, "folder": tmp / "wh" / ".runs" / run_id, "ids": ids}


def _run(staged: dict, tmp: Path, name: str, incremental: bool = True, carry: bool = True) -> dict:
    """standardise.run on a copy of the staged database: the incremental stage (``carry=False``: with no
    record carried, i.e. every record compared, as before std_carried), or a full standardisation."""
    folder = staged["folder"]
    db = tmp / f"{name}.duckdb"
    shutil.copy(folder / WORK_DB, db)
    plan = read_plan(folder)
    plan = plan.model_copy(update={"standardise": plan.standardise.model_copy(update={"incremental": incremental})})
    con = duckdb.connect(str(db))
    try:
        observed: dict = {}
        for r in completed(con, plan.run_id).values():
            observed.update(r["observed"])
        ctx = StageContext(load_config(staged["cfg"]), plan, folder, observed)
        if not carry:  # the stage as it was: no record is taken without comparing its content
            ctx = StageContext(ctx.config, plan.model_copy(update={"sources": []}), folder, {})
        con.begin()
        result = standardise.run(con, ctx)
        carried = con.execute("SELECT count(*) FROM std_carried").fetchall()[0][0] if incremental else 0
        unsure = {r[0] for r in con.execute("SELECT rid FROM std_unsure").fetchall()} if incremental else set()
        con.commit()
        std = con.execute("SELECT * FROM std_organization").fetchall()
        columns = [c[0] for c in con.execute("DESCRIBE std_organization").fetchall()]
        changed = {r[0] for r in con.execute("SELECT rid FROM run_changed").fetchall()}
        by_source = dict(con.execute("SELECT source, count(*) FROM stg_organization GROUP BY 1").fetchall())
    finally:
        con.close()
    return {
        "result": result,
        "rows": sorted(map(repr, std)),
        "columns": columns,
        "changed": changed,
        "carried": carried,
        "unsure": unsure,
        "by_source": by_source,
        "plan": plan,
    }


def test_carried_records_equal_comparing_every_record_and_a_full_standardisation(staged: dict, tmp_path: Path) -> None:
    new = _run(staged, tmp_path, "new")
    compared = _run(staged, tmp_path, "compared", carry=False)
    full = _run(staged, tmp_path, "full", incremental=False)
    assert new["columns"] == compared["columns"] == full["columns"]
    assert new["rows"] == compared["rows"] == full["rows"]  # the same multiset of rows, lineage included
    ids = staged["ids"]
    # The edited and the new customer are standardised; the removed one is gone.
    assert new["changed"] == compared["changed"] == {f"crm:{ids[0]}", f"crm:{ids[1]}", "crm:CUSTNEW0001"}
    assert len(new["rows"]) == sum(new["by_source"].values())
    assert not any(f"crm:{ids[2]}" in r for r in new["rows"])
    assert new["result"].detail == {"standardised": 3, "reused": len(new["rows"]) - 3, "incremental": True}


def test_reused_landings_and_kept_crm_rows_are_carried(staged: dict, tmp_path: Path) -> None:
    new = _run(staged, tmp_path, "carried")
    modes = {s.name: s.mode for s in new["plan"].sources}
    assert modes["crm"] == "changes" and modes["cn_registry"] == modes["gleif"] == "reuse"
    # Every staged record is carried but the CRM rows read again and the repeated key of the register.
    read_again = {f"crm:{i}" for i in staged["ids"][:2]} | {"crm:CUSTNEW0001"}
    assert read_again <= new["unsure"]
    staged_total = sum(new["by_source"].values())
    # Recount: the CRM rows read again are those stamped now (two edited, one new), or at the watermark.
    assert new["carried"] == staged_total - len(new["unsure"] & _staged_rids(staged))
    assert new["carried"] > staged_total * 0.9


def _staged_rids(staged: dict) -> set[str]:
    con = duckdb.connect(str(staged["folder"] / WORK_DB), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT source || ':' || source_id FROM stg_organization").fetchall()}
    finally:
        con.close()


def test_a_new_standardise_version_standardises_every_record(
    staged: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(standardise, "STANDARDISE_VERSION", "another-version")
    new = _run(staged, tmp_path, "version")
    assert new["carried"] == 0
    assert new["result"].detail["reused"] == 0
    assert new["result"].detail["standardised"] == len(new["rows"]) == sum(new["by_source"].values())


def test_the_sql_files_declare_their_tables() -> None:
    """std_carried and std_unsure are declared (the runner fails an undeclared table) as the stage's temps."""
    from pipelines.catalog import catalog

    for name in ("std_carried", "std_unsure"):
        rel = catalog()[name]
        assert (rel.owner, rel.lifetime) == ("standardise", "temp")


def test_repeated_keys_and_rows_read_again_or_moved_are_not_carried(tmp_path: Path) -> None:
    """std_carried on hand-made tables: only the record of a carried source, with its key neither repeated
    (duplicate_key) nor read again, published by this version from the same file and line, is carried."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipelines.warehouse import run_sql

    read_again = tmp_path / "part-00001.parquet"
    pq.write_table(pa.table({"source": ["crm"], "source_id": ["C3"]}), read_again)
    con = duckdb.connect()
    con.execute("CREATE TABLE run_issue (source VARCHAR, key VARCHAR, code VARCHAR)")
    con.execute("INSERT INTO run_issue VALUES ('uk', 'U2', 'duplicate_key'), ('uk', 'U3', 'missing_name')")
    con.execute("CREATE TABLE stg_organization (source VARCHAR, source_id VARCHAR, src_file VARCHAR, src_line BIGINT)")
    con.execute(
        "INSERT INTO stg_organization VALUES ('uk', 'U1', 'f', 1), ('uk', 'U2', 'f', 2), ('uk', 'U3', 'f', 3), "
        "('uk', 'U4', 'f', 40), ('uk', 'U5', 'f', 5), ('crm', 'C1', 'db', 1), ('crm', 'C3', 'db', 3), "
        "('cn', 'N1', 'g', 1)"
    )
    con.execute(
        "CREATE TABLE organization_record (rid VARCHAR, std_version VARCHAR, src_file VARCHAR, src_line BIGINT)"
    )
    con.execute(
        "INSERT INTO organization_record VALUES ('uk:U1', 'v1', 'f', 1), ('uk:U2', 'v1', 'f', 2), "
        "('uk:U3', 'v1', 'f', 3), ('uk:U4', 'v1', 'f', 4), ('uk:U5', 'v0', 'f', 5), ('crm:C1', 'v1', 'db', 1), "
        "('crm:C3', 'v1', 'db', 3), ('cn:N1', 'v1', 'g', 1)"
    )
    run_sql(con, "staging/std_unsure")
    run_sql(con, "staging/std_unsure_changed", {"files": [str(read_again)]})
    run_sql(con, "staging/std_carried", {"carried": ["uk", "crm"], "version": "v1"})
    carried = con.execute(
        "SELECT s.source || ':' || s.source_id FROM stg_organization s SEMI JOIN std_carried c ON c.pos = s.rowid"
    ).fetchall()
    # U2: repeated key; U4: published from another line; U5: another version; C3: read again; N1: source read.
    assert sorted(r[0] for r in carried) == ["crm:C1", "uk:U1", "uk:U3"]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The organization_record an incremental run publishes and the one a full run from the same published
    state publishes, after the same CRM changes."""
    tmp = tmp_path_factory.mktemp("std_published")
    sample = tmp / "sample"
    generate(sample, entities=150, seed=23)
    wh, before = tmp / "wh", tmp / "wh-before"
    runner.run(sample_config(sample, wh, tmp / "mdm.yaml", incremental=True))
    shutil.copytree(wh, before, symlinks=True)
    con = sqlite3.connect(sample / "internal" / "crm.sqlite")
    ids = [r[0] for r in con.execute("SELECT source_id FROM customers ORDER BY source_id LIMIT 2")]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    con.execute("UPDATE customers SET name = name || ' Holdings', updated_at = ? WHERE source_id = ?", (stamp, ids[0]))
    con.execute("DELETE FROM accounts WHERE source_id = ?", (ids[1],))
    con.execute("DELETE FROM customers WHERE source_id = ?", (ids[1],))
    con.execute(
        "INSERT INTO customers (source_id, name, country, city, updated_at) "
        "VALUES ('CUSTNEW0009', 'Northern Lights Shipping Ltd', 'GB', 'Leith', ?)",
        (stamp,),
    )
    con.commit()
    con.close()
    second = runner.run(sample_config(sample, wh, tmp / "mdm.yaml", incremental=True))
    runner.run(sample_config(sample, before, tmp / "full.yaml", incremental=False))
    return {"wh": wh, "full_wh": before, "second": second, "ids": ids}


def _records(wh: Path) -> tuple[list[str], list[str], list[str]]:
    """Columns, then every published record (lineage left out for the CRM, whose change-captured rows keep
    the lineage of the read that saw them, unlike a full read), then the lineage of the file sources."""
    con = duckdb.connect(str(wh / "mdm.duckdb"), read_only=True)
    try:
        cols = [c[0] for c in con.execute("DESCRIBE organization_record").fetchall()]
        rows = con.execute(
            "SELECT * REPLACE (CASE WHEN source = 'crm' THEN NULL ELSE src_file END AS src_file, "
            "CASE WHEN source = 'crm' THEN NULL ELSE src_line END AS src_line) FROM organization_record"
        ).fetchall()
        lineage = con.execute(
            "SELECT rid, src_file, src_line FROM organization_record WHERE source <> 'crm'"
        ).fetchall()
    finally:
        con.close()
    return cols, sorted(map(repr, rows)), sorted(map(repr, lineage))


def test_the_published_records_equal_a_full_runs(published: dict) -> None:
    incremental, full = _records(published["wh"]), _records(published["full_wh"])
    assert incremental[0] == full[0] and "golden_id" in incremental[0]
    assert incremental[1] == full[1]  # every column of every record, golden id included
    assert incremental[2] == full[2] and len(incremental[2]) > 50
    con = duckdb.connect(str(published["wh"] / "mdm.duckdb"), read_only=True)
    try:
        crm = {r[0] for r in con.execute("SELECT source_id FROM organization_record WHERE source = 'crm'").fetchall()}
        detail = con.execute(
            "SELECT detail FROM run_log WHERE run_id = ? AND stage = 'standardise'", [published["second"].run_id]
        ).fetchall()[0][0]
    finally:
        con.close()
    std = json.loads(detail)
    assert std["incremental"] is True and std["standardised"] == 2  # the edited and the new customer
    assert "CUSTNEW0009" in crm and published["ids"][1] not in crm and published["ids"][0] in crm
