"""Legal-form and Chinese-region stripping (mdm.legal_forms) and the data it ships (mdm/data)."""

from __future__ import annotations

import csv
import importlib.util
import io
import re
import sys
import time
from importlib import resources
from itertools import pairwise
from pathlib import Path

import pytest

from mdm.legal_forms import (
    canonical_forms,
    cjk_legal_forms,
    cn_region,
    strip_cjk_legal_form,
    strip_cn_region,
    strip_legal_form,
)
from mdm.standardise import normalise_text

ROOT = Path(__file__).resolve().parents[2]
_CJK = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af]")


def _data(name: str) -> str:
    return resources.files("mdm").joinpath("data", name).read_text(encoding="utf-8")


def _build_script():
    spec = importlib.util.spec_from_file_location("build_legal_forms", ROOT / "scripts" / "build_legal_forms.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the module runs
    spec.loader.exec_module(mod)
    return mod


def strip(name: str) -> tuple[str, str | None]:
    return strip_legal_form(normalise_text(name))


# --- Latin-script legal forms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme Co., Ltd.", ("acme", "co ltd")),
        ("ACME COMPANY LIMITED", ("acme", "co ltd")),
        ("Acme Holdings Public Limited Company", ("acme holdings", "plc")),
        ("Acme Holdings P.L.C.", ("acme holdings", "plc")),
        ("Müller Gesellschaft mit beschränkter Haftung", ("muller", "gmbh")),
        ("Müller GmbH", ("muller", "gmbh")),
        ("Müller GmbH & Co. KG", ("muller", "gmbh co kg")),
        ("Kowalski Sp. z o.o.", ("kowalski", "sp zoo")),
        ("Kowalski spółka z ograniczoną odpowiedzialnością", ("kowalski", "sp zoo")),
        ("Dupont S.A.R.L.", ("dupont", "sarl")),
        ("Dupont Société à responsabilité limitée", ("dupont", "sarl")),
        ("Toyota Kabushiki Kaisha", ("toyota", "kk")),
        ("BHP Pty Ltd", ("bhp", "pty ltd")),
        ("BHP Proprietary Limited", ("bhp", "pty ltd")),
        ("Grupo X S.A. de C.V.", ("grupo x", "sa de cv")),
        ("Acme Limited Liability Company", ("acme", "llc")),
        ("Acme L.L.C.", ("acme", "llc")),
        ("Société Générale S.A.", ("societe generale", "sa")),
        ("Volvo Aktiebolag", ("volvo", "ab")),
        ("Equinor ASA", ("equinor", "asa")),
    ],
)
def test_forms_at_the_end_are_recognised(name: str, expected: tuple[str, str | None]) -> None:
    assert strip(name) == expected


def test_repeated_forms_are_peeled_and_the_business_word_stays() -> None:
    assert strip("Acme Holdings Co Ltd") == ("acme holdings", "co ltd")
    assert strip("Acme Ltd Plc") == ("acme", "ltd plc")
    assert strip("Acme Inc. AS") == ("acme", "inc as")
    assert strip('"CRANE SERVICES LIMITED" LIMITED') == ("crane services", "ltd")  # one form, written twice


def test_name_never_vanishes() -> None:
    assert strip("Plc") == ("plc", None)
    assert strip("Limited") == ("limited", None)
    assert strip("A S.A.") == ("a s a", None)  # would leave a single letter
    assert strip_legal_form("") == ("", None)


def test_forms_inside_the_name_are_kept() -> None:
    assert strip("Sa Sa International Holdings Ltd") == ("sa sa international holdings", "ltd")
    assert strip("AS Roma Ltd") == ("as roma", "ltd")
    assert strip("Co-op Food AB") == ("co op food", "ab")
    assert strip("Acme Bank plc London Branch") == ("acme bank plc london branch", None)


def test_short_forms_only_as_the_final_token() -> None:
    # "co" after a peeled "inc" is part of the name, not a second form.
    assert strip("Acme Co Inc") == ("acme co", "inc")
    assert strip("Acme AS") == ("acme", "as")
    assert strip("Ab Ab") == ("ab", "ab")


