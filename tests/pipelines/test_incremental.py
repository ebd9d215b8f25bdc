"""Incremental runs: unchanged files are not parsed again, unchanged records keep their standardised form
and scored pairs, and the result equals a full run's."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines import runner
from pipelines.sample import generate
from tests.conftest import query_warehouse, sample_config


def _config(sample: Path, wh: Path, dest: Path, incremental: bool = True) -> Path:
    return sample_config(sample, wh, dest, incremental=incremental)


def _detail(wh: Path, run_id: str, stage: str) -> dict:
    rows = query_warehouse(wh, "SELECT detail FROM run_log WHERE run_id = ? AND stage = ?", [run_id, stage])
    return json.loads(rows[0][0])


def _partition(wh: Path) -> set[frozenset[str]]:
    rows = query_warehouse(wh, "SELECT golden_id, list(rid ORDER BY rid) FROM xref GROUP BY 1")
    return {frozenset(r) for _, r in rows}


def _ids(wh: Path) -> dict[str, str]:
    return dict(query_warehouse(wh, "SELECT rid, golden_id FROM xref"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("incremental")
    sample = tmp / "sample"
    generate(sample, entities=400, seed=41)
    wh = tmp / "wh"
    first = runner.run(_config(sample, wh, tmp / "mdm.yaml"))
    before = tmp / "wh-before"
    shutil.copytree(wh, before, symlinks=True)
    # About 1% of the CRM changes: two names edited, one customer added, one removed.
    con = sqlite3.connect(sample / "internal" / "crm.sqlite")
    ids = [r[0] for r in con.execute("SELECT source_id FROM customers ORDER BY source_id LIMIT 3")]
    # Customers stamped with the latest update time are read again too (the watermark is inclusive).
    boundary = {
        r[0]
        for r in con.execute(
            "SELECT source_id FROM customers WHERE updated_at = (SELECT max(updated_at) FROM customers)"
        )
    }
    # The CRM stamps every change (the sample config reads customers by change-data capture on updated_at).
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    con.execute("UPDATE customers SET name = name || ' Trading', updated_at = ? WHERE source_id = ?", (stamp, ids[0]))
    con.execute("UPDATE customers SET city = 'Leeds', updated_at = ? WHERE source_id = ?", (stamp, ids[1]))
    con.execute(
        "INSERT INTO customers (source_id, name, country, city, updated_at) "
        "VALUES ('CUSTNEW0001', 'Brand New Widgets Ltd', 'GB', 'York', ?)",
        (stamp,),
    )
    assert con.execute("SELECT count(*) FROM accounts WHERE source_id = ?", (ids[2],)).fetchone()[0] > 0
    con.execute("DELETE FROM accounts WHERE source_id = ?", (ids[2],))
    con.execute("DELETE FROM customers WHERE source_id = ?", (ids[2],))
    con.commit()
    con.close()
    second = runner.run(_config(sample, wh, tmp / "mdm.yaml"))
    # The same change run as a full run, from the same published state.
    full = runner.run(_config(sample, before, tmp / "full.yaml", incremental=False))
    read_again = ({ids[0], ids[1], "CUSTNEW0001"} | boundary) - {ids[2]}
    return {
        "wh": wh,
        "full_wh": before,
        "first": first,
        "second": second,
        "full": full,
        "changed": ids,
        "read_again": read_again,
    }


def test_unchanged_files_are_linked_not_parsed(runs: dict) -> None:
    detail = _detail(runs["wh"], runs["second"].run_id, "extract")
    assert set(detail["reused_loads"]) == {"gleif", "gleif_rr", "cn_registry", "uk_registry", "sec"}
    assert set(detail["reused_loads"].values()) == {runs["first"].run_id}
    validate = _detail(runs["wh"], runs["second"].run_id, "validate")
    assert validate["suites"]["gleif"]["reused_from"] == runs["first"].run_id
    assert "reused_from" not in validate["suites"]["crm"]  # a database is always read again


def test_a_database_with_change_columns_reads_only_changed_rows(runs: dict) -> None:
    """The CRM's customers are read by change-data capture on updated_at: two edited and one new customer
    are read; the removed one is seen through the key query; the landing is whole again."""
    detail = _detail(runs["wh"], runs["second"].run_id, "extract")
    crm = detail["changes"]["crm"]
    assert crm["base_load"] == runs["first"].run_id and set(crm["since"]) == {"customers", "accounts", "balances"}
    assert crm["changed_rows"] == len(runs["read_again"]) < 6
    full = _detail(runs["full_wh"], runs["full"].run_id, "extract")
    assert full["changes"] == {} and full["organization_rows_read"]["crm"] == detail["organization_rows_read"]["crm"]
    marks = query_warehouse(
        runs["wh"], "SELECT run_id, watermarks FROM source_load WHERE source = 'crm' ORDER BY run_id"
    )
    first, second = (json.loads(w) for _, w in marks)
    assert set(first) == set(second) == {"customers", "accounts", "balances"}
    assert first["customers"] != second["customers"]  # the new stamp moved it on
    assert first["balances"] == second["balances"]  # no balance changed
    # The removed customer's accounts were deleted in the CRM: the key query saw it, the landing lost them.
    accounts = query_warehouse(runs["wh"], "SELECT count(*) FROM account WHERE source_id = ?", [runs["changed"][2]])
    assert accounts == [(0,)]
    assert query_warehouse(runs["wh"], "SELECT count(*) FROM account") == query_warehouse(
        runs["full_wh"], "SELECT count(*) FROM account"
    )
    assert (runs["wh"] / "raw" / "gleif" / f"load={runs['second'].run_id}").is_dir()


def test_only_new_or_changed_records_are_standardised_and_matched(runs: dict) -> None:
    std = _detail(runs["wh"], runs["second"].run_id, "standardise")
    assert std["incremental"] is True
    assert std["standardised"] == 3  # two edited + one new
    match = _detail(runs["wh"], runs["second"].run_id, "match")
    assert match["incremental"] is True and match["reused_pairs"] > 0
    full = _detail(runs["full_wh"], runs["full"].run_id, "standardise")
    assert full["incremental"] is False and full["reused"] == 0
    # Only the clusters the change can reach are clustered again.
    cluster = _detail(runs["wh"], runs["second"].run_id, "cluster")
    records = query_warehouse(runs["wh"], "SELECT count(*) FROM xref")[0][0]
    assert cluster["incremental"] is True and 3 <= cluster["clustered"] < records / 10
    assert _detail(runs["full_wh"], runs["full"].run_id, "cluster")["clustered"] == records


def test_incremental_result_equals_the_full_run(runs: dict) -> None:
    assert _partition(runs["wh"]) == _partition(runs["full_wh"])
    assert _ids(runs["wh"]) == _ids(runs["full_wh"])


def test_token_frequencies_updated_from_the_changes_equal_a_full_count(runs: dict) -> None:
    """The incremental run adjusts the name-token document frequencies by the records that changed or
    left; they equal the full run's count over all records."""
    sql = "SELECT token, records FROM match_token_frequency ORDER BY token"
    incremental, full = query_warehouse(runs["wh"], sql), query_warehouse(runs["full_wh"], sql)
    assert len(incremental) > 100 and incremental == full
    assert _detail(runs["wh"], runs["second"].run_id, "match")["incremental"] is True


