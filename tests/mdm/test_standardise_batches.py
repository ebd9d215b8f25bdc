"""Standardisation by columns and in batches (mdm.standardise.standardise_columns): the same rows whatever
the split, the same as standardise_records, and the shortcuts it takes change no result."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm.quality import invalid_identifiers
from mdm.schema import ORGANIZATION
from mdm.standardise import (
    IDENTIFIER_INPUTS,
    LIST_COLUMNS,
    STANDARD_COLUMNS,
    record_identifiers,
    standardise_columns,
    standardise_records,
)
from mdm.text import _T2S, has_cjk, normalise_text

# Values as the sources give them, repeated on purpose (one entity in several sources): names in several
# scripts with legal forms, brackets and branches; valid and broken identifiers; postcodes in and out of
# their country's format.
NAMES = [
    "Acme Holdings Co., Ltd.",
    "ACME HOLDINGS CO LTD",
    "Müller GmbH & Co. KG",
    "华为技术有限公司",
    "華為技術有限公司",
    "华为技术（深圳）有限公司北京分公司",
    "ООО «Газпром нефть»",
    "株式会社日立製作所",
    "삼성전자 주식회사",
    "Barclays Bank PLC (London Branch)",
    "The Tech Grp Plc",
    "Société Générale S.A.",
    "  ",
    None,
]
OTHER_NAMES = [None, '[{"name": "Acme Ltd"}, {"name": "ACME"}]', "not json", '[{"name": "华为"}]']
LEIS = ["001GPB6A9XPE8XJICC14", "001GPB6A9XPE8XJICC15", "", None]
USCCS = ["91310000X0727109X6", "91310000X0727109X7", "110000012345678", None]
REG = ["08209948", "8209948", "HRB 6684", "München HRB 6684", "1027700132195", "552 100 554", None]
RA = ["RA000585", "RA000189", "RA000304", "RA999999", None]
COUNTRIES = ["GB", "United Kingdom", "CN", "China", "DE", "FR", "RU", "US", "Narnia", None]
POSTCODES = ["ls10 2ru", "LS102RU", "2110", "02110-1234", "200000", "1067", None]
ADDRESSES = ["1 High Street (Floor 2) LS10 2RU", "Hauptstraße 5", "上海市浦东新区陆家嘴环路1000号", "5 Main St", None]
FORMATS = ["gleif_lei_xml", "companies_house_csv", "cn_registry_csv", "sec_fsds", "sql"]

row = st.fixed_dictionaries(
    {
        "source": st.sampled_from(["gleif", "uk", "cn", "sec", "crm"]),
        "source_format": st.sampled_from(FORMATS),
        "source_id": st.sampled_from(["08209948", "0000320193", "A-1", "91310000X0727109X6", None]),
        "name": st.sampled_from(NAMES),
        "name_en": st.sampled_from([None, "Huawei Technologies Co., Ltd.", "Gazprom Neft (UK)"]),
        "other_names": st.sampled_from(OTHER_NAMES),
        "lei": st.sampled_from(LEIS),
        "uscc": st.sampled_from(USCCS),
        "registration_number": st.sampled_from(REG),
        "registration_authority": st.sampled_from(RA),
        "cik": st.sampled_from(["320193", "0", None]),
        "ein": st.sampled_from(["12-3456789", "00-0000000", None]),
        "country": st.sampled_from(COUNTRIES),
        "jurisdiction": st.sampled_from(COUNTRIES),
        "city": st.sampled_from(["London", "LONDON", "Shanghai", "上海", "München", None]),
        "postal_code": st.sampled_from(POSTCODES),
        "address": st.sampled_from(ADDRESSES),
    }
)


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{c: None for c in ORGANIZATION} | r for r in rows], dtype=object)


@settings(max_examples=60, deadline=None)
@given(st.lists(row, min_size=1, max_size=30), st.integers(min_value=1, max_value=7))
def test_the_same_rows_in_one_batch_or_many(rows: list[dict], size: int) -> None:
    df = frame(rows)
    cols = {c: df[c].tolist() for c in df.columns}
    whole = standardise_columns(cols)
    assert list(whole) == list(STANDARD_COLUMNS)
    parts = [standardise_columns({c: v[i : i + size] for c, v in cols.items()}) for i in range(0, len(rows), size)]
    for name in STANDARD_COLUMNS:
        assert [v for p in parts for v in p[name]] == whole[name], name


@settings(max_examples=40, deadline=None)
@given(st.lists(row, min_size=1, max_size=20))
def test_standardise_records_is_standardise_columns_with_lists(rows: list[dict]) -> None:
    df = frame(rows)
    out = standardise_records(df)
    cols = standardise_columns({c: df[c].tolist() for c in df.columns})
    for name in STANDARD_COLUMNS:
        want = [list(v) if name in LIST_COLUMNS and v is not None else v for v in cols[name]]
        assert out[name].tolist() == want, name
    assert out["branch_flag"].dtype == bool and out["name_cjk"].dtype == bool


def test_equal_rows_get_lists_of_their_own() -> None:
    out = standardise_records(frame([{"source": "a", "source_id": str(i), "name": "Acme Group (UK)"} for i in "12"]))
    assert out["qualifiers"][0] == out["qualifiers"][1] == ["group", "uk"]
    out["qualifiers"][0].append("x")
    assert out["qualifiers"][1] == ["group", "uk"]


@settings(max_examples=200, deadline=None)
@given(row)
def test_identifier_checks_read_only_the_identifier_inputs(r: dict) -> None:
    full = {c: None for c in ORGANIZATION} | r | {"name_core": "x", "rid": "a:b", "address_norm": "y"}
    reduced = {k: full[k] for k in IDENTIFIER_INPUTS}
    assert record_identifiers(reduced) == record_identifiers(full)
    assert invalid_identifiers(reduced) == invalid_identifiers(full)


def _general_normalise(text: str) -> str:
    """normalise_text without its ASCII shortcut (the code it had before)."""
    t = unicodedata.normalize("NFKC", text).replace("\x00", "")
    if has_cjk(t):
        t = _T2S.convert(t)
    t = t.casefold().replace("&", " and ").replace("+", " and ")
    t = unicodedata.normalize(
        "NFC", "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))
    )
    t = re.sub(r"[^\w\s]", " ", t.replace("'", ""))
    return re.sub(r"\s+", " ", t).strip()


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_the_ascii_shortcut_of_normalise_text_changes_nothing(text: str) -> None:
    assert normalise_text(text) == _general_normalise(text)


def test_the_ascii_shortcut_on_names_with_punctuation_and_control_characters() -> None:
    for text in ["Acme & Sons, Ltd.", "A+B_C\x00D\x1fE", "O'Brien's  (UK)\tplc", "\x1c\x1d x \x1e"]:
        assert normalise_text(text) == _general_normalise(text)
    assert normalise_text("Acme & Sons, Ltd.") == "acme and sons ltd"
