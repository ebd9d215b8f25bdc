"""Data-quality metrics (mdm.quality) on hand-built frames, and the identifier rules they rest on
(mdm.identifiers: classify_cn_code, valid_de_register, valid_ein)."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable

import pandas as pd
import pytest

from mdm import identifiers as ids
from mdm import quality as dq

USCC = "91310000X0727109X6"  # a real Unified Social Credit Code
USCC_BAD = "91310000X0727109X7"  # the same with a wrong check character
LEGACY_CN = "110000410133216"  # 15-digit pre-2015 business registration number
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
    return frame(
        "uk",
        "companies_house_csv",
        [
            {
                "source_id": "08209948",
                "name": "Acme Ltd",
                "country": "GB",
                "postal_code": "SW1A 1AA",
                "registration_number": "08209948",
                "city": None,
                "incorporated_on": "2001-02-03",
            },
            {
                "source_id": "SC421617",
                "name": "X",
                "country": "GB",
                "postal_code": "12345",
                "registration_number": "ABC",
                "city": None,
                "incorporated_on": "2001-02-30",
            },
            {
                "source_id": "SC421617",
                "name": None,
                "country": "XX",
                "postal_code": None,
                "registration_number": "",
                "city": None,
                "incorporated_on": "2001-02-03T10:00:00",
            },
            {
                "source_id": "bad!",
                "name": "Beta\x01 Ltd",
                "country": None,
                "postal_code": "   ",
                "registration_number": "8209948",
                "city": None,
                "incorporated_on": None,
            },
        ],
    )


def test_metrics_of_companies_house_rows(uk: pd.DataFrame) -> None:
    m = by_attr(dq.metrics(uk), "uk")
    assert set(m) == {"source_id", "name", "country", "postal_code", "registration_number", "city", "incorporated_on"}
    assert all(r["rows"] == 4 for r in m.values())
    expected = {
        # attribute: (completeness, validity, uniqueness)
        "source_id": (1.0, 3 / 4, 3 / 4),  # 'bad!' is no Companies House number; SC421617 twice
        "name": (3 / 4, 1 / 3, 1.0),  # 'X' too short, a control character
        "country": (3 / 4, 2 / 3, 2 / 3),  # 'XX' is no country
        "postal_code": (2 / 4, 1 / 2, 1.0),  # blank is not present; '12345' is no GB postcode
        "registration_number": (3 / 4, 2 / 3, 1.0),  # '' not present; 'ABC' invalid; '8209948' padded
        "city": (0.0, None, None),  # nothing present: no validity, no uniqueness
        "incorporated_on": (3 / 4, 2 / 3, 1.0),  # 30 February is no date; a timestamp's date counts
    }
    for attr, (c, v, u) in expected.items():
        r = m[attr]
        assert close(r["completeness"], c), (attr, r)
        assert close(r["validity"], v), (attr, r)
        assert close(r["uniqueness"], u), (attr, r)


def test_metrics_postcode_and_register_rules_per_country() -> None:
    f = frame(
        "bank",
        "sql",
        [
            {"source_id": "1", "country": "DE", "postal_code": "10115", "registration_number": "Aachen HRA 11223"},
            {"source_id": "2", "country": "Germany", "postal_code": "1011", "registration_number": "Aachen HRC 44123"},
            {"source_id": "3", "country": "CN", "postal_code": "100000", "registration_number": USCC},
            {"source_id": "4", "country": "China", "postal_code": "10000", "registration_number": LEGACY_CN},
            {"source_id": "5", "country": "CN", "postal_code": None, "registration_number": "1234567890123"},
            {"source_id": "6", "country": "US", "postal_code": "12345-6789", "registration_number": "C1234567"},
            {"source_id": "7", "country": "FR", "postal_code": "75001", "registration_number": "RCS Paris 123"},
            {"source_id": "8", "country": "GB", "postal_code": "EC1A 1BB", "registration_number": "08209948"},
            {"source_id": "9", "country": "US", "postal_code": "1234", "registration_number": None},
            {
                "source_id": "10",
                "country": None,
                "jurisdiction": "DE",
                "postal_code": None,
                "registration_number": "Berlin (Charlottenburg) HRB 12345",
            },
        ],
    )
    m = by_attr(dq.metrics(f), "bank")
    # Postcodes judged only where the country has a rule (FR has none): 10115, 100000, 12345-6789, EC1A 1BB
    # pass; 1011 (DE), 10000 (CN), 1234 (US) fail.
    assert close(m["postal_code"]["validity"], 4 / 7)
    assert close(m["postal_code"]["completeness"], 8 / 10)
    # Registration numbers: DE by the Handelsregister rule (HRC is no register; the jurisdiction stands in
    # for a missing country), CN USCC or legacy number, GB Companies House, FR by its schemes (SIREN: "RCS
    # Paris 123" is none); US has no rule.
    assert close(m["registration_number"]["validity"], 5 / 8)
    # A source id of an internal system has no rule at all.
    assert close(m["source_id"]["validity"], None)
    assert close(m["source_id"]["uniqueness"], 1.0)


@pytest.mark.parametrize(
    "country,good,bad",
    [
        ("GB", ["SW1A 1AA", "sw1a1aa", "M1 1AE", "EC1A 1BB"], ["12345", "SW1A", "1AA SW1"]),
        ("US", ["12345", "12345-6789"], ["1234", "123456", "ABCDE"]),
        ("CN", ["100000", "518000"], ["10000", "1000000", "10000A"]),
        ("DE", ["10115", "80331"], ["1011", "101150", "D-10115"]),
    ],
)
def test_postcode_rule_of_each_country(country: str, good: list[str], bad: list[str]) -> None:
    f = frame(
        "s", "sql", [{"source_id": str(i), "country": country, "postal_code": v} for i, v in enumerate(good + bad)]
    )
    m = by_attr(dq.metrics(f), "s")
    assert close(m["postal_code"]["validity"], len(good) / (len(good) + len(bad)))


def test_postcode_without_a_rule_for_the_country_has_no_validity() -> None:
    f = frame(
        "s",
        "sql",
        [
            {"source_id": "1", "country": "FR", "postal_code": "75001"},
            {"source_id": "2", "country": None, "postal_code": "75002"},
        ],
    )
    m = by_attr(dq.metrics(f), "s")
    assert close(m["postal_code"]["completeness"], 1.0)
    assert close(m["postal_code"]["validity"], None)


@pytest.mark.parametrize(
    "fmt,good,bad",
    [
        ("gleif_lei_xml", [LEI], [LEI_BAD, "NOT-AN-LEI"]),
        ("cn_registry_csv", [USCC, LEGACY_CN, USCC.lower()], [USCC_BAD, "1234567890123", "12345678901"]),
        ("companies_house_csv", ["08209948", "SC421617", "8209948"], ["ABC", "123456789"]),
        ("sec_fsds", ["320193", "0000320193"], ["0", "ABC", "12345678901"]),
    ],
)
def test_source_id_rule_of_each_register_format(fmt: str, good: list[str], bad: list[str]) -> None:
    f = frame("s", fmt, [{"source_id": v, "name": "Name"} for v in good + bad])
    m = by_attr(dq.metrics(f), "s")
    assert close(m["source_id"]["validity"], len(good) / (len(good) + len(bad)))


@pytest.mark.parametrize(
    "country,good,bad",
    [
        ("GB", ["08209948", "SC421617", "8209948"], ["ABC", "123456789"]),
        ("DE", ["Aachen HRA 11223", "Berlin (Charlottenburg) HRB 12345"], ["Aachen HRC 44123", "HRB"]),
        ("CN", [USCC, LEGACY_CN], [USCC_BAD, "1234567890123", "12345678901"]),
    ],
)
def test_registration_number_rule_of_each_country(country: str, good: list[str], bad: list[str]) -> None:
    f = frame(
        "s",
        "sql",
        [{"source_id": str(i), "country": country, "registration_number": v} for i, v in enumerate(good + bad)],
    )
    m = by_attr(dq.metrics(f), "s")
    assert close(m["registration_number"]["validity"], len(good) / (len(good) + len(bad)))


def test_identifier_attributes_with_check_digits() -> None:
    f = frame(
        "s",
        "sql",
        [
            {"source_id": "1", "lei": LEI, "uscc": USCC, "cik": "320193", "ein": "04-2103594"},
            {"source_id": "2", "lei": LEI_BAD, "uscc": USCC_BAD, "cik": "0", "ein": "00-1234567"},
            {"source_id": "3", "lei": LEI, "uscc": LEGACY_CN, "cik": None, "ein": None},
        ],
    )
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
    f = pd.concat(
        [
            frame(
                "cn",
                "cn_registry_csv",
                [
                    {"source_id": v, "uscc": v}
                    for v in [USCC, "91320213033754116W", USCC_BAD, LEGACY_CN, "1234567890123", None, "  "]
                ],
            ),
            frame(
                "bank",
                "sql",
                [
                    {"source_id": "1", "uscc": None, "lei": LEI},
                    {"source_id": "2", "uscc": None, "lei": LEI_BAD},
                    {"source_id": "3", "uscc": None, "lei": None},
                ],
            ),
        ],
        ignore_index=True,
    )
    c = dq.identifier_classes(f)
    assert list(c.columns) == ["source", "attribute", "class", "rows"]
    got = {(r.source, r.attribute, r[2]): r.rows for r in c.itertuples(index=False)}
    assert got == {
        ("cn", "uscc", "uscc"): 2,
        ("cn", "uscc", "uscc_bad_check"): 1,
        ("cn", "uscc", "legacy_registration"): 1,
        ("cn", "uscc", "other_format"): 1,
        ("cn", "uscc", "missing"): 2,
        # The bank's uscc column is all NULL: not classified. The cn rows have no LEI at all (NaN after concat).
        ("bank", "lei", "lei"): 1,
        ("bank", "lei", "lei_bad_check"): 1,
        ("bank", "lei", "missing"): 1,
    }
    # Per (source, attribute) the classes add up to the source's rows.
    sums = c.groupby(["source", "attribute"])["rows"].sum().to_dict()
    assert sums == {("bank", "lei"): 3, ("cn", "uscc"): 7}
    # Classes are listed in sorted order within a (source, attribute).
    for _, part in c.groupby(["source", "attribute"]):
        assert list(part["class"]) == sorted(part["class"])


# --- identifier rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        (USCC, "uscc"),
        (USCC.lower(), "uscc"),
        (f" {USCC} ", "uscc"),
        ("91320213033754116W", "uscc"),
        (USCC_BAD, "uscc_bad_check"),
        ("91320213033754116X", "uscc_bad_check"),
        (LEGACY_CN, "legacy_registration"),
        ("1234567890123", "other_format"),  # 13 characters
        ("12345678901", "other_format"),  # 11 characters
        ("9132021303375411", "other_format"),  # 16 characters
        ("91320213I33754116W", "other_format"),  # 'I' is not in the USCC alphabet
        ("", "missing"),
        ("   ", "missing"),
        (None, "missing"),
    ],
)
def test_classify_cn_code(value: str | None, expected: str) -> None:
    assert ids.classify_cn_code(value) == expected


@pytest.mark.parametrize("value", ["Aachen HRA 11223", "Berlin (Charlottenburg) HRB 12345"])
def test_valid_de_register(value: str) -> None:
    assert ids.valid_de_register(value) == value


@pytest.mark.parametrize("value", ["Aachen HRC 44123", "Nowhere HRB 12345", "HRB", "", None])
def test_invalid_de_register_is_none(value: str | None) -> None:
    assert ids.valid_de_register(value) is None


@pytest.mark.parametrize(
    "value,expected", [("04-2103594", "042103594"), ("042103594", "042103594"), ("98-7654321", "987654321")]
)
def test_valid_ein(value: str, expected: str) -> None:
    assert ids.valid_ein(value) == expected


@pytest.mark.parametrize("value", ["00-1234567", "07-1234567", "12-345678", "abc", "", None])
def test_invalid_ein_is_none(value: str | None) -> None:
    assert ids.valid_ein(value) is None


# --- the fast metrics agree with the per-row definition ------------------------------------------------


def reference_metrics(records: pd.DataFrame) -> pd.DataFrame:
    """The metrics as defined: every rule judged row by row on the whole record (the straightforward form
    `dq.metrics` must agree with exactly)."""
    out = []
    for source, f in records.groupby("source", sort=True):
        rows = f.to_dict("records")
        n = len(rows)
        for attr, rule in dq.RULES.items():
            if attr not in f.columns:
                continue
            values = [(r[attr], r) for r in rows if isinstance(r[attr], str) and r[attr].strip() != ""]
            present = len(values)
            validity = None
            if rule is not None and present:
                judged = [j for j in (rule(v, r) for v, r in values) if j is not None]
                validity = (sum(judged) / len(judged)) if judged else None
            distinct = len({v for v, _ in values})
            out.append(
                {
                    "source": source,
                    "attribute": attr,
                    "rows": n,
                    "completeness": present / n if n else None,
                    "validity": validity,
                    "uniqueness": distinct / present if present else None,
                }
            )
    return pd.DataFrame(out, columns=["source", "attribute", "rows", "completeness", "validity", "uniqueness"])


def reference_identifier_classes(records: pd.DataFrame) -> pd.DataFrame:
    """The identifier classes as defined: every row classified on its own."""
    out = []
    for source, f in records.groupby("source", sort=True):
        for attr, classify in dq.CLASSIFIED.items():
            if attr not in f.columns or f[attr].isna().all():
                continue
            counts = (
                f[attr]
                .map(lambda v, classify=classify: classify(v if isinstance(v, str) and v.strip() else None))
                .value_counts()
            )
            for cls, rows in sorted(counts.items()):
                out.append({"source": source, "attribute": attr, "class": cls, "rows": int(rows)})
        if "registration_number" in f.columns and f["registration_number"].notna().any():
            context = [c for c in dq.RULE_CONTEXT["registration_number"] if c in f.columns]
            classes = [
                dq.register_class(r["registration_number"], {c: r[c] for c in context}) for r in f.to_dict("records")
            ]
            for cls, rows in sorted(Counter(classes).items()):
                out.append({"source": source, "attribute": "registration_number", "class": cls, "rows": rows})
    return pd.DataFrame(out, columns=["source", "attribute", "class", "rows"])


def synthetic_records(n: int, seed: int = 0) -> pd.DataFrame:
    """`n` organisation rows of several sources and formats with realistic identifiers, postcodes, dates and
    countries: values repeat, some are None, blank or whitespace, some fail their check."""
    from stdnum.cn import uscc as stdnum_uscc
    from stdnum.iso7064 import mod_97_10

    rng = random.Random(seed)

    def digits(k: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(k))

    def lei() -> str:
        base = digits(4) + "00" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(12))
        good = base + mod_97_10.calc_check_digits(base)
        return good if rng.random() < 0.9 else base + "00"

    def uscc() -> str:
        r = rng.random()
        if r < 0.03:
            return rng.choice(["C1234567", "9131000", "91310000X0727109X"])  # other formats
        if r < 0.1:
            return digits(15)  # legacy registration number
        base = "91" + digits(6) + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        good = base + stdnum_uscc.calc_check_digit(base)
        return good if r < 0.85 else (base + "0" if not good.endswith("0") else base + "1")

    def sometimes(make: Callable[[], str], p: float = 0.8) -> str | None:
        """A value, or a missing one of each kind (None, empty, blank)."""
        r = rng.random()
        return make() if r < p else rng.choice([None, None, "", "   ", "\t"])

    def pick(pool: list[str]) -> Callable[[], str]:
        return lambda: rng.choice(pool)

    countries = ["GB", "DE", "CN", "US", "FR", "Germany", "China", "United Kingdom", "US-MA", "XX", "gb", " DE "]
    postcodes = [
        "SW1A 1AA",
        "EC1A 1BB",
        "sw1a1aa",
        "12345",
        "12345-6789",
        "1234",
        "10115",
        "80331",
        "1011",
        "100000",
        "518000",
        "10000A",
        "75001",
        "M1 1AE",
        "D-10115",
    ]
    registers = [
        "08209948",
        "SC421617",
        "8209948",
        "ABC",
        "123456789",
        "Aachen HRA 11223",
        "Aachen HRC 44123",
        "HRB 237237",
        "Berlin (Charlottenburg) HRB 12345",
        "1234567890123",
        "110000410133216",
        "91310000X0727109X6",
        "C1234567",
    ]
    dates = [
        "2001-02-03",
        "2001-02-30",
        "2019-07-01T10:00:00Z",
        "03/02/2001",
        "1999-12-31",
        "2020-02-29",
        "2021-02-29",
        "garbage",
    ]
    names = ["Acme Ltd", "X", "Beta\x01 Ltd", "上海某某有限公司", "Gamma GmbH", "Delta Inc.", " ", "Ab"]
    formats = {
        "gleif": ["gleif_lei_xml"],
        "ch": ["companies_house_csv"],
        "cn": ["cn_registry_csv"],
        "sec": ["sec_fsds"],
        "crm": ["sql", "sql", "companies_house_csv"],
    }
    leis = [lei() for _ in range(max(1, n // 3))]
    usccs = [uscc() for _ in range(max(1, n // 3))]
    rows = []
    for _ in range(n):
        source = rng.choice(sorted(formats))
        fmt = rng.choice(formats[source])
        source_id = {
            "gleif_lei_xml": pick(leis),
            "cn_registry_csv": pick(usccs),
            "companies_house_csv": pick(registers),
            "sec_fsds": lambda: str(rng.randint(0, 10**11)),
            "sql": lambda: f"C{rng.randint(0, n)}",
        }[fmt]
        sid = sometimes(source_id, 0.97)
        # Registers repeat their key as the identifier (GLEIF: LEI, Chinese registry: USCC); a CRM holds some.
        lei_fill, uscc_fill = {"gleif": (1.0, 0.01), "cn": (0.02, 1.0), "crm": (0.3, 0.1)}.get(source, (0.02, 0.01))
        rows.append(
            {
                "source": source,
                "source_format": fmt,
                "source_id": sid,
                "name": sometimes(lambda: rng.choice(names) + str(rng.randint(0, 50))),
                "lei": sid if fmt == "gleif_lei_xml" and rng.random() < 0.9 else sometimes(pick(leis), lei_fill),
                "uscc": sid if fmt == "cn_registry_csv" and rng.random() < 0.9 else sometimes(pick(usccs), uscc_fill),
                "registration_number": sometimes(pick(registers)),
                "cik": sometimes(lambda: rng.choice(["320193", "0000320193", "0", "ABC", "12345678901"]), 0.3),
                "ein": sometimes(lambda: rng.choice(["04-2103594", "00-1234567", "98-7654321", "12-345678"]), 0.3),
                "country": sometimes(pick(countries)),
                "jurisdiction": sometimes(pick(countries), 0.3),
                "postal_code": sometimes(pick(postcodes)),
                "city": sometimes(pick(["London", "Berlin", "上海"])),
                "address": None,
                "incorporated_on": sometimes(pick(dates)),
                "updated_at": sometimes(pick(dates)),
            }
        )
    return pd.DataFrame(rows, dtype=object)


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    return synthetic_records(6000, seed=7)


def test_metrics_equal_the_per_row_definition(synthetic: pd.DataFrame) -> None:
    got, want = dq.metrics(synthetic), reference_metrics(synthetic)
    assert len(got) == 5 * len(set(dq.RULES) & set(synthetic.columns))  # every source, every attribute
    assert got["validity"].notna().sum() > 30
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_identifier_classes_equal_the_per_row_definition(synthetic: pd.DataFrame) -> None:
    got, want = dq.identifier_classes(synthetic), reference_identifier_classes(synthetic)
    assert set(got.loc[got["attribute"] != "registration_number", "class"]) == {
        "uscc",
        "uscc_bad_check",
        "legacy_registration",
        "other_format",
        "missing",
        "lei",
        "lei_bad_check",
    }
    # Registration numbers per scheme: valid, failing their scheme's check, or of no scheme of their country.
    assert {"GB-COH", "USCC", "DE-HR", "unrecognised:DE"} <= set(
        got.loc[got["attribute"] == "registration_number", "class"]
    )
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_metrics_of_a_source_with_mixed_formats_and_a_column_missing(synthetic: pd.DataFrame) -> None:
    """Rules reading a column the frame lacks (jurisdiction) see it as NULL, as on a record."""
    f = synthetic[synthetic["source"] == "crm"].drop(columns=["jurisdiction"])
    pd.testing.assert_frame_equal(dq.metrics(f), reference_metrics(f), check_exact=True)
    pd.testing.assert_frame_equal(dq.identifier_classes(f), reference_identifier_classes(f), check_exact=True)