@pytest.mark.parametrize(
    "name",
    [
        "Acme UK",
        "Acme Fund II",
        "Acme Trust",
        "Acme Bank",
        "Hudson City Savings Bank",
        "Acme Association",
        "Acme Foundation",
        "Acme Cooperative",
        "Acme Group",
        "Acme Holdings",
        "Acme JP",
        "Acme Private",
        "J Smith and Son",
        "Acme Ent",
    ],
)
def test_distinguishing_words_are_not_legal_forms(name: str) -> None:
    assert strip(name) == (normalise_text(name), None)


def test_business_word_before_a_form_stays() -> None:
    assert strip("Acme Pool Inc.") == ("acme pool", "inc")  # the ELF list's "Pool Inc." is no form here
    assert strip("Acme Insurance Company") == ("acme insurance", "co")


def test_every_canonical_key_is_its_own_form() -> None:
    for key in canonical_forms():
        if _CJK.search(key):  # CJK keys are split off by strip_cjk_legal_form
            continue
        assert strip_legal_form("acme " + key) == ("acme", key), key


def test_elf_list_beats_the_old_hand_map_on_forms_it_did_not_know() -> None:
    assert strip("Acme d.o.o.")[1] == "doo"
    assert strip("Acme Kft.")[1] == "kft"
    assert strip("Acme Sdn. Bhd.")[1] == "sdn bhd"
    assert strip("Acme Oyj")[1] == "oyj"
    assert strip("Acme S.p.A.")[1] == "spa"


# --- CJK legal forms ------------------------------------------------------------------------------------------------


def test_cjk_forms_longest_first() -> None:
    forms = cjk_legal_forms()
    assert forms.index("股份有限公司") < forms.index("有限公司") < forms.index("公司")
    assert {"有限责任公司", "株式会社", "주식회사", "有限合伙"} <= set(forms)
    assert all(len(a) >= len(b) for a, b in pairwise(forms))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("华为技术有限公司", ("华为技术", "有限公司")),
        ("平安银行股份有限公司", ("平安银行", "股份有限公司")),
        ("上海某某有限责任公司", ("上海某某", "有限责任公司")),
        ("中国平安保险集团股份有限公司", ("中国平安保险", "集团股份有限公司")),
        ("某某投资中心有限合伙", ("某某投资中心", "有限合伙")),
        ("トヨタ自动车株式会社", ("トヨタ自动车", "株式会社")),
        ("株式会社日立制作所", ("日立制作所", "株式会社")),
        ("주식회사카카오", ("카카오", "주식회사")),
        (normalise_text("주식회사 카카오").replace(" ", ""), ("카카오", "주식회사")),  # NFKD jamo, as normalised
        ("公司", ("公司", None)),
    ],
)
def test_strip_cjk_legal_form(name: str, expected: tuple[str, str | None]) -> None:
    assert strip_cjk_legal_form(name) == expected


# --- Chinese regions ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("深圳市华为技术有限公司", ("华为技术有限公司", "深圳")),
        ("深圳华为技术有限公司", ("华为技术有限公司", "深圳")),
        ("华为技术（深圳）有限公司", ("华为技术有限公司", "深圳")),
        ("华为技术(深圳)有限公司", ("华为技术有限公司", "深圳")),
        ("华为技术 深圳 有限公司", ("华为技术有限公司", "深圳")),  # brackets already turned into spaces
        ("广东省深圳市腾讯计算机系统有限公司", ("腾讯计算机系统有限公司", "深圳")),
        ("广东省某某电子科技有限公司", ("某某电子科技有限公司", "广东")),
        ("内蒙古伊利实业集团股份有限公司", ("伊利实业集团股份有限公司", "内蒙古")),
        ("广西壮族自治区某某贸易有限公司", ("某某贸易有限公司", "广西")),
        ("延边朝鲜族自治州某某贸易有限公司", ("某某贸易有限公司", "延边")),
        ("华为技术有限公司", ("华为技术有限公司", None)),
    ],
)
def test_strip_cn_region(name: str, expected: tuple[str, str | None]) -> None:
    assert strip_cn_region(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "北京银行股份有限公司",  # 银行 alone is no company: the bare prefix stays
        "上海汽车集团股份有限公司",
        "中山证券有限责任公司",
        "阿里巴巴（中国）网络技术有限公司",  # 阿里 is a 地区 only with its suffix; 中国 is no region
        "深圳",
    ],
)
def test_region_kept_when_the_rest_is_not_a_name(name: str) -> None:
    assert strip_cn_region(name) == (name, None)


