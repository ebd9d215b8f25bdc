"""Tests of the synthetic sample world generator (pipelines.sample): files, determinism, the truth
file against the records actually written, identifier validity, the intended mess, and a round trip
through the source adapters."""

from __future__ import annotations

import csv
import hashlib
import os
import random
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import opencc
import pytest
from lxml import etree
from stdnum import lei as stdlei
from stdnum.cn import uscc as stduscc
from stdnum.us import ein as stdein

from pipelines.config import load_config
from pipelines.sample import generate, synth

N = 300
LEI_NS = "{http://www.gleif.org/data/schema/leidata/2016}"
RR_NS = "{http://www.gleif.org/data/schema/rr/2016}"
FILES = (
    "registry/gleif_lei2.xml",
    "registry/gleif_rr.xml",
    "registry/cn_registry.csv",
    "registry/uk_basiccompany.csv",
    "financials/sub.txt",
    "financials/num.txt",
    "truth.csv",
    "mdm.yaml",
)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, int]]]:
    """Three generated worlds: ``a`` and ``b`` with the same seed, ``c`` with another."""
    out = {}
    for key, seed in (("a", 11), ("b", 11), ("c", 12)):
        d = tmp_path_factory.mktemp(f"world_{key}")
        out[key] = (d, generate(d, N, seed=seed))
    return out


@pytest.fixture(scope="module")
def world(worlds: dict[str, tuple[Path, dict[str, int]]]) -> Path:
    return worlds["a"][0]


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _sqlite_tables(p: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(p)
    try:
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ("customers", "accounts", "balances")
        }
    finally:
        con.close()


def _truth(world: Path) -> list[dict[str, str]]:
    with (world / "truth.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _lei_records(world: Path) -> list[etree._Element]:
    tree = etree.parse(str(world / "registry/gleif_lei2.xml"))
    return tree.findall(f".//{LEI_NS}LEIRecord")


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        return [dict(zip(header, row, strict=True)) for row in reader]


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def _customers(world: Path) -> list[dict[str, object]]:
    con = sqlite3.connect(world / "internal/crm.sqlite")
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM customers")]
    finally:
        con.close()


def test_every_file_exists(world: Path) -> None:
    for rel in (*FILES, "internal/crm.sqlite"):
        assert (world / rel).is_file(), rel
        assert (world / rel).stat().st_size > 0, rel
    assert not list((world / "registry").glob(".*")), "temporary body files left behind"


def test_same_seed_gives_identical_output(worlds: dict[str, tuple[Path, dict[str, int]]]) -> None:
    (a, ca), (b, cb) = worlds["a"], worlds["b"]
    assert ca == cb
    for rel in FILES:
        assert _sha(a / rel) == _sha(b / rel), rel
    assert _sqlite_tables(a / "internal/crm.sqlite") == _sqlite_tables(b / "internal/crm.sqlite")


def test_same_seed_is_identical_across_processes(
    worlds: dict[str, tuple[Path, dict[str, int]]], tmp_path: Path
) -> None:
    """No dependence on str hashing (PYTHONHASHSEED) or anything else process-specific."""
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    code = f"from pathlib import Path; from pipelines.sample import generate; generate(Path({str(tmp_path)!r}), {N}, seed=11)"
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=Path(__file__).resolve().parents[3])
    a = worlds["a"][0]
    for rel in FILES:
        assert _sha(a / rel) == _sha(tmp_path / rel), rel
    assert _sqlite_tables(a / "internal/crm.sqlite") == _sqlite_tables(tmp_path / "internal/crm.sqlite")


def test_different_seed_gives_different_output(worlds: dict[str, tuple[Path, dict[str, int]]]) -> None:
    a, c = worlds["a"][0], worlds["c"][0]
    for rel in (
        "registry/gleif_lei2.xml",
        "registry/cn_registry.csv",
        "registry/uk_basiccompany.csv",
        "financials/sub.txt",
        "truth.csv",
    ):
        assert _sha(a / rel) != _sha(c / rel), rel
    assert _sqlite_tables(a / "internal/crm.sqlite") != _sqlite_tables(c / "internal/crm.sqlite")


