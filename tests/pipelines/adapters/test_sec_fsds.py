"""The SEC Financial Statement Data Sets adapter on the real 2009q3 data set and on generated files."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from pipelines.adapters.base import conform
from pipelines.adapters.sec_fsds import CONCEPTS, extract
from pipelines.errors import SourceError
from tests.conftest import make_ctx


def run(path: Path, chunk_size: int = 50_000, encoding: str = "utf-8"):
    """Extract a data set; return the context and the conformed frames per table."""
    ctx = make_ctx(name="sec", format="sec_fsds", path=path, chunk_size=chunk_size, encoding=encoding)
    parts: dict[str, list[pd.DataFrame]] = {}
    for batch in extract(ctx):
        assert len(batch.frame) <= chunk_size
        parts.setdefault(batch.table, []).append(conform(batch.table, batch.frame, ctx))
    return ctx, {t: pd.concat(fs, ignore_index=True) for t, fs in parts.items()}


def tsv(rows: list[dict[str, str]], header: list[str]) -> str:
    return "\t".join(header) + "\n" + "".join("\t".join(r.get(h, "") for h in header) + "\n" for r in rows)


def read_member(zip_path: Path, name: str) -> list[list[str]]:
    with zipfile.ZipFile(zip_path) as z:
        text = z.read(name).decode("utf-8")
    return list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.fixture(scope="module")
def zip_path(realdata: Path) -> Path:
    return realdata / "sec-fsds" / "2009q3.zip"


@pytest.fixture(scope="module")
def real(zip_path: Path):
    return run(zip_path, chunk_size=1000)


@pytest.mark.realdata
def test_one_organization_per_cik(real, zip_path: Path) -> None:
    ctx, t = real
    sub = read_member(zip_path, "sub.txt")
    ciks = {r[sub[0].index("cik")].lstrip("0") for r in sub[1:]}
    org = t["organization"]
    assert len(sub) - 1 == 435
    assert len(ciks) == 430
    assert len(org) == len(ciks)
    assert set(org["source_id"]) == ciks
    assert org["source_id"].is_unique
    assert (org["cik"] == org["source_id"]).all()
    assert org["src_file"].eq(f"{zip_path}!sub.txt").all()
    assert ctx.warnings.total == 0


@pytest.mark.realdata
def test_known_company_apple(real, zip_path: Path) -> None:
    _, t = real
    org = t["organization"].set_index("source_id")
    apple = org.loc["320193"]
    assert apple["name"] == "APPLE INC"
    assert apple["ein"] == "942404110"
    assert apple["industry_code"] == "3571"
    assert (apple["country"], apple["region"], apple["city"]) == ("US", "US-CA", "CUPERTINO")
    assert (apple["address"], apple["postal_code"], apple["phone"]) == ("1 INFINITE LOOP", "95014", "4089961010")
    assert apple["jurisdiction"] == "US-CA"
    assert apple["updated_at"] == "2009-07-22"
    assert json.loads(apple["other_names"]) == [
        {"name": "APPLE COMPUTER INC", "type": "PREVIOUS_LEGAL_NAME", "date": "1997-08-08"}
    ]
    extra = json.loads(apple["extra"])
    assert extra["adsh"] == "0001193125-09-153165"
    assert (extra["form"], extra["fy"], extra["fp"], extra["period"]) == ("10-Q", "2009", "Q3", "2009-06-30")
    assert extra["mailing_address"]["address"] == "ONE INFINITE LOOP"
    sub = read_member(zip_path, "sub.txt")
    assert sub[apple["src_line"] - 1][sub[0].index("adsh")] == "0001193125-09-153165"


@pytest.mark.realdata
def test_latest_filing_wins(real, zip_path: Path) -> None:
    _, t = real
    sub = read_member(zip_path, "sub.txt")
    h = sub[0]
    by_cik: dict[str, list[list[str]]] = {}
    for r in sub[1:]:
        by_cik.setdefault(r[h.index("cik")], []).append(r)
    multi = {c: rs for c, rs in by_cik.items() if len(rs) > 1}
    assert len(multi) == 5
    org = t["organization"].set_index("source_id")
    for cik, rs in multi.items():
        latest = max(rs, key=lambda r: (r[h.index("filed")], r[h.index("accepted")], r[h.index("adsh")]))
        row = org.loc[cik]
        assert json.loads(row["extra"])["adsh"] == latest[h.index("adsh")]
        assert json.loads(row["extra"])["filings_in_data_set"] == len(rs)
        assert sub[row["src_line"] - 1] == latest


@pytest.mark.realdata
def test_facts(real, zip_path: Path) -> None:
    _, t = real
    facts = t["financial_fact"]
    per_concept = facts["concept"].value_counts()
    for concept in (
        "Assets",
        "Liabilities",
        "NetIncomeLoss",
        "StockholdersEquity",
        "Revenues",
        "LiabilitiesAndStockholdersEquity",
        "ProfitLoss",
        "SalesRevenueNet",
    ):
        assert per_concept[concept] > 0, concept
    assert per_concept["Assets"] == 880
    assert set(facts["concept"]) <= set(CONCEPTS)
    assert set(facts["source_id"]) <= set(t["organization"]["source_id"])
    assert facts["value"].notna().all() and facts["qtrs"].notna().all()
    assert facts["period_end"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()

    # Independent recount of the entity-level facts, and each fact checked against its own line.
    num = read_member(zip_path, "num.txt")
    h = num[0]
    col = {c: h.index(c) for c in ("adsh", "tag", "version", "ddate", "qtrs", "uom", "segments", "coreg", "value")}
    expected = [
        r
        for r in num[1:]
        if r[col["tag"]] in CONCEPTS and not r[col["segments"]] and not r[col["coreg"]] and r[col["value"]]
    ]
    assert len(facts) == len(expected) == 8203
    sub = read_member(zip_path, "sub.txt")
    cik_of = {r[sub[0].index("adsh")]: r[sub[0].index("cik")] for r in sub[1:]}
    for f in facts.itertuples():
        r = num[f.src_line - 1]
        assert (r[col["adsh"]], r[col["tag"]], r[col["version"]], r[col["uom"]]) == (
            f.filing,
            f.concept,
            f.version,
            f.unit,
        )
        assert r[col["ddate"]] == f.period_end.replace("-", "")
        assert int(r[col["qtrs"]]) == f.qtrs and float(r[col["value"]]) == f.value
        assert cik_of[f.filing] == f.source_id
    assert facts["src_file"].eq(f"{zip_path}!num.txt").all()


@pytest.mark.realdata
def test_folder_equals_zip(real, zip_path: Path, tmp_path: Path) -> None:
    _, from_zip = real
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(tmp_path)
    ctx, from_dir = run(tmp_path, chunk_size=777)
    assert ctx.warnings.total == 0
    for table in ("organization", "financial_fact"):
        a = from_zip[table].drop(columns="src_file")
        b = from_dir[table].drop(columns="src_file")
        pd.testing.assert_frame_equal(a, b)
    assert from_dir["financial_fact"]["src_file"].eq(str(tmp_path / "num.txt")).all()


SUB_HEADER = [
    "adsh",
    "cik",
    "name",
    "sic",
    "countryba",
    "stprba",
    "cityba",
    "zipba",
    "bas1",
    "bas2",
    "baph",
    "countryinc",
    "stprinc",
    "ein",
    "former",
    "changed",
    "form",
    "period",
    "fy",
    "fp",
    "filed",
    "accepted",
]
OLD_NUM_HEADER = ["adsh", "tag", "version", "coreg", "ddate", "qtrs", "uom", "value", "footnote"]


def write_old_layout(folder: Path) -> None:
    """A small data set in the older num.txt layout (no segments column)."""
    folder.mkdir(parents=True, exist_ok=True)
    sub = [
        dict(
            adsh="A-1",
            cik="0000012345",
            name="ACME OLD NAME INC",
            countryba="US",
            stprba="NY",
            cityba="NEW YORK",
            ein="12345678",
            form="10-Q",
            filed="20100510",
            accepted="2010-05-10 09:00:00.0",
        ),
        dict(
            adsh="A-2",
            cik="0000012345",
            name="ACME CORP",
            countryba="US",
            stprba="NY",
            cityba="NEW YORK",
            bas1="1 MAIN ST",
            bas2="FL 2",
            countryinc="US",
            stprinc="DE",
            ein="12345678",
            former="ACME OLD NAME INC",
            changed="20100601",
            form="10-K",
            filed="20100815",
            accepted="2010-08-15 08:00:00.0",
        ),
        dict(
            adsh="A-3",
            cik="12345",
            name="ACME CORP AMENDED",
            form="10-K/A",
            filed="20100815",
            accepted="2010-08-15 07:00:00.0",
        ),
        dict(
            adsh="B-1",
            cik="777",
            name="BETA PLC",
            countryba="GB",
            cityba="LONDON",
            countryinc="GB",
            form="20-F",
            filed="20100301",
            accepted="2010-03-01 10:00:00.0",
        ),
    ]
    num = [
        dict(adsh="A-2", tag="Assets", version="us-gaap/2009", ddate="20100630", qtrs="0", uom="USD", value="1000.5"),
        dict(
            adsh="A-2",
            tag="Assets",
            version="us-gaap/2009",
            coreg="SubCo",
            ddate="20100630",
            qtrs="0",
            uom="USD",
            value="10",
        ),
        dict(adsh="A-2", tag="Goodwill", version="us-gaap/2009", ddate="20100630", qtrs="0", uom="USD", value="5"),
        dict(adsh="A-1", tag="Revenues", version="us-gaap/2009", ddate="20100331", qtrs="1", uom="USD", value="-20"),
        dict(adsh="B-1", tag="ProfitLoss", version="us-gaap/2009", ddate="20091231", qtrs="4", uom="GBP", value="n/a"),
        dict(adsh="Z-9", tag="NetIncomeLoss", version="us-gaap/2009", ddate="20091231", qtrs="4", uom="USD", value="1"),
        dict(adsh="B-1", tag="Liabilities", version="ifrs/2009", ddate="20091231", qtrs="0", uom="GBP", value="3E6"),
    ]
    (folder / "sub.txt").write_text(tsv(sub, SUB_HEADER), encoding="utf-8")
    (folder / "num.txt").write_text(tsv(num, OLD_NUM_HEADER), encoding="utf-8")


def test_older_layout_generated(tmp_path: Path) -> None:
    write_old_layout(tmp_path)
    ctx, t = run(tmp_path, chunk_size=2)
    org = t["organization"].set_index("source_id")
    assert list(org.index) == ["12345", "777"]
    acme = org.loc["12345"]
    # Same filed date: A-2 wins over A-3 by its later acceptance time; A-1 is older.
    assert acme["name"] == "ACME CORP" and acme["src_line"] == 3
    assert acme["ein"] == "012345678"
    assert acme["address"] == "1 MAIN ST, FL 2"
    assert acme["jurisdiction"] == "US-DE" and acme["region"] == "US-NY"
    assert json.loads(acme["other_names"]) == [
        {"name": "ACME OLD NAME INC", "type": "PREVIOUS_LEGAL_NAME", "date": "2010-06-01"}
    ]
    assert json.loads(acme["extra"])["filings_in_data_set"] == 3
    beta = org.loc["777"]
    assert beta["jurisdiction"] == "GB" and beta["region"] is None and beta["other_names"] is None

    facts = t["financial_fact"]
    assert facts[
        ["source_id", "filing", "form", "concept", "period_end", "qtrs", "value", "unit", "src_line"]
    ].values.tolist() == [
        ["12345", "A-2", "10-K", "Assets", "2010-06-30", 0, 1000.5, "USD", 2],
        ["12345", "A-1", "10-Q", "Revenues", "2010-03-31", 1, -20.0, "USD", 5],
        ["777", "B-1", "20-F", "Liabilities", "2009-12-31", 0, 3e6, "GBP", 8],
    ]
    assert ctx.warnings.counts == {"bad_value": 1, "orphan_fact": 1}
    by_code = {w.code: w for w in ctx.warnings.items}
    assert by_code["orphan_fact"].line == 7 and by_code["orphan_fact"].key == "Z-9"
    assert by_code["bad_value"].line == 6 and by_code["bad_value"].file == str(tmp_path / "num.txt")


def test_zip_with_older_layout(tmp_path: Path) -> None:
    write_old_layout(tmp_path / "d")
    archive = tmp_path / "2010q3.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in ("sub.txt", "num.txt"):
            z.write(tmp_path / "d" / name, name)
    _, t = run(archive)
    assert len(t["organization"]) == 2 and len(t["financial_fact"]) == 3
    assert t["financial_fact"]["src_file"].eq(f"{archive}!num.txt").all()


def test_missing_num_file(tmp_path: Path) -> None:
    write_old_layout(tmp_path)
    (tmp_path / "num.txt").unlink()
    with pytest.raises(SourceError, match=r"num\.txt missing") as e:
        run(tmp_path)
    assert e.value.source == "sec" and e.value.file == str(tmp_path / "num.txt")


def test_missing_member_in_zip(tmp_path: Path) -> None:
    write_old_layout(tmp_path / "d")
    archive = tmp_path / "q.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(tmp_path / "d" / "num.txt", "num.txt")
    with pytest.raises(SourceError, match=r"sub\.txt missing") as e:
        run(archive)
    assert e.value.file == f"{archive}!sub.txt"


@pytest.mark.parametrize(("member", "column"), [("num.txt", "tag"), ("num.txt", "coreg"), ("sub.txt", "cik")])
def test_missing_required_column(tmp_path: Path, member: str, column: str) -> None:
    write_old_layout(tmp_path)
    p = tmp_path / member
    lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = lines[0].replace(column, f"{column}_renamed")
    p.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(SourceError, match=f"required column '{column}' missing") as e:
        run(tmp_path)
    assert e.value.file == str(p) and e.value.key == column and e.value.line == 1


def test_undecodable_bytes_named_by_line(tmp_path: Path) -> None:
    write_old_layout(tmp_path)
    p = tmp_path / "sub.txt"
    p.write_bytes(p.read_bytes().replace(b"BETA PLC", b"BETA \xff PLC"))
    with pytest.raises(SourceError, match="cannot decode as utf-8") as e:
        run(tmp_path)
    assert e.value.file == str(p) and e.value.line == 5
    # Under the right encoding the same bytes are read.
    _, t = run(tmp_path, encoding="latin-1")
    assert t["organization"].set_index("source_id").loc["777", "name"] == "BETA \u00ff PLC"


def test_ragged_row_skipped_with_warning(tmp_path: Path) -> None:
    write_old_layout(tmp_path)
    with open(tmp_path / "num.txt", "a", encoding="utf-8") as f:
        f.write("A-2\tAssets\tus-gaap/2009\n")
    ctx, t = run(tmp_path)
    assert len(t["financial_fact"]) == 3
    assert ctx.warnings.counts["bad_row"] == 1
    assert [w.line for w in ctx.warnings.items if w.code == "bad_row"] == [9]


def test_not_a_zip(tmp_path: Path) -> None:
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(SourceError, match="not a readable zip archive"):
        run(bad)


def test_non_ascii_compatible_encoding_refused(tmp_path: Path) -> None:
    write_old_layout(tmp_path)
    with pytest.raises(SourceError, match="'utf-16' is not ASCII-compatible"):
        run(tmp_path, encoding="utf-16")