def test_cn_region_lookup() -> None:
    assert cn_region("深圳市").province == "广东"
    assert cn_region("深圳").level == "prefecture"
    assert cn_region("广东省").level == "province"
    assert cn_region("海南藏族自治州").province == "青海"
    assert cn_region("海南").level == "province"
    assert cn_region("阿里地区").region == cn_region("阿里").region == "阿里"
    assert cn_region("吉林").level == "province"
    assert cn_region("Shenzhen") is None and cn_region(None) is None


# --- the shipped data -----------------------------------------------------------------------------------------------


def test_legal_forms_data_is_normalised_sorted_and_unique() -> None:
    rows = list(csv.DictReader(io.StringIO(_data("legal_forms.csv"))))
    spellings = [r["spelling"] for r in rows]
    assert spellings == sorted(set(spellings))
    assert len(rows) > 1000
    by_compact: dict[str, str] = {}
    for r in rows:
        s = r["spelling"]
        assert normalise_text(s).replace(" ", "") == s.replace(" ", ""), s
        assert by_compact.setdefault(s.replace(" ", ""), r["canonical"]) == r["canonical"], s
        assert r["sources"], s
    assert {"bank", "trust", "uk", "ii", "association", "group"}.isdisjoint(spellings)


def test_cn_regions_data() -> None:
    rows = list(csv.DictReader(io.StringIO(_data("cn_regions.csv"))))
    provinces = [r for r in rows if r["level"] == "province"]
    assert len(provinces) == 34
    assert {r["province"] for r in rows} <= {r["region"] for r in provinces}
    assert len([r for r in rows if r["level"] == "prefecture"]) >= 333
    assert len({r["name"] for r in rows}) == len(rows)


def test_shipped_data_is_what_the_script_builds(realdata: Path, tmp_path: Path) -> None:
    mod = _build_script()
    out = tmp_path / "legal_forms.csv"
    assert mod.main([str(realdata), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == _data("legal_forms.csv")


def test_build_script_reports_a_missing_source(tmp_path: Path) -> None:
    assert _build_script().main([str(tmp_path), "--out", str(tmp_path / "x.csv")]) == 2
    assert not (tmp_path / "x.csv").exists()


# --- real names -----------------------------------------------------------------------------------------------------


def test_companies_house_names(realdata: Path) -> None:
    path = realdata / "uk-companies-house" / "companieshr-basiccompanydata-1000.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        names = [r["CompanyName"] for r in csv.DictReader(fh)]
    results = [strip(n) for n in names]
    ending_ltd = [(n, r) for n, r in zip(names, results) if n.upper().endswith((" LIMITED", " LTD", " LTD."))]
    assert len(ending_ltd) > 800
    # Only names that are nothing but the form ("! LTD", "--- LTD") keep it.
    kept = [n for n, (_, form) in ending_ltd if not (form or "").endswith("ltd")]
    assert kept and all(normalise_text(n) in ("ltd", "limited") for n in kept)
    assert all(core for core, _ in results)
    assert sum(form is not None for _, form in results) > 950


def test_chinese_register_regions_agree_with_the_province_column(realdata: Path) -> None:
    path = realdata / "cn-enterprise-registry" / "cn-enterprise-registration-1998-all-provinces.csv"
    found = agree = 0
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            name = normalise_text(row["企业名称"]).replace(" ", "")
            _, region = strip_cn_region(name)
            if region is None:
                continue
            found += 1
            r = cn_region(region)
            agree += r.province == (row["所在省份"] or "").strip()
    assert found > 30_000
    assert agree / found > 0.9


def test_speed_on_200k_names() -> None:
    names = [normalise_text(f"Acme {i} Holdings Co., Ltd.") for i in range(100_000)]
    names += [f"某某{i}科技有限公司" for i in range(100_000)]
    start = time.perf_counter()
    for n in names[:100_000]:
        strip_legal_form(n)
    for n in names[100_000:]:
        strip_cn_region(n)
        strip_cjk_legal_form(n)
    assert time.perf_counter() - start < 5.0