def test_truth_covers_exactly_the_records_written(worlds: dict[str, tuple[Path, dict[str, int]]]) -> None:
    world, counts = worlds["a"]
    truth = _truth(world)
    assert len({(r["source"], r["source_id"]) for r in truth}) == len(truth), "duplicate truth rows"
    by_source: dict[str, list[str]] = {}
    for r in truth:
        by_source.setdefault(r["source"], []).append(r["source_id"])
    written = {
        "gleif": [rec.findtext(f"{LEI_NS}LEI") for rec in _lei_records(world)],
        "cn_registry": [r["统一社会信用代码"] for r in _csv(world / "registry/cn_registry.csv")],
        "uk_registry": [r["CompanyNumber"] for r in _csv(world / "registry/uk_basiccompany.csv")],
        "sec": list(dict.fromkeys(r["cik"] for r in _tsv(world / "financials/sub.txt"))),
        "crm": [str(r["source_id"]) for r in _customers(world)],
    }
    assert set(by_source) == set(written)
    for source, ids in written.items():
        assert sorted(ids) == sorted(by_source[source]), source
        assert len(ids) == counts[source] > 0, source
    # Every entity of the world is known to at least one source; entity ids are E0000001...
    entity_ids = {r["entity_id"] for r in truth}
    assert entity_ids == {f"E{i:07d}" for i in range(1, N + 1)}
    # Each source other than the CRM holds one record per entity.
    for source in ("gleif", "cn_registry", "uk_registry", "sec"):
        ents = [r["entity_id"] for r in truth if r["source"] == source]
        assert len(ents) == len(set(ents)), source


def test_identifiers_are_valid(world: Path) -> None:
    records = _lei_records(world)
    leis = [r.findtext(f"{LEI_NS}LEI") for r in records]
    assert leis and all(stdlei.is_valid(x) for x in leis)
    assert len(set(leis)) == len(leis)
    header_count = etree.parse(str(world / "registry/gleif_lei2.xml")).findtext(f".//{LEI_NS}RecordCount")
    assert int(header_count) == len(records)
    cn = _csv(world / "registry/cn_registry.csv")
    assert cn and all(stduscc.is_valid(r["统一社会信用代码"]) for r in cn)
    uk = _csv(world / "registry/uk_basiccompany.csv")
    assert uk and all(re.fullmatch(r"\d{8}|(SC|NI|OC)\d{6}", r["CompanyNumber"]) for r in uk)
    subs = _tsv(world / "financials/sub.txt")
    assert subs and all(re.fullmatch(r"\d{1,10}", r["cik"]) for r in subs)
    eins = [r["ein"] for r in subs if r["ein"]]
    assert eins and all(stdein.is_valid(x) for x in eins)
    # Relationship nodes are LEIs of records in the level-1 file; child != parent.
    rr = etree.parse(str(world / "registry/gleif_rr.xml"))
    rels = rr.findall(f".//{RR_NS}Relationship")
    assert rels and int(rr.findtext(f".//{RR_NS}RecordCount")) == len(rels)
    known = set(leis)
    for rel in rels:
        child = rel.findtext(f"{RR_NS}StartNode/{RR_NS}NodeID")
        parent = rel.findtext(f"{RR_NS}EndNode/{RR_NS}NodeID")
        assert child in known and parent in known and child != parent
        assert rel.findtext(f"{RR_NS}RelationshipType") in (
            "IS_DIRECTLY_CONSOLIDATED_BY",
            "IS_ULTIMATELY_CONSOLIDATED_BY",
        )


