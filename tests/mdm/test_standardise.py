"""Name, country and identifier standardisation (mdm.standardise) on hand-built records."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mdm.countries import country_code
from mdm.schema import ORGANIZATION
from mdm.standardise import (
    is_branch,
    name_core,
    normalise_text,
    record_identifiers,
    split_legal_form,
    standardise_records,
    tokens,
)

LEI = "001GPB6A9XPE8XJICC14"
BAD_LEI = "001GPB6A9XPE8XJICC15"
USCC = "91310000X0727109X6"


def org_frame(*rows: dict) -> pd.DataFrame:
    """Canonical organisation rows (every ORGANIZATION column, missing ones None) as the loader hands them over."""
    return pd.DataFrame([{c: None for c in ORGANIZATION} | r for r in rows], dtype=object)


# --- names and legal forms ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme Co., Ltd.", ("acme", "co ltd")),
        ("ACME COMPANY LIMITED", ("acme", "co ltd")),
        ("Acme Bros Plc", ("acme brothers", "plc")),
        ("Acme Holdings P.L.C.", ("acme holdings", "plc")),
        ("Acme Holdings Public Limited Company", ("acme holdings", "plc")),
        ("Müller GmbH & Co. KG", ("muller", "gmbh co kg")),
        ("Muller GmbH and Co KG", ("muller", "gmbh co kg")),
        ("The Acme Company", ("acme", "co")),
        ("Acme Tech Mfg Corp", ("acme technology manufacturing", "corp")),
        ("Acme Corporation", ("acme", "corp")),
        ("Société Générale S.A.", ("societe generale", "sa")),
        ("Acme", ("acme", None)),
        ("Plc", ("plc", None)),  # a name that is only a legal form keeps it as its core
        ("", ("", None)),
        (None, ("", None)),
    ],
)
def test_split_legal_form_latin(name: str | None, expected: tuple[str, str | None]) -> None:
    assert split_legal_form(name) == expected


def test_latin_spellings_of_one_company_share_a_core() -> None:
    spellings = ["Acme Co., Ltd.", "ACME COMPANY LIMITED", "acme co ltd", "ＡＣＭＥ　ＣＯ．，ＬＴＤ．"]
    assert {name_core(s) for s in spellings} == {"acme"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("华为技术有限公司", ("华为技术", "有限公司")),
        ("平安银行股份有限公司", ("平安银行", "股份有限公司")),
        ("上海某某有限责任公司", ("上海某某", "有限责任公司")),
        ("中国平安保险（集团）股份有限公司", ("中国平安保险", "集团股份有限公司")),
        ("トヨタ自動車株式会社", ("トヨタ自动车", "kk")),  # one form with K.K. and Kabushiki Kaisha
        ("公司", ("公司", None)),
    ],
)
def test_split_legal_form_cjk(name: str, expected: tuple[str, str | None]) -> None:
    assert split_legal_form(name) == expected


def test_traditional_chinese_has_the_same_core_as_simplified() -> None:
    assert name_core("華為技術有限公司") == name_core("华为技术有限公司") == "华为技术"
    assert split_legal_form("華為技術有限公司")[1] == "有限公司"


def test_full_width_and_half_width_brackets_are_equivalent() -> None:
    assert split_legal_form("中国平安保险（集团）股份有限公司") == split_legal_form("中国平安保险(集团)股份有限公司")
    assert normalise_text("Acme （UK） Ltd") == normalise_text("Acme (UK) Ltd") == "acme uk ltd"


def test_full_width_letters_and_digits_are_folded() -> None:
    assert normalise_text("ＡＣＭＥ　１２３ Ｌｔｄ") == "acme 123 ltd"
    assert split_legal_form("ＡＣＭＥ Ｌｔｄ") == ("acme", "ltd")


def test_ampersand_and_plus_read_as_and() -> None:
    assert normalise_text("Smith & Sons") == normalise_text("Smith and Sons") == "smith and sons"
    assert normalise_text("Smith+Sons") == "smith and sons"
    assert name_core("Smith & Sons Ltd") == name_core("SMITH AND SONS LIMITED")


def test_normalise_text_drops_punctuation_accents_and_apostrophes() -> None:
    assert normalise_text("  O'Brien's  Café, S.A.  ") == "obriens cafe s a"
    assert normalise_text(None) == ""


def test_abbreviations_expand_only_as_whole_tokens() -> None:
    assert name_core("Acme Grp Ltd") == name_core("Acme Group Limited")
    assert name_core("Acme Tech Svc Grp") == "acme technology service group"
    assert name_core("Intlx Ltd") == "intlx"


@pytest.mark.parametrize(
    ("name", "branch"),
    [
        ("华为技术有限公司北京分公司", True),
        ("招商银行股份有限公司深圳南山支行", True),
        ("中国工商银行股份有限公司上海分行", True),
        ("某某公司北京办事处", True),
        ("Acme Bank plc London Branch", True),
        ("ACME BANK PLC - LONDON BRANCH", True),
        ("Acme Representative Office", True),
        ("华为技术有限公司", False),
        ("招商银行股份有限公司", False),
        ("Acme Bank plc", False),
        ("Branchwood Ltd", False),  # 'branch' only as a whole word
        ("", False),
        (None, False),
    ],
)
def test_is_branch(name: str | None, branch: bool) -> None:
    assert is_branch(name) is branch


def test_branch_and_head_office_have_different_cores() -> None:
    assert name_core("华为技术有限公司北京分公司") != name_core("华为技术有限公司")
    assert name_core("Acme Bank plc London Branch") != name_core("Acme Bank plc")


def test_tokens_cjk_bigrams_and_latin_words() -> None:
    assert tokens("华为技术") == ["华为", "为技", "技术"]
    assert tokens("华") == ["华"]
    assert tokens("acme holdings") == ["acme", "holdings"]
    assert tokens("") == []


# --- countries ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("GB", "GB"),
        ("gb", "GB"),
        (" gb ", "GB"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("England and Wales", "GB"),
        ("Scotland", "GB"),
        ("GBR", "GB"),
        ("USA", "US"),
        ("United States", "US"),
        ("US-MA", "US"),
        ("US-DE", "US"),
        ("中国", "CN"),
        ("中华人民共和国", "CN"),
        ("PRC", "CN"),
        ("CN-31", "CN"),
        ("CN-SH", "CN"),
        ("Hong Kong", "HK"),
        ("香港", "HK"),
        ("Germany", "DE"),
        ("DEU", "DE"),
        ("ＤＥ", "DE"),
        ("Atlantis", None),
        ("XX", None),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_country_code(value: str | None, expected: str | None) -> None:
    assert country_code(value) == expected


# --- identifiers of one record, by source format ------------------------------------------------------------------


def test_companies_house_number_comes_from_the_source_id_of_companies_house_rows() -> None:
    row = {"source_format": "companies_house_csv", "source_id": "8209948", "registration_number": None, "country": None}
    assert record_identifiers(row) == {"GB-COH": "08209948"}
    row = {"source_format": "companies_house_csv", "source_id": "SC421617", "country": "GB"}
    assert record_identifiers(row) == {"GB-COH": "SC421617"}
    assert record_identifiers({"source_format": "companies_house_csv", "source_id": "junk!"}) == {}


def test_gleif_registration_number_is_a_companies_house_number_only_under_ra000585() -> None:
    base = {
        "source_format": "gleif_lei_xml",
        "source_id": LEI,
        "lei": LEI,
        "registration_number": "08209948",
        "country": "GB",
    }
    assert record_identifiers(base | {"registration_authority": "RA000585"}) == {"LEI": LEI, "GB-COH": "08209948"}
    # Another register's entity id is not a Companies House number, even for a GB address: it is a number of
    # the register that RA code names.
    assert record_identifiers(base | {"registration_authority": "RA000665"}) == {
        "LEI": LEI,
        "NATIONAL": "RA000665:08209948",
    }
    assert record_identifiers(base | {"registration_authority": None}) == {"LEI": LEI}


def test_other_sources_give_a_companies_house_number_only_for_gb_rows() -> None:
    base = {"source_format": "sql", "source_id": "C1", "registration_number": "8209948"}
    assert record_identifiers(base | {"country": "United Kingdom"}) == {"GB-COH": "08209948"}
    assert record_identifiers(base | {"country": "DE"}) == {}
    assert record_identifiers(base | {"country": None}) == {}


def test_invalid_lei_is_never_returned() -> None:
    row = {"source_format": "sql", "source_id": "C1", "lei": BAD_LEI, "country": "GB"}
    assert "LEI" not in record_identifiers(row)
    assert record_identifiers(row | {"lei": LEI}) == {"LEI": LEI}


def test_uscc_from_its_column_or_from_the_registration_number() -> None:
    assert record_identifiers({"source_format": "cn_registry", "source_id": "x", "uscc": USCC}) == {"USCC": USCC}
    row = {"source_format": "sql", "source_id": "C9", "uscc": None, "registration_number": USCC, "country": "CN"}
    assert record_identifiers(row) == {"USCC": USCC}
    assert record_identifiers({"source_format": "cn_registry", "source_id": "x", "uscc": USCC[:-1] + "7"}) == {}


def test_legacy_registration_number_is_cn_reg_not_uscc() -> None:
    row = {"source_format": "cn_registry", "source_id": "x", "uscc": "310000400001234"}
    assert record_identifiers(row) == {"CN-REG": "310000400001234"}


def test_cik_only_for_sec_rows() -> None:
    assert record_identifiers({"source_format": "sec_fsds", "source_id": "0000320193"}) == {"CIK": "320193"}
    assert record_identifiers({"source_format": "sql", "source_id": "0000320193"}) == {}


# --- the standardised frame ---------------------------------------------------------------------------------------


def test_standardise_records_adds_the_matching_columns() -> None:
    df = org_frame(
        {
            "source": "gleif",
            "source_id": LEI,
            "source_format": "gleif_lei_xml",
            "name": "华为技术有限公司",
            "name_en": "Huawei Technologies Co., Ltd.",
            "lei": LEI,
            "country": "CN",
            "city": "深圳",
            "postal_code": "518129",
            "address": "坂田华为基地",
        },
        {
            "source": "ch",
            "source_id": "8209948",
            "source_format": "companies_house_csv",
            "name": "ACME HOLDINGS PLC",
            "other_names": json.dumps(
                [
                    {"name": "OLD ACME LIMITED", "type": "previous", "date": "2001-01-01"},
                    {"name": "Acme Holdings P.L.C.", "type": "previous"},
                ]
            ),
            "country": None,
            "jurisdiction": "England and Wales",
            "city": "LONDON",
            "postal_code": "sw1a 1aa",
            "address": "1 High Street (Floor 2)",
        },
        {
            "source": "crm",
            "source_id": "C7",
            "source_format": "sql",
            "name": "Acme Bank plc London Branch",
            "lei": BAD_LEI,
            "country": "UK",
            "jurisdiction": "US-DE",
        },
    )
    std = standardise_records(df)
    assert len(std) == 3
    assert std["rid"].tolist() == [f"gleif:{LEI}", "ch:8209948", "crm:C7"]
    # The original values are kept.
    assert std["name"].tolist() == df["name"].tolist()
    assert std["name_core"].tolist() == ["华为技术", "acme holdings", "acme bank plc london branch"]
    assert std["legal_form_norm"].tolist() == ["有限公司", "plc", None]
    # Aliases: the legal name's core first (with its pinyin), then English and former names, no duplicates.
    assert std["aliases"].tolist() == [
        ["华为技术", "huaweijishu", "huawei technologies"],
        ["acme holdings", "old acme"],
        ["acme bank plc london branch"],
    ]
    # Country of the address, failing that the jurisdiction.
    assert std["country_iso"].tolist() == ["CN", "GB", "GB"]
    assert std["city_norm"].tolist() == ["深圳", "london", ""]
    assert std["postal_norm"].tolist() == ["518129", "SW1A1AA", ""]
    assert std.loc[1, "address_norm"] == "1 high st"  # street types abbreviated per country (mdm.address)
    assert std["branch_flag"].tolist() == [False, False, True]
    assert std["id_LEI"].tolist() == [LEI, None, None]  # the invalid LEI is dropped
    assert std["id_GB_COH"].tolist() == [None, "08209948", None]
    for col in ("id_USCC", "id_CN_REG", "id_CIK"):
        assert std[col].isna().all()


def test_standardise_records_tolerates_bad_other_names_json() -> None:
    std = standardise_records(
        org_frame(
            {"source": "s", "source_id": "1", "name": "Acme Ltd", "other_names": "not json"},
            {
                "source": "s",
                "source_id": "2",
                "name": "Beta Ltd",
                "other_names": json.dumps([{"type": "previous"}, "x"]),
            },
        )
    )
    assert std["aliases"].tolist() == [["acme"], ["beta"]]


def test_standardise_records_does_not_modify_its_input() -> None:
    df = org_frame({"source": "s", "source_id": "1", "name": "Acme Ltd"})
    before = df.copy()
    standardise_records(df)
    pd.testing.assert_frame_equal(df, before)


def test_cjk_branch_core_keeps_head_office_and_branch_parts():
    core, form = split_legal_form("华为技术有限公司北京分公司")
    assert (core, form) == ("华为技术北京分公司", "有限公司")
    assert split_legal_form("中国工商银行股份有限公司上海市分行") == ("中国工商银行上海市分行", "股份有限公司")
