"""GLEIF adapters on the real LEI-CDF / RR-CDF sample files, and on bad inputs generated in tmp_path."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from stdnum import lei as stdlei

from mdm.schema import TABLES
from pipelines.adapters.base import Batch, conform
from pipelines.adapters.gleif import extract_lei, extract_rr
from pipelines.errors import SourceError
from tests.conftest import make_ctx

LEI_FILE = "bodspipelines-lei-data.xml"
UPD_OLD = "bodspipelines-lei-updates-data2.xml"
UPD_NEW = "bodspipelines-lei-updates-data2-new.xml"
RR_FILES = {
    "bodspipelines-rr-data.xml": 10,
    "bodspipelines-rr-updates-data2.xml": 11,
    "bodspipelines-rr-updates-data2-new.xml": 10,
}


def _batches(path: Path, fmt: str = "gleif_lei_xml", **kw) -> tuple[list[Batch], object]:
    ctx = make_ctx(format=fmt, path=path, **kw)
    fn = extract_lei if fmt == "gleif_lei_xml" else extract_rr
    return list(fn(ctx)), ctx


def _frame(path: Path, fmt: str = "gleif_lei_xml", **kw) -> pd.DataFrame:
    batches, _ = _batches(path, fmt, **kw)
    table = "organization" if fmt == "gleif_lei_xml" else "relationship"
    assert all(b.table == table for b in batches)
    return pd.concat([b.frame for b in batches], ignore_index=True)


def _error(path: Path, fmt: str = "gleif_lei_xml", **kw) -> tuple[SourceError, int]:
    """Run an adapter that must fail; return the error and the number of rows yielded before it."""
    ctx = make_ctx(format=fmt, path=path, **kw)
    fn = extract_lei if fmt == "gleif_lei_xml" else extract_rr
    rows = 0
    with pytest.raises(SourceError) as info:
        for b in fn(ctx):
            rows += len(b.frame)
    return info.value, rows


@pytest.fixture(scope="module")
def gleif(realdata: Path) -> Path:
    return realdata / "gleif"


@pytest.fixture(scope="module")
def lei_rows(gleif: Path) -> pd.DataFrame:
    return _frame(gleif / LEI_FILE)


# --------------------------------------------------------------------------- level 1 on the real files


def test_lei_sample_has_13_valid_distinct_leis(lei_rows: pd.DataFrame, gleif: Path) -> None:
    assert len(lei_rows) == 13
    assert lei_rows["lei"].nunique() == 13
    assert all(stdlei.is_valid(x) for x in lei_rows["lei"])
    assert (lei_rows["source_id"] == lei_rows["lei"]).all()
    assert set(lei_rows.columns) <= set(TABLES["organization"])
    assert (lei_rows["src_file"] == str(gleif / LEI_FILE)).all()
    # The batch conforms to the canonical table without complaint.
    ctx = make_ctx(format="gleif_lei_xml", path=gleif / LEI_FILE)
    out = conform("organization", lei_rows, ctx)
    assert list(out.columns) == list(TABLES["organization"])
    assert out["src_line"].dtype == "Int64"


def test_first_record_fields(lei_rows: pd.DataFrame) -> None:
    r = lei_rows.set_index("lei").loc["001GPB6A9XPE8XJICC14"]
    assert r["name"] == "Fidelity Advisor Leveraged Company Stock Fund"
    assert r["name_lang"] == "en"
    assert r["name_en"] == r["name"]
    assert json.loads(r["other_names"]) == [
        {
            "name": "FIDELITY ADVISOR SERIES I - Fidelity Advisor Leveraged Company Stock Fund",
            "type": "PREVIOUS_LEGAL_NAME",
            "lang": "en",
        }
    ]
    assert (r["address"], r["city"], r["region"], r["country"], r["postal_code"]) == (
        "245 SUMMER STREET",
        "BOSTON",
        "US-MA",
        "US",
        "02210",
    )
    assert (r["hq_address"], r["hq_city"], r["hq_country"], r["hq_postal_code"]) == (
        "C/O Fidelity Management & Research Company LLC",
        "Boston",
        "US",
        "02210",
    )
    assert (r["registration_authority"], r["registration_number"]) == ("RA000665", "S000005113")
    assert r["jurisdiction"] == "US-MA"
    assert r["category"] == "FUND"
    assert (r["legal_form_code"], r["legal_form"]) == ("8888", "FUND")
    assert (r["entity_status"], r["registration_status"]) == ("ACTIVE", "ISSUED")
    assert r["updated_at"] == "2023-05-18T15:41:20.212Z"
    assert r["incorporated_on"] == "2012-11-29"
    assert json.loads(r["extra"]) == {
        "ManagingLOU": "EVK05KS7XY1DEII3R011",
        "InitialRegistrationDate": "2012-11-29T16:33:00.000Z",
        "NextRenewalDate": "2024-05-18T15:48:53.604Z",
        "ValidationSources": "FULLY_CORROBORATED",
    }


def test_other_records(lei_rows: pd.DataFrame) -> None:
    by = lei_rows.set_index("lei")
    hutchin = by.loc["004L5FPTUREIWK9T2N63"]
    # AdditionalAddressLine elements are joined to the first line in document order.
    assert hutchin["address"] == "C/O Corporation Service Company, 2711 Centerville Road, Suite 400"
    assert hutchin["hq_address"] == "22nd Floor, 888 7th Avenue"
    assert (hutchin["legal_form_code"], hutchin["legal_form"]) == ("T91T", None)
    assert hutchin["incorporated_on"] is None  # no EntityCreationDate in the record
    prudential = json.loads(by.loc["00QDBXDXLLF3W3JJJO36", "other_names"])
    assert [o["name"] for o in prudential] == [
        "Jennison 20/20 Focus Fund",
        "Prudential 20/20 Focus Fund",
        "Prudential 20/20 Fund",
        "Prudential Jennison 20/20 Focus Fund",
    ]
    assert by.loc["1595D0QCK7Y15293JK84", "registration_number"] == "03004112"  # leading zeros kept
    swede = by.loc["213800BJPX8V9HVY1Y11"]
    assert (swede["name_lang"], swede["name_en"]) == ("sv", "Swedeit Italian Aktiebolag")  # Latin script
    assert (swede["city"], swede["country"], swede["postal_code"]) == ("Västra Frölunda", "SE", "426 76")
    # MailRouting is not part of the street address (the C/O line appears once, from FirstAddressLine).
    assert swede["address"].count("C/O") == 1 and swede["address"].endswith(", Fortgatan 11")
    assert by["other_names"].notna().sum() == 5


def test_src_line_points_at_record_start_tag(lei_rows: pd.DataFrame, gleif: Path) -> None:
    lines = (gleif / LEI_FILE).read_text(encoding="utf-8").splitlines()
    assert lei_rows["src_line"].tolist() == sorted(set(lei_rows["src_line"]))
    for ln, lei in zip(lei_rows["src_line"], lei_rows["lei"]):
        assert "<lei:LEIRecord" in lines[ln - 1] and "<lei:LEIRecords" not in lines[ln - 1]
        # ... and the LEI that follows within the record is the row's own.
        assert f"<lei:LEI>{lei}</lei:LEI>" in "\n".join(lines[ln : ln + 5])
    assert lei_rows["src_line"].iloc[0] == 8


def test_update_snapshots_differ(gleif: Path) -> None:
    old, new = _frame(gleif / UPD_OLD), _frame(gleif / UPD_NEW)
    assert len(old) == len(new) == 12
    assert all(stdlei.is_valid(x) for x in pd.concat([old["lei"], new["lei"]]))
    assert set(old["lei"]) - set(new["lei"]) == {"097900BJGO0000201513"}
    assert set(new["lei"]) - set(old["lei"]) == {"ZZZWS8Y6XVKM0Q9RJQ79"}
    o, n = old.set_index("lei").loc["00TR8NKAEL48RGTZEW89"], new.set_index("lei").loc["00TR8NKAEL48RGTZEW89"]
    assert (o["entity_status"], n["entity_status"]) == ("ACTIVE", "INACTIVE")
    assert (o["registration_status"], n["registration_status"]) == ("ISSUED", "RETIRED")
    assert (o["updated_at"], n["updated_at"]) == ("2023-08-03T08:48:03.080+02:00", "2023-09-03T08:48:03.080+02:00")
    assert o["name"] == n["name"] == "ESG DOMESTIC OPPORTUNITY OFFSHORE FUND LTD."
    # Code 9999 with an OtherLegalForm: the text is kept as the legal form.
    assert (n["legal_form_code"], n["legal_form"]) == ("9999", "CAYMAN ISLANDS ORDINARY NON-RESIDENT COMPANY")
    # Every LEI present in both snapshots was updated later in the new one.
    both = old.set_index("lei")[["updated_at"]].join(new.set_index("lei")[["updated_at"]], rsuffix="_new", how="inner")
    assert len(both) == 11
    assert (both["updated_at"] != both["updated_at_new"]).all()


def test_name_en_choice(gleif: Path) -> None:
    by = _frame(gleif / UPD_OLD).set_index("lei")
    smart = by.loc["097900BEJX0000002337"]
    # A PREFERRED_ASCII transliteration wins over the (Slovak, diacritics) legal name.
    assert smart["name"].startswith("SMART, zelený")
    assert smart["name_en"].startswith("SMART, zeleny inovativny") and smart["name_en"].isascii()
    aquila = by.loc["097900BJGO0000201513"]
    # Only an AUTO_ASCII transliteration: the Latin-script legal name is kept as name_en.
    assert aquila["name_en"] == aquila["name"] == "Aquila Real Asset Finance III a. s. v likvidácii"
    assert json.loads(aquila["other_names"]) == [
        {
            "name": "AQUILA REAL ASSET FINANCE III A S V LIKVIDACII",
            "type": "AUTO_ASCII_TRANSLITERATED_LEGAL_NAME",
            "lang": "en",
        }
    ]
    assert aquila["registration_status"] == "LAPSED"


def test_zip_gives_same_rows(lei_rows: pd.DataFrame, gleif: Path, tmp_path: Path) -> None:
    archive = tmp_path / "lei.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(gleif / LEI_FILE, arcname="20230605-gleif-concatenated-file-lei2.xml")
    zipped = _frame(archive)
    assert (zipped["src_file"] == f"{archive}!20230605-gleif-concatenated-file-lei2.xml").all()
    pd.testing.assert_frame_equal(zipped.drop(columns="src_file"), lei_rows.drop(columns="src_file"))


def test_chunk_size_5_gives_three_batches(lei_rows: pd.DataFrame, gleif: Path) -> None:
    batches, _ = _batches(gleif / LEI_FILE, chunk_size=5)
    assert [len(b.frame) for b in batches] == [5, 5, 3]
    pd.testing.assert_frame_equal(pd.concat([b.frame for b in batches], ignore_index=True), lei_rows)


def test_default_namespace_is_read_alike(lei_rows: pd.DataFrame, gleif: Path, tmp_path: Path) -> None:
    # The same document with the LEI namespace as default namespace (no prefix on any element).
    data = (gleif / LEI_FILE).read_bytes()
    data = data.replace(b"<lei:", b"<").replace(b"</lei:", b"</").replace(b"xmlns:lei=", b"xmlns=")
    path = tmp_path / "unprefixed.xml"
    path.write_bytes(data)
    rows = _frame(path)
    pd.testing.assert_frame_equal(rows.drop(columns="src_file"), lei_rows.drop(columns="src_file"))


def test_src_line_exact_beyond_65535_lines(gleif: Path, tmp_path: Path) -> None:
    # libxml2 line numbers are unreliable past 65,535; the adapter's own count must stay exact.
    data = (gleif / LEI_FILE).read_bytes()
    start, end = data.index(b"<lei:LEIRecord "), data.index(b"</lei:LEIRecords>")
    big = data[:start] + data[start:end] * 100 + data[end:]
    path = tmp_path / "big.xml"
    path.write_bytes(big)
    lines = big.split(b"\n")
    assert len(lines) > 80_000
    rows = _frame(path, chunk_size=500)
    assert len(rows) == 1300
    assert rows["src_line"].is_monotonic_increasing and rows["src_line"].is_unique
    assert rows["src_line"].max() > 65_535
    for ln in rows["src_line"]:
        assert lines[ln - 1].lstrip().startswith(b"<lei:LEIRecord ")


# --------------------------------------------------------------------------- level 2 on the real files


@pytest.mark.parametrize("name,count", sorted(RR_FILES.items()))
def test_rr_files(gleif: Path, name: str, count: int) -> None:
    rows = _frame(gleif / name, "gleif_rr_xml")
    assert len(rows) == count
    assert set(rows.columns) <= set(TABLES["relationship"])
    assert all(stdlei.is_valid(x) for x in pd.concat([rows["child_id"], rows["parent_id"]]))
    assert set(rows["child_id_type"]) == set(rows["parent_id_type"]) == {"LEI"}
    assert set(rows["relationship_type"]) <= {
        "IS_DIRECTLY_CONSOLIDATED_BY",
        "IS_ULTIMATELY_CONSOLIDATED_BY",
        "IS_FUND-MANAGED_BY",
        "IS_SUBFUND_OF",
    }
    assert rows["start_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    lines = (gleif / name).read_text(encoding="utf-8").splitlines()
    assert all(lines[ln - 1].startswith("<rr:RelationshipRecord ") for ln in rows["src_line"])


def test_rr_first_file_content(gleif: Path) -> None:
    rows = _frame(gleif / "bodspipelines-rr-data.xml", "gleif_rr_xml")
    first = rows.iloc[0]
    assert (first["child_id"], first["parent_id"], first["relationship_type"]) == (
        "001GPB6A9XPE8XJICC14",
        "5493001Z012YSB2A0K51",
        "IS_FUND-MANAGED_BY",
    )
    assert (first["relationship_status"], first["registration_status"]) == ("ACTIVE", "PUBLISHED")
    assert (first["start_date"], first["end_date"]) == ("2012-11-29", None)
    assert first["updated_at"] == "2023-05-18T15:41:20.212Z"
    assert rows["relationship_type"].value_counts().to_dict() == {
        "IS_FUND-MANAGED_BY": 5,
        "IS_SUBFUND_OF": 3,
        "IS_DIRECTLY_CONSOLIDATED_BY": 1,
        "IS_ULTIMATELY_CONSOLIDATED_BY": 1,
    }
    # The record with an ACCOUNTING_PERIOD ending 2018-12-31: dates come from its RELATIONSHIP_PERIOD.
    direct = rows[rows["relationship_type"] == "IS_DIRECTLY_CONSOLIDATED_BY"].iloc[0]
    assert (direct["child_id"], direct["start_date"], direct["end_date"]) == (
        "010CMKZ3VON21WF2ZD45",
        "2018-02-06",
        None,
    )
    assert direct["registration_status"] == "LAPSED"


# --------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.xml"
    err, _ = _error(path)
    assert err.file == str(path) and "not found" in str(err)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.xml"
    path.write_bytes(b"")
    err, _ = _error(path)
    assert err.file == str(path) and err.line == 1 and "empty" in err.message


def test_truncated_file(gleif: Path, tmp_path: Path) -> None:
    data = (gleif / LEI_FILE).read_bytes()
    cut = data[: len(data) // 2]
    path = tmp_path / "truncated.xml"
    path.write_bytes(cut)
    complete = cut.count(b"</lei:LEIRecord>")
    err, rows = _error(path)
    assert err.file == str(path)
    assert err.line == cut.count(b"\n") + 1  # lxml reports the end of the data
    assert "Premature end of data" in err.message and f"after {complete} LEIRecord" in err.message
    assert rows == 0  # nothing reached the loader: the one batch was still being filled
    # With small batches the complete records before the cut are streamed out first.
    err, rows = _error(path, chunk_size=1)
    assert rows == complete == 5


def test_non_xml_file(tmp_path: Path) -> None:
    path = tmp_path / "leis.xml"
    path.write_text("LEI,LegalName\n001GPB6A9XPE8XJICC14,Fidelity\n", encoding="utf-8")
    err, _ = _error(path)
    assert err.file == str(path) and err.line == 1 and "Start tag expected" in err.message


def test_undecodable_bytes(gleif: Path, tmp_path: Path) -> None:
    data = (gleif / LEI_FILE).read_bytes().replace(b"Hutchin Hill", b"Hutchin \xff\xfeHill")
    path = tmp_path / "badbytes.xml"
    path.write_bytes(data)
    err, _ = _error(path)
    assert err.line == 79 and "encoding" in err.message


def test_wrong_level_file(gleif: Path) -> None:
    err, _ = _error(gleif / "bodspipelines-rr-data.xml")
    assert "<RelationshipData>" in err.message and "<LEIData>" in err.message
    err, _ = _error(gleif / LEI_FILE, "gleif_rr_xml")
    assert "<LEIData>" in err.message


def test_record_without_lei_is_kept_and_warned(gleif: Path, tmp_path: Path) -> None:
    data = (gleif / LEI_FILE).read_bytes().replace(b"<lei:LEI>004L5FPTUREIWK9T2N63</lei:LEI>", b"")
    path = tmp_path / "nolei.xml"
    path.write_bytes(data)
    batches, ctx = _batches(path)
    rows = pd.concat([b.frame for b in batches], ignore_index=True)
    assert len(rows) == 13
    assert rows["source_id"].isna().tolist() == [False, True] + [False] * 11
    assert rows.loc[1, "name"] == "Hutchin Hill Capital, LP"
    assert ctx.warnings.counts == {"gleif_missing_lei": 1}
    assert ctx.warnings.items[0].line == rows.loc[1, "src_line"] == 74


def test_bad_zips(gleif: Path, tmp_path: Path) -> None:
    not_zip = tmp_path / "garbage.zip"
    not_zip.write_bytes(b"PK\x03\x04 this is not a zip archive")
    assert "zip" in _error(not_zip)[0].message
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.write(gleif / LEI_FILE, arcname="a.xml")
        zf.write(gleif / UPD_OLD, arcname="b.xml")
    assert "exactly one .xml" in _error(two)[0].message
    # A deflate stream with damaged bytes in the middle of the member.
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(gleif / LEI_FILE, arcname="lei.xml")
    raw = bytearray(good.read_bytes())
    for i in range(200, 260):
        raw[i] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    err, _ = _error(damaged)
    assert err.file is not None and err.file.startswith(str(damaged))


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    path = tmp_path / "xxe.xml"
    path.write_text(
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE lei:LEIData [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<lei:LEIData xmlns:lei="http://www.gleif.org/data/schema/leidata/2016"><lei:LEIRecords>\n'
        "<lei:LEIRecord><lei:LEI>001GPB6A9XPE8XJICC14</lei:LEI>"
        "<lei:Entity><lei:LegalName>&x;</lei:LegalName></lei:Entity></lei:LEIRecord>\n"
        "</lei:LEIRecords></lei:LEIData>\n",
        encoding="utf-8",
    )
    rows = _frame(path)
    assert len(rows) == 1 and rows.loc[0, "src_line"] == 4
    assert "TOP-SECRET" not in rows.to_csv()


def test_lei_cdf_1_0_element_names(tmp_path: Path) -> None:
    # The pre-2016 layout: Line1..Line4, BusinessRegisterEntityID@register, plain-text LegalForm, SuccessorLEI.
    path = tmp_path / "cdf10.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<LEIData xmlns="http://www.leiroc.org/data/schema/leidata/2014">\n<LEIRecords>\n'
        "<LEIRecord>\n<LEI>TESTLEI000000000000X</LEI>\n<Entity>\n"
        '<LegalName xml:lang="zh">示例银行股份有限公司</LegalName>\n'
        '<OtherEntityNames><OtherEntityName xml:lang="en" type="ALTERNATIVE_LANGUAGE_LEGAL_NAME">'
        "EXAMPLE BANK CO., LTD.</OtherEntityName></OtherEntityNames>\n"
        "<LegalAddress><Line1>1 Fuxingmen Nei Dajie</Line1><Line2>Xicheng District</Line2>"
        "<City>Beijing</City><Country>CN</Country><PostalCode>100818</PostalCode></LegalAddress>\n"
        '<BusinessRegisterEntityID register="RA000085">91100000TEST00000X</BusinessRegisterEntityID>\n'
        "<LegalForm>JOINT STOCK LIMITED COMPANY</LegalForm>\n<EntityStatus>ACTIVE</EntityStatus>\n"
        "<SuccessorLEI>TESTLEI000000000000X</SuccessorLEI>\n"
        "</Entity>\n<Registration><LastUpdateDate>2016-01-04T00:00:00Z</LastUpdateDate>"
        "<RegistrationStatus>ISSUED</RegistrationStatus></Registration>\n</LEIRecord>\n"
        "</LEIRecords>\n</LEIData>\n",
        encoding="utf-8",
    )
    r = _frame(path).iloc[0]
    assert (r["name"], r["name_lang"], r["name_en"]) == ("示例银行股份有限公司", "zh", "EXAMPLE BANK CO., LTD.")
    assert (r["address"], r["city"], r["country"]) == ("1 Fuxingmen Nei Dajie, Xicheng District", "Beijing", "CN")
    assert (r["registration_authority"], r["registration_number"]) == ("RA000085", "91100000TEST00000X")
    assert (r["legal_form"], r["legal_form_code"]) == ("JOINT STOCK LIMITED COMPANY", None)
    assert json.loads(r["extra"]) == {"SuccessorLEI": "TESTLEI000000000000X"}
    assert r["src_line"] == 4
