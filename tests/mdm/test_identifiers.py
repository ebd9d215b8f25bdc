"""Identifier validity and normal forms (mdm.identifiers): only identifiers that pass their check may link records."""

from __future__ import annotations

import pytest

from mdm import identifiers as ids

GLEIF_LEI = "001GPB6A9XPE8XJICC14"  # a real LEI from the GLEIF golden-copy sample
HSBC_LEI = "MLU0ZO3ML4LN2LL2TL39"
REAL_USCC = "91310000X0727109X6"


@pytest.mark.parametrize("value", [GLEIF_LEI, HSBC_LEI, "001gpb6a9xpe8xjicc14", f" {GLEIF_LEI} "])
def test_valid_lei_returns_compact_upper_case_form(value: str) -> None:
    assert ids.valid_lei(value) == value.strip().upper()


@pytest.mark.parametrize("value", [
    "001GPB6A9XPE8XJICC15",  # check digits changed
    "001GPB6A9XPE8XJICD14",  # one character of the body changed
    "001GPB6A9XPE8XJICC1",   # too short
    "NOT-AN-LEI",
    "",
    None,
])
def test_invalid_lei_is_none(value: str | None) -> None:
    assert ids.valid_lei(value) is None


def test_valid_uscc() -> None:
    assert ids.valid_uscc(REAL_USCC) == REAL_USCC
    assert ids.valid_uscc(REAL_USCC.lower()) == REAL_USCC
    assert ids.valid_uscc("91440300708461136T") == "91440300708461136T"


@pytest.mark.parametrize("value", ["91310000X0727109X7", "91310000X0727109", "", None])
def test_invalid_uscc_is_none(value: str | None) -> None:
    assert ids.valid_uscc(value) is None


def test_legacy_15_digit_registration_number_is_its_own_type() -> None:
    legacy = "310000400001234"
    assert ids.valid_uscc(legacy) is None
    assert ids.legacy_cn_registration(legacy) == legacy
    assert ids.legacy_cn_registration(f" {legacy} ") == legacy
    # A USCC, or a number of another length, is not a legacy number.
    assert ids.legacy_cn_registration(REAL_USCC) is None
    assert ids.legacy_cn_registration("31000040000123") is None
    assert ids.legacy_cn_registration(None) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("8209948", "08209948"),     # leading zero lost (e.g. by a spreadsheet)
    ("08209948", "08209948"),
    ("SC421617", "SC421617"),    # Scottish company
    ("sc 421617", "SC421617"),
    ("NI 000001", "NI000001"),
    ("ABCDEF", None),
    ("123456789", None),         # too long
    ("SC4216", None),            # prefix with too few digits
    ("S1421617", None),
    ("", None),
    (None, None),
])
def test_companies_house_number(value: str | None, expected: str | None) -> None:
    assert ids.companies_house_number(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("0000320193", "320193"),
    ("320193", "320193"),
    (" 0001018724 ", "1018724"),
    ("0", None),
    ("0000000000", None),
    ("12345678901", None),  # more than 10 digits
    ("CIK320193", None),
    ("", None),
    (None, None),
])
def test_cik_drops_leading_zeros(value: str | None, expected: str | None) -> None:
    assert ids.valid_cik(value) == expected


def test_cik_with_and_without_zeros_is_the_same_key() -> None:
    assert ids.valid_cik("0000320193") == ids.valid_cik("320193")


@pytest.mark.parametrize(("value", "expected"), [
    ("04-2103594", "042103594"),
    ("042103594", "042103594"),
    ("12-3456789", "123456789"),
    ("07-1234567", None),   # 07 is not an assigned campus prefix
    ("00-1234567", None),
    ("12-345678", None),    # too short
    ("", None),
    (None, None),
])
def test_ein(value: str | None, expected: str | None) -> None:
    assert ids.valid_ein(value) == expected

