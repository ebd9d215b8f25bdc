"""Identifier validity and normal forms (mdm.identifiers): only identifiers that pass their check may link records."""

from __future__ import annotations

import bz2
import csv
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from stdnum import lei as _lei
from stdnum.cn import uscc as _uscc
from stdnum.de import handelsregisternummer as _hr
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_97_10
from stdnum.us import ein as _ein

from mdm import identifiers as ids

GLEIF_LEI = "001GPB6A9XPE8XJICC14"  # a real LEI from the GLEIF golden-copy sample
HSBC_LEI = "MLU0ZO3ML4LN2LL2TL39"
REAL_USCC = "91310000X0727109X6"


@pytest.mark.parametrize("value", [GLEIF_LEI, HSBC_LEI, "001gpb6a9xpe8xjicc14", f" {GLEIF_LEI} "])
def test_valid_lei_returns_compact_upper_case_form(value: str) -> None:
    assert ids.valid_lei(value) == value.strip().upper()


@pytest.mark.parametrize(
    "value",
    [
        "001GPB6A9XPE8XJICC15",  # check digits changed
        "001GPB6A9XPE8XJICD14",  # one character of the body changed
        "001GPB6A9XPE8XJICC1",  # too short
        "NOT-AN-LEI",
        "",
        None,
    ],
)
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


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8209948", "08209948"),  # leading zero lost (e.g. by a spreadsheet)
        ("08209948", "08209948"),
        ("SC421617", "SC421617"),  # Scottish company
        ("sc 421617", "SC421617"),
        ("NI 000001", "NI000001"),
        ("ABCDEF", None),
        ("123456789", None),  # too long
        ("SC4216", None),  # prefix with too few digits
        ("S1421617", None),
        ("", None),
        (None, None),
    ],
)
def test_companies_house_number(value: str | None, expected: str | None) -> None:
    assert ids.companies_house_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0000320193", "320193"),
        ("320193", "320193"),
        (" 0001018724 ", "1018724"),
        ("0", None),
        ("0000000000", None),
        ("12345678901", None),  # more than 10 digits
        ("CIK320193", None),
        ("", None),
        (None, None),
    ],
)
def test_cik_drops_leading_zeros(value: str | None, expected: str | None) -> None:
    assert ids.valid_cik(value) == expected


def test_cik_with_and_without_zeros_is_the_same_key() -> None:
    assert ids.valid_cik("0000320193") == ids.valid_cik("320193")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("04-2103594", "042103594"),
        ("042103594", "042103594"),
        ("12-3456789", "123456789"),
        ("07-1234567", None),  # 07 is not an assigned campus prefix
        ("00-1234567", None),
        ("12-345678", None),  # too short
        ("", None),
        (None, None),
    ],
)
def test_ein(value: str | None, expected: str | None) -> None:
    assert ids.valid_ein(value) == expected


# --- The fast paths give exactly the results of the implementation they replaced -------------------------
#
# mdm.identifiers skips python-stdnum's per-character cleaning for values already in canonical form. The
# functions below are the previous implementation, copied verbatim as the reference: every public function
# must give the same result (or raise the same exception type) on canonical, messy and odd inputs.


_OLD_CH_NUMBER = re.compile(r"^(?:\d{8}|[A-Z]{2}\d{6})$")
_OLD_LEGACY_CN = re.compile(r"^\d{15}$")
_OLD_DE_SECTION_NUMBER = re.compile(r"^(HRA|HRB|GnR|PR|VR|GsR)\s?(\d{1,6})(?:\s?([A-Z]{1,2}))?$")


def old_valid_lei(value):
    if not value:
        return None
    try:
        return _lei.validate(value)
    except ValidationError:
        return None


def old_valid_uscc(value):
    if not value:
        return None
    try:
        return _uscc.validate(value)
    except ValidationError:
        return None


def old_legacy_cn_registration(value):
    if value and _OLD_LEGACY_CN.match(value.strip()):
        return value.strip()
    return None


def old_companies_house_number(value):
    if not value:
        return None
    v = re.sub(r"\s+", "", value).upper()
    if v.isdigit() and len(v) < 8:
        v = v.zfill(8)
    return v if _OLD_CH_NUMBER.match(v) else None