def test_removed_and_added_records(runs: dict) -> None:
    ids = _ids(runs["wh"])
    assert f"crm:{runs['changed'][2]}" not in ids
    assert "crm:CUSTNEW0001" in ids


def test_removing_the_hub_of_an_identifier_group_keeps_the_group(tmp_path: Path) -> None:
    """Deterministic pairs link a group to its smallest record; when that record goes, the others must
    stay together in an incremental run."""
    sample = tmp_path / "sample"
    generate(sample, entities=200, seed=43)
    wh = tmp_path / "wh"
    cfg = _config(sample, wh, tmp_path / "mdm.yaml")
    runner.run(cfg)
    con = sqlite3.connect(sample / "internal" / "crm.sqlite")
    lei = con.execute(
        "SELECT lei FROM customers WHERE lei IS NOT NULL AND lei <> '' ORDER BY source_id LIMIT 1"
    ).fetchone()[0]
    # Two more CRM records with that LEI, so the group has a CRM hub ('crm:AAA...' sorts first).
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    con.executemany(
        "INSERT INTO customers (source_id, name, lei, updated_at) VALUES (?, ?, ?, ?)",
        [("AAA0000001", "Hub Record", lei, stamp), ("ZZZ0000001", "Spoke Record", lei, stamp)],
    )
    con.commit()
    runner.run(cfg)
    group = {r: g for r, g in _ids(wh).items()}
    assert group["crm:AAA0000001"] == group["crm:ZZZ0000001"]
    con.execute("DELETE FROM customers WHERE source_id = 'AAA0000001'")
    con.commit()
    con.close()
    runner.run(cfg)
    after = _ids(wh)
    members = [r for r in after if r != "crm:ZZZ0000001" and group.get(r) == group["crm:ZZZ0000001"]]
    assert members and all(after[r] == after["crm:ZZZ0000001"] for r in members)


