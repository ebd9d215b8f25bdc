"""One whole run over the real public sample files (read in place; skipped when ../shared is absent).

The expected keys are computed here from the files themselves, so the test checks that every record
of every real source reaches the cross-reference exactly once.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from lxml import etree

from pipelines import runner

pytestmark = pytest.mark.realdata

LEI_NS = "{http://www.gleif.org/data/schema/leidata/2016}"
RR_NS = "{http://www.gleif.org/data/schema/rr/2016}"
NUL_NAME = "武汉久源电力有限公司"


def _files(realdata: Path) -> dict[str, Path]:
    return {
        "gleif": realdata / "gleif" / "bodspipelines-lei-data.xml",
        "gleif_rr": realdata / "gleif" / "bodspipelines-rr-data.xml",
        "uk": realdata / "uk-companies-house" / "companieshr-basiccompanydata-1000.csv",
        "sec": realdata / "sec-fsds" / "2009q3.zip",
        "cn": realdata / "cn-enterprise-registry" / "cn-enterprise-registration-1998-all-provinces.csv",
    }


@pytest.fixture(scope="module")
def real_run(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, runner.RunSummary]:
    """The config (absolute paths into ../shared/realdata) and the summary of its first run."""
    root = tmp_path_factory.mktemp("realrun")
    f = _files(realdata)
    cfg = root / "mdm.yaml"
    cfg.write_text(
        f"""\
warehouse: {root / "warehouse"}
sources:
  - {{name: gleif, format: gleif_lei_xml, path: "{f["gleif"]}"}}
  - {{name: gleif_rr, format: gleif_rr_xml, path: "{f["gleif_rr"]}"}}
  - {{name: uk, format: companies_house_csv, path: "{f["uk"]}"}}
  - {{name: sec, format: sec_fsds, path: "{f["sec"]}"}}
  - {{name: cn, format: cn_registry_csv, path: "{f["cn"]}"}}