def old_valid_cik(value):
    if not value:
        return None
    v = value.strip()
    if not v.isdigit() or len(v) > 10 or int(v) == 0:
        return None
    return str(int(v))


def old_valid_ein(value):
    if not value:
        return None
    try:
        return _ein.compact(_ein.validate(value))
    except ValidationError:
        return None


def old_classify_cn_code(value):
    if not value or not value.strip():
        return "missing"
    v = _uscc.compact(value)
    if old_valid_uscc(v):
        return "uscc"
    if len(v) == 18 and v[:8].isdigit() and all(c in "0123456789ABCDEFGHJKLMNPQRTUWXY" for c in v[8:]):
        return "uscc_bad_check"
    if old_legacy_cn_registration(v):
        return "legacy_registration"
    return "other_format"


def old_valid_de_register(value):
    if not value:
        return None
    try:
        return _hr.validate(value)
    except ValidationError:
        m = _OLD_DE_SECTION_NUMBER.match(value.strip())
        return " ".join(p for p in m.groups() if p) if m else None


PAIRS: list[tuple[Callable, Callable]] = [
    (ids.valid_lei, old_valid_lei),
    (ids.valid_uscc, old_valid_uscc),
    (ids.legacy_cn_registration, old_legacy_cn_registration),
    (ids.companies_house_number, old_companies_house_number),
    (ids.valid_cik, old_valid_cik),
    (ids.valid_ein, old_valid_ein),
    (ids.classify_cn_code, old_classify_cn_code),
    (ids.valid_de_register, old_valid_de_register),
]


def _outcome(fn: Callable, value: object) -> tuple:
    """What a call gives: its result with the result's type, or the type of the exception it raises."""
    try:
        result = fn(value)
    except Exception as exc:
        return ("raises", type(exc))
    return ("returns", type(result), result)


def _differences(pairs: list[tuple[Callable, Callable]], values: Iterable[object]) -> list[tuple]:
    """(function, value, new outcome, old outcome) for every value on which new and old disagree."""
    values = list(values)
    return [
        (new.__name__, v, got, want)
        for new, old in pairs
        for v in values
        if (got := _outcome(new, v)) != (want := _outcome(old, v))
    ]


_FULLWIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"})
_BLANKS = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2009"]
_DASHES = ["-", "\u2013", "\u2014", "\uff0d", "\u2212"]


def _messy(value: str, rng: random.Random) -> list[str]:
    """A value in the forms real feeds give it: case, blanks, dashes, full-width and other non-ASCII forms."""
    cut = rng.randint(1, max(1, len(value) - 1))
    first_digit = next((i for i, c in enumerate(value) if c.isdigit()), 0)
    return [
        value,
        value.lower(),
        value.capitalize(),
        f"{rng.choice(_BLANKS)}{value}{rng.choice(_BLANKS)}",
        value + "\n",
        value + " ",
        "\n" + value,
        value[:cut] + " " + value[cut:],
        value[:cut] + rng.choice(_DASHES) + value[cut:],
        value[:cut] + "\t" + value[cut:],
        "-".join([value[:4], value[4:8], value[8:]]),
        " ".join([value[:4], value[4:8], value[8:]]),
        value.translate(_FULLWIDTH),
        value[:cut] + value[cut:].translate(_FULLWIDTH),
        value[:first_digit] + "\u0663" + value[first_digit + 1 :],  # ARABIC-INDIC DIGIT THREE
        value[:first_digit] + "\U0001d7d1" + value[first_digit + 1 :],  # MATHEMATICAL BOLD DIGIT NINE
        value[:first_digit] + "\u00b2" + value[first_digit + 1 :],  # SUPERSCRIPT TWO (isdigit, not int)
        value.replace("I", "\u0131").lower(),  # dotless i upper-cases to ASCII I
        value + "\u00df",  # sharp s upper-cases to SS
        value[:-1],
        value + "0",
        value[1:],
        value[::-1],
    ]


