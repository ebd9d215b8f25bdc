"""Companies House BasicCompanyData adapter: the real 1,000-row sample, the full 55-column layout and bad inputs."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from mdm.schema import ORGANIZATION
from pipelines.adapters.base import conform
from pipelines.adapters.companies_house import extract
from pipelines.errors import SourceError
from tests.conftest import make_ctx

SAMPLE = "uk-companies-house/companieshr-basiccompanydata-1000.csv"

# The header line of the real full file, spaces included (55 columns).
FULL_HEADER = (
    "CompanyName, CompanyNumber,RegAddress.CareOf,RegAddress.POBox,RegAddress.AddressLine1, RegAddress.AddressLine2,"
    "RegAddress.PostTown,RegAddress.County,RegAddress.Country,RegAddress.PostCode,CompanyCategory,CompanyStatus,"
    "CountryOfOrigin,DissolutionDate,IncorporationDate,Accounts.AccountRefDay,Accounts.AccountRefMonth,"
    "Accounts.NextDueDate,Accounts.LastMadeUpDate,Accounts.AccountCategory,Returns.NextDueDate,"
    "Returns.LastMadeUpDate,Mortgages.NumMortCharges,Mortgages.NumMortOutstanding,Mortgages.NumMortPartSatisfied,"
    "Mortgages.NumMortSatisfied,SICCode.SicText_1,SICCode.SicText_2,SICCode.SicText_3,SICCode.SicText_4,"
    "LimitedPartnerships.NumGenPartners,LimitedPartnerships.NumLimPartners,URI,"
    + ",".join(f"PreviousName_{i}.CONDATE, PreviousName_{i}.CompanyName" for i in range(1, 11))
    + ",ConfStmtNextDueDate, ConfStmtLastMadeUpDate"
)
FULL_COLUMNS = [c.strip() for c in FULL_HEADER.split(",")]


def run(path: Path, **source) -> tuple[pd.DataFrame, list[int], object]:
    """Extract a file; return all rows, the batch sizes and the context (for its warnings)."""
    ctx = make_ctx(format="companies_house_csv", path=path, **source)
    batches = list(extract(ctx))
    assert all(b.table == "organization" for b in batches)
    frame = pd.concat([b.frame for b in batches], ignore_index=True) if batches else pd.DataFrame()
    return frame, [len(b.frame) for b in batches], ctx


def full_row(**values: str) -> list[str]:
    """A row of the 55-column layout with the given values (by stripped column name), others empty."""
    unknown = set(values) - set(FULL_COLUMNS)
    assert not unknown, unknown
    return [values.get(c, "") for c in FULL_COLUMNS]


def write_full(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    """Write a BasicCompanyData-style file: the real header line, then fully quoted rows like the real file."""
    buf = io.StringIO(newline="")
    buf.write(FULL_HEADER + "\r\n")
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------- real sample
def test_real_sample_rows_and_keys(realdata: Path) -> None:
    df, sizes, ctx = run(realdata / SAMPLE)
    assert len(df) == 1000 and sizes == [1000]
    assert df["source_id"].nunique() == 1000
    assert (df["source_id"] == df["registration_number"]).all()
    assert set(df["registration_authority"]) == {"RA000585"} and set(df["jurisdiction"]) == {"GB"}
    assert df["src_line"].tolist() == list(range(2, 1002))  # no row spans lines in this sample
    assert set(df["src_file"]) == {str(realdata / SAMPLE)}
    # The only problem in the sample: a county written in the country column.
    assert ctx.warnings.counts == {"unknown_country": 1}
    [w] = ctx.warnings.items
    assert (w.line, w.key) == (900, "00973336") and "LANCS" in w.message
    # Every batch fits the canonical contract.
    assert list(conform("organization", df, ctx).columns) == list(ORGANIZATION)


def test_real_sample_concrete_rows(realdata: Path) -> None:
    df, _, _ = run(realdata / SAMPLE)
    by_id = df.set_index("source_id")
    r = by_id.loc["08209948"]
    assert (r["name"], r["address"], r["city"], r["region"], r["postal_code"]) == (
        "! LTD",
        "METROHOUSE 57 PEPPER ROAD, HUNSLET",
        "LEEDS",
        "YORKSHIRE",
        "LS10 2RU",
    )
    assert (r["industry_code"], r["category"], r["legal_form"], r["entity_status"]) == (
        "99999",
        "Private Limited Company",
        "Private Limited Company",
        "Active",
    )
    assert r["country"] is None and r["extra"] is None and r["src_line"] == 2
    # Numbers stay text, prefixes included; UNITED KINGDOM -> GB.
    sc = by_id.loc["SC421617"]
    assert (sc["name"], sc["city"], sc["country"], sc["industry_code"]) == ("!NSPIRED LTD", "ABERDEEN", "GB", "70229")
    # Four SIC codes are joined; "None Supplied" is NULL; an overseas company gets its own country code.
    assert by_id.loc["07382019", "industry_code"] == "59112;59113;74100;74202"
    fc = by_id.loc["FC031362"]
    assert (fc["country"], fc["region"], fc["industry_code"], fc["category"]) == (
        "GG",
        "GUERNSEY",
        None,
        "Other company type",
    )
    # Old (SIC 2003) four-digit codes are kept as they are.
    assert "7499" in set(df["industry_code"].dropna())
    # The unknown country stays NULL and is kept raw in extra.
    lancs = by_id.loc["00973336"]
    assert lancs["country"] is None and json.loads(lancs["extra"]) == {"RegAddress.Country": "LANCS"}
    counts = df["country"].value_counts(dropna=False)
    assert counts["GB"] == 339 and counts["US"] == 3 and counts[None] == 644


def test_real_sample_chunk_size(realdata: Path) -> None:
    df, sizes, _ = run(realdata / SAMPLE, chunk_size=400)
    assert sizes == [400, 400, 200]
    assert df["source_id"].nunique() == 1000


# ----------------------------------------------------------------------------------- full 55-column layout
def test_full_header_layout(tmp_path: Path) -> None:
    assert len(FULL_COLUMNS) == 55 and " CompanyNumber" in FULL_HEADER and " RegAddress.AddressLine2" in FULL_HEADER
    first = full_row(
        CompanyName="ACME WIDGETS LIMITED",
        CompanyNumber="01234567",
        **{
            "RegAddress.CareOf": "JANE DOE",
            "RegAddress.POBox": "PO BOX 12",
            "RegAddress.AddressLine1": "1 HIGH STREET\nUNIT 4",
            "RegAddress.AddressLine2": "SOUTHWARK",
            "RegAddress.PostTown": "LONDON",
            "RegAddress.County": "GREATER LONDON",
            "RegAddress.Country": "ENGLAND",
            "RegAddress.PostCode": "SE1 1AA",
            "CompanyCategory": "Private Limited Company",
            "CompanyStatus": "Active",
            "CountryOfOrigin": "United Kingdom",
            "IncorporationDate": "02/03/2001",
            "Accounts.AccountRefDay": "31",
            "Accounts.AccountRefMonth": "3",
            "Accounts.NextDueDate": "31/12/2024",
            "Accounts.AccountCategory": "TOTAL EXEMPTION FULL",
            "Mortgages.NumMortCharges": "2",
            "SICCode.SicText_1": "62020 - Information technology consultancy activities",
            "SICCode.SicText_2": "None Supplied",
            "SICCode.SicText_3": "70229 - Management consultancy",
            "URI": "http://business.data.gov.uk/id/company/01234567",
            "PreviousName_1.CONDATE": "04/05/2010",
            "PreviousName_1.CompanyName": "ACME LIMITED",
            "PreviousName_2.CONDATE": "01/01/2005",
            "PreviousName_2.CompanyName": "ACME HOLDINGS LIMITED",
            "ConfStmtNextDueDate": "10/10/2024",
        },
    )
    second = full_row(
        CompanyName="BRAVO LLP",
        CompanyNumber="OC300001",
        CountryOfOrigin="United Kingdom",
        CompanyCategory="Limited Liability Partnership",
        DissolutionDate="N/A",
    )
    path = write_full(tmp_path / "BasicCompanyData.csv", [first, second], encoding="utf-8-sig")  # with a BOM
    df, _, ctx = run(path)
    assert ctx.warnings.total == 0
    a, b = df.to_dict("records")
    assert (a["source_id"], a["name"], a["src_line"], b["src_line"]) == ("01234567", "ACME WIDGETS LIMITED", 2, 4)
    assert a["address"] == "JANE DOE, PO BOX 12, 1 HIGH STREET\nUNIT 4, SOUTHWARK"
    assert (a["city"], a["region"], a["postal_code"], a["country"]) == ("LONDON", "GREATER LONDON", "SE1 1AA", "GB")
    assert (a["incorporated_on"], a["industry_code"]) == ("2001-03-02", "62020;70229")
    assert json.loads(a["other_names"]) == [
        {"name": "ACME LIMITED", "type": "PREVIOUS_LEGAL_NAME", "date": "2010-05-04"},
        {"name": "ACME HOLDINGS LIMITED", "type": "PREVIOUS_LEGAL_NAME", "date": "2005-01-01"},
    ]
    assert json.loads(a["extra"]) == {
        "Accounts.AccountCategory": "TOTAL EXEMPTION FULL",
        "Accounts.AccountRefDay": "31",
        "Accounts.AccountRefMonth": "3",
        "Accounts.NextDueDate": "2024-12-31",
        "ConfStmtNextDueDate": "2024-10-10",
        "CountryOfOrigin": "United Kingdom",
        "Mortgages.NumMortCharges": "2",
        "URI": "http://business.data.gov.uk/id/company/01234567",
    }
    # No address country: the country of origin decides; "N/A" is NULL.
    assert (b["source_id"], b["country"], b["other_names"], b["address"]) == ("OC300001", "GB", None, None)
    assert json.loads(b["extra"]) == {"CountryOfOrigin": "United Kingdom"}


def test_country_mapping(tmp_path: Path) -> None:
    rows = [
        full_row(
            CompanyName="A", CompanyNumber="FC000001", **{"RegAddress.Country": "UNITED STATES"}, CountryOfOrigin="USA"
        ),
        full_row(CompanyName="B", CompanyNumber="FC000002", **{"RegAddress.Country": "WEST GERMANY"}),
        full_row(
            CompanyName="C", CompanyNumber="FC000003", **{"RegAddress.Country": "ATLANTIS"}, CountryOfOrigin="Jersey"
        ),
        full_row(CompanyName="D", CompanyNumber="FC000004", **{"RegAddress.Country": "ATLANTIS"}),
        full_row(CompanyName="E", CompanyNumber="NI000005", **{"RegAddress.Country": "Northern  Ireland"}),
    ]
    df, _, ctx = run(write_full(tmp_path / "c.csv", rows))
    assert df["country"].tolist() == ["US", "DE", "JE", None, "GB"]
    assert json.loads(df["extra"][2]) == {"RegAddress.Country": "ATLANTIS", "CountryOfOrigin": "Jersey"}
    assert json.loads(df["extra"][3]) == {"RegAddress.Country": "ATLANTIS"}
    assert ctx.warnings.counts == {"unknown_country": 1}
    assert ctx.warnings.items[0].key == "FC000004"


def test_zip_input(tmp_path: Path) -> None:
    csv_path = write_full(tmp_path / "inner.csv", [full_row(CompanyName="ZIPPED LTD", CompanyNumber="00000042")])
    archive = tmp_path / "BasicCompanyDataAsOneFile-2024-01-01.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(csv_path, "BasicCompanyDataAsOneFile-2024-01-01.csv")
    df, _, _ = run(archive)
    assert df[["source_id", "name", "src_line"]].to_dict("records") == [
        {"source_id": "00000042", "name": "ZIPPED LTD", "src_line": 2}
    ]
    assert df["src_file"][0] == f"{archive}!BasicCompanyDataAsOneFile-2024-01-01.csv"


def test_zip_must_hold_one_csv(tmp_path: Path) -> None:
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.csv", FULL_HEADER + "\n")
        z.writestr("b.csv", FULL_HEADER + "\n")
    with pytest.raises(SourceError, match=r"exactly one \.csv file, found 2 \(a\.csv, b\.csv\)") as e:
        run(archive)
    assert e.value.file == str(archive)
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SourceError, match="not a readable zip archive"):
        run(bad)


# ---------------------------------------------------------------------------------------------- bad inputs
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="file not found"):
        run(tmp_path / "nope.csv")


def test_missing_required_column(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "x.csv", ["CompanyName,RegAddress.PostTown", "ACME LTD,LEEDS"])
    with pytest.raises(SourceError, match=r"required column 'CompanyNumber' missing") as e:
        run(path)
    assert (e.value.file, e.value.line, e.value.source) == (str(path), 1, "src")
    assert str(path) in str(e.value)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(SourceError, match="empty file"):
        run(path)


def test_header_only(tmp_path: Path) -> None:
    df, sizes, ctx = run(write_full(tmp_path / "h.csv", []))
    assert sizes == [] and df.empty and ctx.warnings.total == 0


def test_wrong_delimiter(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "semi.csv", ["CompanyName;CompanyNumber;RegAddress.PostTown", "ACME LTD;01234567;LEEDS"]
    )
    with pytest.raises(
        SourceError, match=r"required column 'CompanyName', 'CompanyNumber' missing.*not comma-separated"
    ):
        run(path)


def test_undecodable_bytes_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"CompanyName,CompanyNumber\r\nGOOD LTD,00000001\r\nCAF\xc9 LTD,00000002\r\n")
    with pytest.raises(SourceError, match="cannot decode the bytes as utf-8") as e:
        run(path)
    assert (e.value.file, e.value.line) == (str(path), 3)
    df, _, _ = run(path, encoding="latin-1")  # the right encoding reads it
    assert df["name"].tolist() == ["GOOD LTD", "CAFÉ LTD"]


def test_bad_dates_become_null_with_warnings(tmp_path: Path) -> None:
    rows = [
        full_row(CompanyName="A", CompanyNumber="00000001", IncorporationDate="31/02/2020"),
        full_row(
            CompanyName="B",
            CompanyNumber="00000002",
            IncorporationDate="2020-01-01",
            DissolutionDate="yesterday",
            **{"PreviousName_1.CompanyName": "OLD B", "PreviousName_1.CONDATE": "1/7/1999"},
        ),
    ]
    df, _, ctx = run(write_full(tmp_path / "d.csv", rows))
    assert df["incorporated_on"].tolist() == [None, None]
    assert json.loads(df["other_names"][1]) == [{"name": "OLD B", "type": "PREVIOUS_LEGAL_NAME", "date": "1999-07-01"}]
    assert json.loads(df["extra"][1]) == {"DissolutionDate": "yesterday"}  # kept as given in extra
    assert ctx.warnings.counts == {"bad_date": 3}
    where = [(w.line, w.key) for w in ctx.warnings.items]
    assert where == [(2, "00000001"), (3, "00000002"), (3, "00000002")]
    assert "'31/02/2020'" in ctx.warnings.items[0].message


def test_ragged_rows_keep_what_they_can(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "r.csv",
        [
            " CompanyName , CompanyNumber,RegAddress.PostTown",
            "SHORT LTD,00000001",
            "LONG LTD,00000002,LEEDS,SURPLUS",
            "FINE LTD,00000003,YORK",
        ],
    )
    df, _, ctx = run(path)
    assert df[["source_id", "name", "city"]].values.tolist() == [
        ["00000001", "SHORT LTD", None],
        ["00000002", "LONG LTD", "LEEDS"],
        ["00000003", "FINE LTD", "YORK"],
    ]
    assert ctx.warnings.counts == {"ragged_row": 2}
    assert [(w.line, w.key) for w in ctx.warnings.items] == [(2, "00000001"), (3, "00000002")]
    assert "missing field" in ctx.warnings.items[0].message and "extra field" in ctx.warnings.items[1].message


def test_nul_bytes_removed_with_warning(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_bytes(b"CompanyName,CompanyNumber\nNUL\x00\x00 LTD,00000009\n")
    df, _, ctx = run(path)
    assert df["name"].tolist() == ["NUL LTD"]
    assert ctx.warnings.counts == {"nul_bytes": 1}
    w = ctx.warnings.items[0]
    assert (w.line, w.key) == (2, "00000009") and "CompanyName (2)" in w.message


def test_unterminated_quote_is_a_source_error(tmp_path: Path) -> None:
    # An opening quote that never closes swallows the rest of the file into one field until the csv
    # module's field size limit stops it: a SourceError naming the line where the record starts.
    body = "\n".join(f"FILLER {i:06d} LTD,{i:08d}" for i in range(10_000))
    path = write_lines(
        tmp_path / "q.csv", ["CompanyName,CompanyNumber", "GOOD LTD,00000001", '"BROKEN LTD,00000002', body]
    )
    with pytest.raises(SourceError, match=r"malformed CSV.*field larger than field limit") as e:
        run(path)
    assert (e.value.file, e.value.line) == (str(path), 3)


def test_sic_text_without_a_code_is_kept_in_extra(tmp_path: Path) -> None:
    row = full_row(
        CompanyName="X LTD",
        CompanyNumber="00000007",
        **{"SICCode.SicText_1": "Dormant", "SICCode.SicText_2": "99999 - Dormant Company"},
    )
    df, _, ctx = run(write_full(tmp_path / "s.csv", [row]))
    assert df["industry_code"][0] == "99999"
    assert json.loads(df["extra"][0]) == {"SICCode.SicText_1": "Dormant"}
    assert ctx.warnings.counts == {"bad_sic": 1} and ctx.warnings.items[0].key == "00000007"