def test_gleif_records_have_the_real_structure(world: Path) -> None:
    records = _lei_records(world)
    langs = Counter(
        r.find(f"{LEI_NS}Entity/{LEI_NS}LegalName").get("{http://www.w3.org/XML/1998/namespace}lang") for r in records
    )
    assert langs["zh"] > 0 and langs["en"] > 0
    translit = [r for r in records if r.find(f"{LEI_NS}Entity/{LEI_NS}TransliteratedOtherEntityNames") is not None]
    assert translit and all(
        r.find(f"{LEI_NS}Entity/{LEI_NS}LegalName").get("{http://www.w3.org/XML/1998/namespace}lang") == "zh"
        for r in translit
    )
    previous = [
        n for r in records for n in r.iter(f"{LEI_NS}OtherEntityName") if n.get("type") == "PREVIOUS_LEGAL_NAME"
    ]
    assert previous
    ra = Counter(
        r.findtext(f"{LEI_NS}Entity/{LEI_NS}RegistrationAuthority/{LEI_NS}RegistrationAuthorityID") for r in records
    )
    assert ra["RA000585"] > 0 and ra["RA000092"] > 0
    for r in records:
        assert r.findtext(f"{LEI_NS}Entity/{LEI_NS}LegalForm/{LEI_NS}EntityLegalFormCode")
        assert r.findtext(f"{LEI_NS}Registration/{LEI_NS}RegistrationStatus") in ("ISSUED", "LAPSED")
        assert stdlei.is_valid(r.findtext(f"{LEI_NS}Registration/{LEI_NS}ManagingLOU"))
    # GB records registered with Companies House carry the company number as RA entity id.
    uk_numbers = {r["CompanyNumber"] for r in _csv(world / "registry/uk_basiccompany.csv")}
    gb_ids = [
        r.findtext(f"{LEI_NS}Entity/{LEI_NS}RegistrationAuthority/{LEI_NS}RegistrationAuthorityEntityID")
        for r in records
        if r.findtext(f"{LEI_NS}Entity/{LEI_NS}RegistrationAuthority/{LEI_NS}RegistrationAuthorityID") == "RA000585"
    ]
    assert gb_ids and set(gb_ids) <= uk_numbers


def test_crm_holds_the_intended_mess(world: Path) -> None:
    customers = _customers(world)
    leis = [c["lei"] for c in customers if c["lei"]]
    usccs = [c["uscc"] for c in customers if c["uscc"]]
    assert any(stdlei.is_valid(x) for x in leis) and any(not stdlei.is_valid(x) for x in leis)
    assert any(stduscc.is_valid(x) for x in usccs) and any(not stduscc.is_valid(x) for x in usccs)
    assert sum(1 for c in customers if not c["lei"]) > len(customers) / 2  # LEI often missing
    truth = [r for r in _truth(world) if r["source"] == "crm"]
    per_entity = Counter(r["entity_id"] for r in truth)
    assert any(n > 1 for n in per_entity.values()), "no within-CRM duplicates"
    t2s = opencc.OpenCC("t2s")
    assert any(t2s.convert(str(c["name"])) != c["name"] for c in customers), "no traditional characters"
    assert any("(" in str(c["name"]) and re.search(r"[\u4e00-\u9fff]", str(c["name"])) for c in customers), (
        "no half-width brackets in Chinese names"
    )
    assert any(c["name_en"] for c in customers)


def test_records_of_one_entity_are_spelled_differently(world: Path) -> None:
    truth = _truth(world)
    uk = {r["CompanyNumber"]: r["CompanyName"] for r in _csv(world / "registry/uk_basiccompany.csv")}
    crm = {str(c["source_id"]): str(c["name"]) for c in _customers(world)}
    uk_by_entity = {r["entity_id"]: uk[r["source_id"]] for r in truth if r["source"] == "uk_registry"}
    pairs = [
        (uk_by_entity[r["entity_id"]], crm[r["source_id"]])
        for r in truth
        if r["source"] == "crm" and r["entity_id"] in uk_by_entity
    ]
    assert pairs
    differing = [p for p in pairs if p[0] != p[1]]
    assert len(differing) > len(pairs) / 4
    # ... while the bulk still shares the distinctive first word.
    assert sum(p[0].split()[0].upper() == p[1].split()[0].upper() for p in pairs) > len(pairs) * 0.8


def test_names_are_unique_but_look_alikes_exist(world: Path) -> None:
    uk_names = [r["CompanyName"] for r in _csv(world / "registry/uk_basiccompany.csv")]
    cn_names = [r["企业名称"] for r in _csv(world / "registry/cn_registry.csv")]
    gleif_names = [r.findtext(f"{LEI_NS}Entity/{LEI_NS}LegalName").upper() for r in _lei_records(world)]
    for names in (uk_names, cn_names, gleif_names):
        assert len(set(names)) == len(names)
    first_words = Counter(n.split()[0] for n in uk_names)
    assert any(v > 1 for v in first_words.values()), "no group look-alikes in the UK register"
    assert any("分公司" in n for n in cn_names) and any("（" in n for n in cn_names)


