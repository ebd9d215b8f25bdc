"""Postcode and address normalisation per country (mdm.address)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mdm.address import address, postcode, postcode_district, postcode_valid


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("ls10 2ru", "GB", "LS10 2RU"),
        ("LS102RU", "GB", "LS10 2RU"),
        ("ＳＷ１Ａ　１ＡＡ", "GB", "SW1A 1AA"),
        ("ec1v 9av", "gb", "EC1V 9AV"),
        ("not a code", "GB", "NOTACODE"),
        ("02110", "US", "02110"),
        ("2110", "US", "02110"),  # leading zero lost in a spreadsheet
        ("02110-1234", "US", "02110-1234"),
        ("021101234", "US", "02110-1234"),
        ("200120", "CN", "200120"),
        ("1067", "DE", "01067"),
        ("10115", "DE", "10115"),
        ("1012 AB", "NL", "1012AB"),
        ("", "GB", ""),
        (None, "US", ""),
    ],
)
def test_postcode(value: str | None, country: str, expected: str) -> None:
    assert postcode(value, country) == expected


def test_postcode_validity_and_district() -> None:
    assert postcode_valid("ls10 2ru", "GB") and not postcode_valid("LS10", "GB")
    assert postcode_valid("02110-1234", "US") and not postcode_valid("021", "US")
    assert postcode_valid("200120", "CN") and not postcode_valid("20012", "CN")
    assert postcode_valid("01067", "DE") and not postcode_valid("010677", "DE")
    assert postcode_district("ls10 2ru", "GB") == "LS10"
    assert postcode_district("02110-1234", "US") == "02110"
    assert postcode_district("200120", "CN") == "200120"


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("1 High Street (Floor 2)", "GB", "1 high st"),
        ("1 High St.", "GB", "1 high st"),
        ("Metrohouse 57 Pepper Road, Leeds LS10 2RU", "GB", "metrohouse 57 pepper rd leeds"),
        ("500 Fifth Avenue, Suite 10", "US", "500 fifth ave ste 10"),
        ("Hauptstraße 5", "DE", "hauptstr 5"),
        ("Hauptstrasse 5", "DE", "hauptstr 5"),
        ("Hauptstr. 5", "DE", "hauptstr 5"),
        ("Berliner Straße 5", "DE", "berliner str 5"),
        ("Berliner Str. 5", None, "berliner str 5"),
        ("10 Avenue des Champs-Élysées", "FR", "10 av des champs elysees"),
        ("上海市浦東新區世紀大道100號", "CN", "上海市浦东新区世纪大道100号"),
        ("上海市 浦东新区 世纪大道 100 号", "CN", "上海市浦东新区世纪大道100号"),
        ("", "GB", ""),
        (None, None, ""),
    ],
)
def test_address(value: str | None, country: str | None, expected: str) -> None:
    assert address(value, country) == expected


def test_the_records_own_postcode_is_removed_from_the_text() -> None:
    assert address("10115 Berlin, Invalidenstraße 1", "DE", postal_code="10115") == "berlin invalidenstr 1"
    assert address("200120 上海市浦东新区", "CN", postal_code="200120") == "上海市浦东新区"


def test_companies_house_postcodes(realdata: Path) -> None:
    path = realdata / "uk-companies-house" / "companieshr-basiccompanydata-1000.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    uk = [
        r
        for r in rows
        if r["RegAddress.PostCode"]
        and r["RegAddress.Country"] in ("", "UNITED KINGDOM", "ENGLAND", "WALES", "SCOTLAND")
    ]
    valid = [r for r in uk if postcode_valid(r["RegAddress.PostCode"], "GB")]
    assert len(valid) / len(uk) > 0.95
    for r in valid:
        pc = postcode(r["RegAddress.PostCode"], "GB")
        assert pc == " ".join(r["RegAddress.PostCode"].upper().split()), r["RegAddress.PostCode"]
        line = address(f"{r['RegAddress.AddressLine1']} {pc}", "GB")
        assert pc.lower() not in line


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sw1a 1aa", "SW1A1AA"),
        ("SW1A-1AA", "SW1A1AA"),
        ("ＳＷ１Ａ　１ＡＡ", "SW1A1AA"),
        ("200120", "200120"),
        ("02110-1234", "021101234"),
        ("", ""),
        (None, ""),
    ],
)
def test_postcode_of_unknown_country_is_compacted(value: str | None, expected: str) -> None:
    """Without a country the code is only folded and compacted, so equal codes compare equal."""
    assert postcode(value) == expected