def test_change_captured_rows_are_validated_and_kept_rows_keep_their_quarantine(tmp_path: Path) -> None:
    """In a change-captured load the row rules run on the rows read again; a kept row that failed them in
    the base load stays quarantined, a fixed row is loaded, a newly broken one is quarantined."""
    sample = tmp_path / "sample"
    generate(sample, entities=150, seed=44)
    crm = sqlite3.connect(sample / "internal" / "crm.sqlite")
    ids = [r[0] for r in crm.execute("SELECT source_id FROM customers ORDER BY source_id LIMIT 3")]
    crm.execute("UPDATE customers SET opened_on = 'someday' WHERE source_id IN (?, ?)", ids[:2])
    crm.commit()
    wh = tmp_path / "wh"
    cfg = _config(sample, wh, tmp_path / "mdm.yaml")
    first = runner.run(cfg)

    def quarantined(run_id: str) -> set[str]:
        return {
            r[0]
            for r in query_warehouse(
                wh,
                "SELECT source_id FROM quarantine WHERE run_id = ? AND source = 'crm' AND rule = 'opened_on_iso_date'",
                [run_id],
            )
        }

    assert quarantined(first.run_id) == {ids[0], ids[1]}
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    crm.execute("UPDATE customers SET opened_on = '2020-01-01', updated_at = ? WHERE source_id = ?", (stamp, ids[0]))
    crm.execute("UPDATE customers SET opened_on = 'later', updated_at = ? WHERE source_id = ?", (stamp, ids[2]))
    crm.commit()
    crm.close()
    second = runner.run(cfg)
    assert "crm" in _detail(wh, second.run_id, "extract")["changes"]
    assert quarantined(second.run_id) == {ids[1], ids[2]}
    loaded = {r[0] for r in query_warehouse(wh, "SELECT source_id FROM organization_record WHERE source = 'crm'")}
    assert ids[0] in loaded and not {ids[1], ids[2]} & loaded
    assert second.quarantined == first.quarantined
    suites = {
        r[0]
        for r in query_warehouse(
            wh, "SELECT suite FROM validation_result WHERE run_id = ? AND batch = 'crm'", [second.run_id]
        )
    }
    assert suites == {"sql"}


def test_the_source_fingerprint_covers_the_format_suite(tmp_path: Path) -> None:
    """A reused landing carries its validation over, so the fingerprint must change with the suite of its
    format (and only that suite)."""
    from pipelines.config import SourceConfig
    from pipelines.plan import source_fingerprint
    from pipelines.suites import SUITES_DIR

    suites = tmp_path / "suites"
    shutil.copytree(SUITES_DIR, suites)
    data = tmp_path / "ch.csv"
    data.write_text("CompanyName,CompanyNumber\nAcme Ltd,01234567\n", encoding="utf-8")
    src = SourceConfig(name="uk", format="companies_house_csv", path=data)
    before = source_fingerprint(src, suites)
    assert before == source_fingerprint(src)  # the same suites as the project's
    other = suites / "gleif_lei_xml.json"
    other.write_text(other.read_text(encoding="utf-8").replace('"level": "row"', '"level": "row" '), encoding="utf-8")
    assert source_fingerprint(src, suites) == before
    own = suites / "companies_house_csv.json"
    own.write_text(own.read_text(encoding="utf-8").replace('"level": "row"', '"level": "row" '), encoding="utf-8")
    assert source_fingerprint(src, suites) != before