def test_companies_house_file_layout(world: Path) -> None:
    with (world / "registry/uk_basiccompany.csv").open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
        first = next(csv.reader(f))
    assert len(header) == 55 and len(first) == 55
    assert (
        " CompanyNumber" in header and " RegAddress.AddressLine2" in header and " PreviousName_1.CompanyName" in header
    )
    rows = _csv(world / "registry/uk_basiccompany.csv")
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", r["IncorporationDate"]) for r in rows)
    assert any(r["PreviousName_1.CompanyName"] for r in rows)


def test_sec_has_several_filings_and_former_names(world: Path) -> None:
    subs = _tsv(world / "financials/sub.txt")
    assert len(subs[0]) == 36
    per_cik = Counter(r["cik"] for r in subs)
    assert max(per_cik.values()) > 1
    nums = _tsv(world / "financials/num.txt")
    assert {r["tag"] for r in nums} == {"Revenues", "Assets", "Liabilities", "NetIncomeLoss", "StockholdersEquity"}
    assert {r["adsh"] for r in nums} == {r["adsh"] for r in subs}
    assert len({r["adsh"] for r in subs}) == len(subs)


def test_sec_former_names_appear_with_enough_entities(tmp_path: Path) -> None:
    generate(tmp_path, 2000, seed=5)
    subs = _tsv(tmp_path / "financials/sub.txt")
    renamed = [r for r in subs if r["former"]]
    assert renamed and all(re.fullmatch(r"\d{8}", r["changed"]) for r in renamed)
    assert all(r["former"] != r["name"] for r in renamed)


def test_config_parses_and_points_at_the_files(world: Path) -> None:
    cfg = load_config(world / "mdm.yaml")
    assert [s.name for s in cfg.sources] == ["gleif", "gleif_rr", "cn_registry", "uk_registry", "sec", "crm"]
    assert cfg.source("sec").path == (world / "financials").resolve()
    assert cfg.source("crm").url == f"sqlite:///{(world / 'internal/crm.sqlite').resolve()}"
    assert cfg.warehouse == (world / "warehouse").resolve()


def test_rejects_an_empty_world(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, 0)


def test_synth_identifiers() -> None:
    assert synth.make_lei("5493", "00" + "A" * 12)[:18] == "549300" + "A" * 12
    assert stdlei.is_valid(synth.make_lei("2138", "00ABCDEF123456"))
    code = synth.make_uscc("310115", "12345678")
    assert stduscc.is_valid(code) and code.startswith("91310115")
    rng = random.Random(0)
    bad = synth.mistype(code, rng, stduscc.is_valid, synth.USCC_ALPHABET)
    assert len(bad) == 18 and bad != code and not stduscc.is_valid(bad)
    assert sum(a != b for a, b in zip(bad, code)) == 1
    assert synth.to_base(35, 2) == "0Z"
    with pytest.raises(ValueError):
        synth.to_base(36 * 36, 2)


def test_round_trip_through_the_adapters(worlds: dict[str, tuple[Path, dict[str, int]]]) -> None:
    """Every generated source reads through its adapter: organisation rows match truth.csv."""
    from pipelines.adapters import get_adapter
    from pipelines.adapters.base import ExtractContext

    world, counts = worlds["a"]
    cfg = load_config(world / "mdm.yaml")
    truth = Counter(r["source"] for r in _truth(world))
    for source in cfg.sources:
        ctx = ExtractContext(source)
        rows: Counter[str] = Counter()
        ids: set[str] = set()
        org_rows = 0
        for batch in get_adapter(source.format)(ctx):
            rows[batch.table] += len(batch.frame)
            if batch.table == "organization":
                org_rows += len(batch.frame)
                ids.update(str(x) for x in batch.frame["source_id"])
        if source.name == "gleif_rr":
            assert rows["relationship"] == counts["gleif_rr"]
            continue
        # SEC gives one organisation row per filing or per CIK; every other source one per record.
        assert len(ids) == truth[source.name], source.name
        if source.name != "sec":
            assert org_rows == truth[source.name], source.name
        if source.name == "sec":
            # Entity-level facts only: segmented (dimensional) facts are not the entity's totals.
            plain = [r for r in _tsv(world / "financials/num.txt") if not r["segments"] and not r["coreg"]]
            assert 0 < len(plain) < counts["sec_facts"]
            assert rows["financial_fact"] == len(plain)
        if source.name == "crm":
            assert rows["account"] == counts["crm_accounts"]
            assert rows["balance"] == counts["crm_balances"]