def _generated_values(n: int = 150, seed: int = 20240505) -> list[object]:
    """Valid and invalid identifiers of every kind, canonical and messy, plus empty and non-string inputs."""
    rng = random.Random(seed)
    an = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    uscc_alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    digits = "0123456789"

    def s(alphabet: str, k: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(k))

    base: list[str] = [
        GLEIF_LEI,
        HSBC_LEI,
        REAL_USCC,
        "91440300708461136T",
        "310000400001234",
        "SC421617",
        "08209948",
        "8209948",
        "0000320193",
        "042103594",
        "04-2103594",
        "HRB 237237",
        "Aachen HRA 11223",
        "HRB 1234 B",
        "GsR 12",
        "PR1",
        "HRB 0",
        "HRB 1234567",
    ]
    for _ in range(n):
        body = s(an, 18)
        good_lei = body + mod_97_10.calc_check_digits(body)
        bad_lei = good_lei[:18] + f"{(int(good_lei[18:]) + rng.randint(1, 96)) % 100:02d}"
        ubody = s(digits, 8) + s(uscc_alphabet, 9)
        good_uscc = ubody + _uscc.calc_check_digit(ubody)
        bad_uscc = ubody + rng.choice(uscc_alphabet.replace(good_uscc[-1], ""))
        off_alphabet_uscc = ubody[:10] + rng.choice("IOSVZ") + ubody[11:] + good_uscc[-1]
        base += [
            good_lei,
            bad_lei,
            good_lei[:19],
            good_lei + "5",
            s(an, rng.randint(1, 25)),
            good_uscc,
            bad_uscc,
            off_alphabet_uscc,
            s(digits, 15),
            s(digits, rng.choice([11, 13, 14, 16, 17, 18])),
            s(digits, rng.randint(1, 12)),
            "0" * rng.randint(1, 11),
            s("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 2) + s(digits, rng.choice([5, 6, 7])),
            rng.choice(["SC", "NI", "OC", "FC"]) + s(digits, 6),
            f"{s(digits, 2)}-{s(digits, 7)}",
            s(digits, 9),
            f"{s(digits, 3)}-{s(digits, 6)}",
            f"{rng.choice(['HRA', 'HRB', 'GnR', 'PR', 'VR', 'GsR', 'hrb', 'HRC'])}{rng.choice(['', ' ', '  '])}"
            f"{s(digits, rng.randint(1, 7))}{rng.choice(['', ' B', 'B', ' XY', ' Köln', ' Berlin'])}",
            f"{rng.choice(['Aachen', 'München', 'Berlin (Charlottenburg)', 'Nowhere', 'Hof'])} "
            f"{rng.choice(['HRA', 'HRB', 'VR'])} {s(digits, rng.randint(1, 6))}",
        ]
    values: list[object] = []
    for v in base:
        values += _messy(v, rng)
    return [*values, None, "", " ", "\n", "\u3000", "-", "0", "00000000", 0, 320193, 12.5, float("nan"), b"HRB 1"]


def test_fast_paths_match_reference_on_generated_values() -> None:
    values = _generated_values()
    assert len(values) > 50_000
    assert _differences(PAIRS, values) == []
    # The set exercises both paths and every outcome, not only the rejections.
    assert Counter(ids.classify_cn_code(v) for v in values if isinstance(v, str)).keys() == {
        "uscc",
        "uscc_bad_check",
        "legacy_registration",
        "other_format",
        "missing",
    }
    kinds = [
        ids.valid_lei,
        ids.valid_uscc,
        ids.companies_house_number,
        ids.valid_cik,
        ids.valid_ein,
        ids.valid_de_register,
    ]
    for fn in kinds:
        results = [(v, r[2]) for v in values if (r := _outcome(fn, v))[0] == "returns" and r[2] is not None]
        assert any(r == v for v, r in results), fn.__name__  # canonical values accepted (fast path)
        assert any(r != v for v, r in results), fn.__name__  # messy values repaired (general path)


def test_ein_prefix_table_matches_stdnum_for_every_prefix() -> None:
    # The EIN fast path reads the assigned prefixes once; stdnum looks each number up in its campus table.
    for prefix in (f"{i:02d}" for i in range(100)):
        for suffix in ("0000000", "1234567", "9999999"):
            assert ids.valid_ein(prefix + suffix) == old_valid_ein(prefix + suffix)
            assert ids.valid_ein(f"{prefix}-{suffix}") == old_valid_ein(f"{prefix}-{suffix}")
    assert ids.valid_ein("07-1234567") is None and ids.valid_ein("071234567") is None


def _real_leis(realdata: Path) -> list[str]:
    """Every LEI in the GLEIF samples: entity, relationship-node and managing-LOU LEIs of the XML files
    (the level-1 sample's 13 entity LEIs first) and the 577 LEIs of the JSON golden-copy delta."""
    gleif = realdata / "gleif"
    leis: list[str] = []
    for xml in sorted(gleif.glob("bodspipelines-*.xml")):
        leis += re.findall(
            r"<(?:lei:LEI|repex:LEI|rr:NodeID|lei:ManagingLOU|rr:ManagingLOU)>([^<]*)<", xml.read_text(encoding="utf-8")
        )
    records = json.loads((gleif / "goldencopy-lei2-intra-day-20240505-0000.json").read_text(encoding="utf-8"))
    leis += [r["LEI"]["$"] for r in records["records"]]
    return leis


def test_fast_paths_match_reference_on_real_leis_and_register_numbers(realdata: Path) -> None:
    leis = _real_leis(realdata)
    assert len(set(leis)) >= 577
    assert all(ids.valid_lei(v) == v for v in leis[:13])  # the 13 LEIs of the level-1 sample all pass
    records = json.loads((realdata / "gleif/goldencopy-lei2-intra-day-20240505-0000.json").read_text("utf-8"))
    national = [
        r["Entity"]["RegistrationAuthority"]["RegistrationAuthorityEntityID"]["$"]
        for r in records["records"]
        if r["Entity"].get("RegistrationAuthority", {}).get("RegistrationAuthorityEntityID")
    ]
    with (realdata / "uk-companies-house/companieshr-basiccompanydata-1000.csv").open(encoding="utf-8") as f:
        ch = [row["CompanyNumber"] for row in csv.DictReader(f)]
    de: list[str] = []
    offeneregister = realdata / "de-offeneregister/offeneregister-ocdata.chunk1.jsonl.bz2"
    with bz2.open(offeneregister, "rt", encoding="utf-8") as f:
        for line in f:
            de.append(json.loads(line)["all_attributes"]["native_company_number"])
            if len(de) == 1_000:
                break
    sec = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((realdata / "sec-edgar-json").glob("*_submission.json"))
    ]
    sec_ids = [s["cik"] for s in sec] + [s["ein"] for s in sec]
    rng = random.Random(1)
    values = [m for v in leis + national + ch + de + sec_ids for m in _messy(v, rng)]
    assert _differences(PAIRS, values) == []
    assert sum(ids.valid_de_register(v) is not None for v in de) > 900
    assert sum(ids.companies_house_number(v) == v for v in ch) > 900


def test_fast_paths_match_reference_on_real_chinese_register_codes(realdata: Path) -> None:
    path = realdata / "cn-enterprise-registry/cn-enterprise-registration-1998-all-provinces.csv"
    with path.open(encoding="utf-8", newline="") as f:
        codes = [row["统一社会信用代码"] for row in csv.DictReader(f)]
    assert len(codes) == 78_242
    cn_pairs = [p for p in PAIRS if p[0] in (ids.valid_uscc, ids.classify_cn_code, ids.legacy_cn_registration)]
    assert _differences(cn_pairs, codes) == []
    # The counts the README states for this file.
    classes = Counter(ids.classify_cn_code(c) for c in codes)
    assert classes["uscc"] == sum(ids.valid_uscc(c) is not None for c in codes) == 77_924
    assert classes["uscc_bad_check"] == 4
    assert classes["legacy_registration"] == 276
    # Messy forms of a sample of real codes, through every function.
    rng = random.Random(2)
    assert (
        _differences(
            PAIRS, [m for c in rng.sample(codes, 500) + [c for c in codes if len(c) != 18] for m in _messy(c, rng)]
        )
        == []
    )