""",
        encoding="utf-8",
    )
    return cfg, runner.run(cfg)


def q(summary: runner.RunSummary, sql: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(summary.warehouse / "mdm.duckdb"), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def xref_keys(summary: runner.RunSummary, source: str) -> list[str]:
    return [k for (k,) in q(summary, "SELECT source_id FROM xref WHERE source = $s", {"s": source})]


def test_every_lei_is_in_xref(realdata: Path, real_run: tuple[Path, runner.RunSummary]) -> None:
    _, summary = real_run
    tree = etree.parse(str(_files(realdata)["gleif"]))
    leis = {e.text.strip() for e in tree.iter(f"{LEI_NS}LEI") if e.getparent().tag == f"{LEI_NS}LEIRecord"}
    assert len(leis) == 13
    keys = xref_keys(summary, "gleif")
    assert len(keys) == 13 and set(keys) == leis
    assert summary.records_per_source["gleif"] == 13


def test_every_companies_house_number_is_in_xref(realdata: Path, real_run: tuple[Path, runner.RunSummary]) -> None:
    _, summary = real_run
    with _files(realdata)["uk"].open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader)]
        col = header.index("CompanyNumber")
        numbers = [row[col].strip() for row in reader]
    assert len(numbers) == 1000 == len(set(numbers))
    keys = xref_keys(summary, "uk")
    assert len(keys) == 1000 and set(keys) == set(numbers)


def test_every_sec_cik_is_in_xref(realdata: Path, real_run: tuple[Path, runner.RunSummary]) -> None:
    _, summary = real_run
    with zipfile.ZipFile(_files(realdata)["sec"]) as z, z.open("sub.txt") as raw:
        rows = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE)
        ciks = {str(int(r["cik"])) for r in rows}
    assert 400 < len(ciks) <= 435
    keys = xref_keys(summary, "sec")
    assert len(keys) == len(set(keys)) == len(ciks)
    assert {str(int(k)) for k in keys} == ciks
    n_facts, n_filers = q(summary, "SELECT count(*), count(DISTINCT source_id) FROM financial_fact")[0]
    assert n_facts > 0
    assert 0 < n_filers <= len(ciks)
    assert (
        q(
            summary,
            "SELECT count(*) FROM financial_fact f ANTI JOIN xref x "
            "ON x.source = f.source AND x.source_id = f.source_id",
        )[0][0]
        == 0
    )


def test_every_uscc_is_in_xref_once(realdata: Path, real_run: tuple[Path, runner.RunSummary]) -> None:
    _, summary = real_run
    path = _files(realdata)["cn"]
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        codes = Counter(r["统一社会信用代码"].strip().upper() for r in reader)
    assert "" not in codes
    keys = xref_keys(summary, "cn")
    assert len(keys) == len(set(keys)) == len(codes)
    assert set(keys) == set(codes)
    (dup,) = [k for k, n in codes.items() if n > 1]
    assert codes[dup] == 2
    issues = q(
        summary,
        "SELECT source, file, key, line FROM load_issue WHERE run_id = $r AND code = 'duplicate_key'",
        {"r": summary.run_id},
    )
    assert len(issues) == 1
    source, file, key, line = issues[0]
    assert (source, file, key) == ("cn", str(path), dup)
    assert line > 1


def test_nul_bytes_name_is_cleaned_and_reported(real_run: tuple[Path, runner.RunSummary]) -> None:
    _, summary = real_run
    rows = q(
        summary,
        "SELECT source_id, name FROM organization_record WHERE source = 'cn' AND name LIKE $n",
        {"n": f"%{NUL_NAME}%"},
    )
    assert len(rows) == 1
    uscc, name = rows[0]
    assert name == NUL_NAME
    assert q(summary, "SELECT count(*) FROM organization_record WHERE contains(name, chr(0))")[0][0] == 0
    golden = q(
        summary,
        "SELECT g.legal_name FROM golden_organization g JOIN xref x USING (golden_id) "
        "WHERE x.source = 'cn' AND x.source_id = $k",
        {"k": uscc},
    )
    assert golden == [(NUL_NAME,)]
    issues = q(
        summary, "SELECT source, key FROM load_issue WHERE run_id = $r AND code = 'nul_bytes'", {"r": summary.run_id}
    )
    assert issues == [("cn", uscc)]


def test_relationships_are_loaded(realdata: Path, real_run: tuple[Path, runner.RunSummary]) -> None:
    _, summary = real_run
    tree = etree.parse(str(_files(realdata)["gleif_rr"]))
    expected = Counter()
    for rel in tree.iter(f"{RR_NS}Relationship"):
        child = rel.findtext(f"{RR_NS}StartNode/{RR_NS}NodeID").strip()
        parent = rel.findtext(f"{RR_NS}EndNode/{RR_NS}NodeID").strip()
        expected[(child, parent, rel.findtext(f"{RR_NS}RelationshipType").strip())] += 1
    assert sum(expected.values()) == 10
    got = Counter(
        q(summary, "SELECT child_id, parent_id, relationship_type FROM relationship WHERE source = 'gleif_rr'")
    )
    assert got == expected
    assert xref_keys(summary, "gleif_rr") == []


def test_run_log_and_golden_records(real_run: tuple[Path, runner.RunSummary]) -> None:
    _, summary = real_run
    assert summary.ok
    stages = q(
        summary, "SELECT stage, status FROM run_log WHERE run_id = $r ORDER BY started_at", {"r": summary.run_id}
    )
    assert stages == [(s, "success") for s in runner.STAGES]
    n_xref, n_golden = q(summary, "SELECT count(*), count(DISTINCT golden_id) FROM xref")[0]
    assert n_golden == summary.golden_records == q(summary, "SELECT count(*) FROM golden_organization")[0][0]
    assert 0 < n_golden <= n_xref


def test_second_run_keeps_golden_ids(real_run: tuple[Path, runner.RunSummary]) -> None:
    """Runs last in this module: it replaces the published tables the tests above read."""
    cfg, first = real_run
    sql = "SELECT source, source_id, golden_id FROM xref ORDER BY source, source_id"
    before = q(first, sql)
    second = runner.run(cfg)
    assert second.run_id != first.run_id
    assert q(second, sql) == before
    assert q(second, "SELECT DISTINCT run_id FROM xref") == [(second.run_id,)]
    assert q(second, "SELECT count(*) FROM golden_id_redirect")[0][0] == 0
