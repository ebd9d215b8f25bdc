"""Data-quality metrics (mdm.quality) on hand-built frames, and the identifier rules they rest on
(mdm.identifiers: classify_cn_code, valid_de_register, valid_ein)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mdm import identifiers as ids
from mdm import quality as dq

USCC = "91310000X0727109X6"           # a real Unified Social Credit Code
USCC_BAD = "91310000X0727109X7"       # the same with a wrong check character
LEGACY_CN = "110000410133216"         # 15-digit pre-2015 business registration number
LEI = "529900T8BM49AURSDO55"
LEI_BAD = "529900T8BM49AURSDO56"


def frame(source: str, source_format: str, rows: list[dict]) -> pd.DataFrame:
    """A frame of organisation rows of one source; missing keys are None."""
    cols = sorted({k for r in rows for k in r})
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows]).assign(source=source, source_format=source_format)


def by_attr(m: pd.DataFrame, source: str) -> dict[str, dict]:
    sub = m[m["source"] == source]
    return {r["attribute"]: r for r in sub.to_dict("records")}


def close(a: float | None, b: float | None) -> bool:
    if b is None:
        return a is None or (isinstance(a, float) and math.isnan(a))
    return a is not None and math.isclose(a, b)


# --- metrics --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def uk() -> pd.DataFrame:
    """Companies House rows: registration numbers and postcodes judged by the GB rules."""
    return frame("uk", "companies_house_csv", [
        {"source_id": "08209948", "name": "Acme Ltd", "country": "GB", "postal_code": "SW1A 1AA",
         "registration_number": "08209948", "city": None, "incorporated_on": "2001-02-03"},
        {"source_id": "SC421617", "name": "X", "country": "GB", "postal_code": "12345",
         "registration_number": "ABC", "city": None, "incorporated_on": "2001-02-30"},
        {"source_id": "SC421617", "name": None, "country": "XX", "postal_code": None,
         "registration_number": "", "city": None, "incorporated_on": "2001-02-03T10:00:00"},
        {"source_id": "bad!", "name": "Beta\x01 Ltd", "country": None, "postal_code": "   ",
         "registration_number": "8209948", "city": None, "incorporated_on": None},
    ])


def test_metrics_of_companies_house_rows(uk: pd.DataFrame) -> None:
    m = by_attr(dq.metrics(uk), "uk")
    assert set(m) == {"source_id", "name", "country", "postal_code", "registration_number", "city", "incorporated_on"}
    assert all(r["rows"] == 4 for r in m.values())
    expected = {
        # attribute: (completeness, validity, uniqueness)
        "source_id": (1.0, 3 / 4, 3 / 4),               # 'bad!' is no Companies House number; SC421617 twice
        "name": (3 / 4, 1 / 3, 1.0),                    # 'X' too short, a control character
        "country": (3 / 4, 2 / 3, 2 / 3),               # 'XX' is no country
        "postal_code": (2 / 4, 1 / 2, 1.0),             # blank is not present; '12345' is no GB postcode
        "registration_number": (3 / 4, 2 / 3, 1.0),     # '' not present; 'ABC' invalid; '8209948' padded
        "city": (0.0, None, None),                      # nothing present: no validity, no uniqueness
        "incorporated_on": (3 / 4, 2 / 3, 1.0),         # 30 February is no date; a timestamp's date counts
    }
    for attr, (c, v, u) in expected.items():
        r = m[attr]
        assert close(r["completeness"], c), (attr, r)
        assert close(r["validity"], v), (attr, r)
        assert close(r["uniqueness"], u), (attr, r)


def test_metrics_postcode_and_register_rules_per_country() -> None:
    f = frame("bank", "sql", [
        {"source_id": "1", "country": "DE", "postal_code": "10115", "registration_number": "Aachen HRA 11223"},
        {"source_id": "2", "country": "Germany", "postal_code": "1011", "registration_number": "Aachen HRC 44123"},
        {"source_id": "3", "country": "CN", "postal_code": "100000", "registration_number": USCC},
        {"source_id": "4", "country": "China", "postal_code": "10000", "registration_number": LEGACY_CN},
        {"source_id": "5", "country": "CN", "postal_code": None, "registration_number": "1234567890123"},
        {"source_id": "6", "country": "US", "postal_code": "12345-6789", "registration_number": "C1234567"},
        {"source_id": "7", "country": "FR", "postal_code": "75001", "registration_number": "RCS Paris 123"},
        {"source_id": "8", "country": "GB", "postal_code": "EC1A 1BB", "registration_number": "08209948"},
        {"source_id": "9", "country": "US", "postal_code": "1234", "registration_number": None},
        {"source_id": "10", "country": None, "jurisdiction": "DE", "postal_code": None,
         "registration_number": "Berlin (Charlottenburg) HRB 12345"},
    ])
    m = by_attr(dq.metrics(f), "bank")
    # Postcodes judged only where the country has a rule (FR has none): 10115, 100000, 12345-6789, EC1A 1BB
    # pass; 1011 (DE), 10000 (CN), 1234 (US) fail.
    assert close(m["postal_code"]["validity"], 4 / 7)
    assert close(m["postal_code"]["completeness"], 8 / 10)
    # Registration numbers: DE by the Handelsregister rule (HRC is no register; the jurisdiction stands in
    # for a missing country), CN USCC or legacy number, GB Companies House; US and FR have no rule.
    assert close(m["registration_number"]["validity"], 5 / 7)
    # A source id of an internal system has no rule at all.
    assert close(m["source_id"]["validity"], None)
    assert close(m["source_id"]["uniqueness"], 1.0)


@pytest.mark.parametrize("country,good,bad", [
    ("GB", ["SW1A 1AA", "sw1a1aa", "M1 1AE", "EC1A 1BB"], ["12345", "SW1A", "1AA SW1"]),
    ("US", ["12345", "12345-6789"], ["1234", "123456", "ABCDE"]),
    ("CN", ["100000", "518000"], ["10000", "1000000", "10000A"]),
    ("DE", ["10115", "80331"], ["1011", "101150", "D-10115"]),
])
def test_postcode_rule_of_each_country(country: str, good: list[str], bad: list[str]) -> None:
    f = frame("s", "sql", [{"source_id": str(i), "country": country, "postal_code": v}
                           for i, v in enumerate(good + bad)])
    m = by_attr(dq.metrics(f), "s")
    assert close(m["postal_code"]["validity"], len(good) / (len(good) + len(bad)))


def test_postcode_without_a_rule_for_the_country_has_no_validity() -> None:
    f = frame("s", "sql", [{"source_id": "1", "country": "FR", "postal_code": "75001"},
                           {"source_id": "2", "country": None, "postal_code": "75002"}])
    m = by_attr(dq.metrics(f), "s")
    assert close(m["postal_code"]["completeness"], 1.0)
    assert close(m["postal_code"]["validity"], None)


@pytest.mark.parametrize("fmt,good,bad", [
    ("gleif_lei_xml", [LEI], [LEI_BAD, "NOT-AN-LEI"]),
    ("cn_registry_csv", [USCC, LEGACY_CN, USCC.lower()], [USCC_BAD, "1234567890123", "12345678901"]),
    ("companies_house_csv", ["08209948", "SC421617", "8209948"], ["ABC", "123456789"]),
    ("sec_fsds", ["320193", "0000320193"], ["0", "ABC", "12345678901"]),
])
def test_source_id_rule_of_each_register_format(fmt: str, good: list[str], bad: list[str]) -> None:
    f = frame("s", fmt, [{"source_id": v, "name": "Name"} for v in good + bad])
    m = by_attr(dq.metrics(f), "s")
    assert close(m["source_id"]["validity"], len(good) / (len(good) + len(bad)))


@pytest.mark.parametrize("country,good,bad", [
    ("GB", ["08209948", "SC421617", "8209948"], ["ABC", "123456789"]),
    ("DE", ["Aachen HRA 11223", "Berlin (Charlottenburg) HRB 12345"], ["Aachen HRC 44123", "HRB"]),
    ("CN", [USCC, LEGACY_CN], [USCC_BAD, "1234567890123", "12345678901"]),
])
def test_registration_number_rule_of_each_country(country: str, good: list[str], bad: list[str]) -> None:
    f = frame("s", "sql", [{"source_id": str(i), "country": country, "registration_number": v}
                           for i, v in enumerate(good + bad)])
    m = by_attr(dq.metrics(f), "s")
    assert close(m["registration_number"]["validity"], len(good) / (len(good) + len(bad)))


def test_identifier_attributes_with_check_digits() -> None:
    f = frame("s", "sql", [
        {"source_id": "1", "lei": LEI, "uscc": USCC, "cik": "320193", "ein": "04-2103594"},
        {"source_id": "2", "lei": LEI_BAD, "uscc": USCC_BAD, "cik": "0", "ein": "00-1234567"},
        {"source_id": "3", "lei": LEI, "uscc": LEGACY_CN, "cik": None, "ein": None},
    ])
    m = by_attr(dq.metrics(f), "s")
    assert close(m["lei"]["validity"], 2 / 3) and close(m["lei"]["uniqueness"], 2 / 3)
    assert close(m["uscc"]["validity"], 2 / 3) and close(m["uscc"]["uniqueness"], 1.0)
    assert close(m["cik"]["validity"], 1 / 2) and close(m["cik"]["completeness"], 2 / 3)
    assert close(m["ein"]["validity"], 1 / 2)


def test_metrics_per_source_are_separate_and_sorted(uk: pd.DataFrame) -> None:
    other = frame("a_bank", "sql", [{"source_id": "1", "name": "Acme Ltd"}])
    m = dq.metrics(pd.concat([uk, other], ignore_index=True))
    assert list(m.columns) == ["source", "attribute", "rows", "completeness", "validity", "uniqueness"]
    assert m["source"].iloc[0] == "a_bank"
    assert set(m.loc[m["source"] == "a_bank", "rows"]) == {1}
    assert set(m.loc[m["source"] == "uk", "rows"]) == {4}
    assert (m[["completeness", "validity", "uniqueness"]].stack().between(0, 1)).all()


def test_metrics_of_an_empty_frame_is_empty() -> None:
    m = dq.metrics(pd.DataFrame(columns=["source", "source_format", "source_id", "name"]))
    assert m.empty
    assert list(m.columns) == ["source", "attribute", "rows", "completeness", "validity", "uniqueness"]


# --- identifier classes ------------------------------------------------------------------------------

def test_identifier_classes_count_every_row() -> None:
    f = pd.concat([
        frame("cn", "cn_registry_csv", [{"source_id": v, "uscc": v} for v in
                                         [USCC, "91320213033754116W", USCC_BAD, LEGACY_CN, "1234567890123", None, "  "]]),
        frame("bank", "sql", [{"source_id": "1", "uscc": None, "lei": LEI},
                              {"source_id": "2", "uscc": None, "lei": LEI_BAD},
                              {"source_id": "3", "uscc": None, "lei": None}]),
    ], ignore_index=True)
    c = dq.identifier_classes(f)
    assert list(c.columns) == ["source", "attribute", "class", "rows"]
    got = {(r.source, r.attribute, r[2]): r.rows for r in c.itertuples(index=False)}
    assert got == {
        ("cn", "uscc", "uscc"): 2, ("cn", "uscc", "uscc_bad_check"): 1, ("cn", "uscc", "legacy_registration"): 1,
        ("cn", "uscc", "other_format"): 1, ("cn", "uscc", "missing"): 2,
        # The bank's uscc column is all NULL: not classified. The cn rows have no LEI at all (NaN after concat).
        ("bank", "lei", "lei"): 1, ("bank", "lei", "lei_bad_check"): 1, ("bank", "lei", "missing"): 1,
    }
    # Per (source, attribute) the classes add up to the source's rows.
    sums = c.groupby(["source", "attribute"])["rows"].sum().to_dict()
    assert sums == {("bank", "lei"): 3, ("cn", "uscc"): 7}
    # Classes are listed in sorted order within a (source, attribute).
    for _, part in c.groupby(["source", "attribute"]):
        assert list(part["class"]) == sorted(part["class"])


# --- identifier rules --------------------------------------------------------------------------------

@pytest.mark.parametrize("value,expected", [
    (USCC, "uscc"),
    (USCC.lower(), "uscc"),
    (f" {USCC} ", "uscc"),
    ("91320213033754116W", "uscc"),
    (USCC_BAD, "uscc_bad_check"),
    ("91320213033754116X", "uscc_bad_check"),
    (LEGACY_CN, "legacy_registration"),
    ("1234567890123", "other_format"),        # 13 characters
    ("12345678901", "other_format"),          # 11 characters
    ("9132021303375411", "other_format"),     # 16 characters
    ("91320213I33754116W", "other_format"),   # 'I' is not in the USCC alphabet
    ("", "missing"),
    ("   ", "missing"),
    (None, "missing"),
])
def test_classify_cn_code(value: str | None, expected: str) -> None:
    assert ids.classify_cn_code(value) == expected


@pytest.mark.parametrize("value", ["Aachen HRA 11223", "Berlin (Charlottenburg) HRB 12345"])
def test_valid_de_register(value: str) -> None:
    assert ids.valid_de_register(value) == value


@pytest.mark.parametrize("value", ["Aachen HRC 44123", "Nowhere HRB 12345", "HRB", "", None])
def test_invalid_de_register_is_none(value: str | None) -> None:
    assert ids.valid_de_register(value) is None


@pytest.mark.parametrize("value,expected", [("04-2103594", "042103594"), ("042103594", "042103594"),
                                            ("98-7654321", "987654321")])
def test_valid_ein(value: str, expected: str) -> None:
    assert ids.valid_ein(value) == expected


@pytest.mark.parametrize("value", ["00-1234567", "07-1234567", "12-345678", "abc", "", None])
def test_invalid_ein_is_none(value: str | None) -> None:
    assert ids.valid_ein(value) is None
