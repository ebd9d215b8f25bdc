"""Names in any script (mdm.transliterate, mdm.standardise.latin_core / name_aliases) and legal forms across
scripts (mdm/data/legal_forms.csv), on real company names."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from anyascii import anyascii
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin

from mdm.standardise import latin_core, name_aliases, name_core, split_legal_form
from mdm.transliterate import latin, needs_transliteration


@pytest.mark.parametrize(
    ("text", "needed"),
    [
        ("Société Générale", False),
        ("Škoda Auto a.s.", False),
        ("ПАО Сбербанк", True),
        ("中国银行", True),
        ("トヨタ", True),
        ("삼성전자", True),
        ("أرامكو", True),
        ("Τράπεζα Πειραιώς", True),
        ("", False),
    ],
)
def test_only_letters_outside_the_latin_script_need_a_transliteration(text: str, needed: bool) -> None:
    assert needs_transliteration(text) is needed


def test_chinese_is_read_word_aware_by_pypinyin() -> None:
    # 行 reads "hang" in 银行 (bank), not "xing": anyascii alone would say "yinxing".
    assert latin("中国银行") == "zhongguoyinhang"
    assert latin("Acme") == "Acme"


@pytest.mark.parametrize(
    ("names", "shared"),
    [
        # Russian Cyrillic, the English/transliterated forms (Gazprom Neft, Sberbank): legal forms in front (ООО,
        # ПАО, PJSC) or behind (LLC) are one form and drop out.
        (["ООО «Газпром нефть»", "Gazprom Neft LLC"], "gazprom neft"),
        (["ПАО Сбербанк", "PJSC Sberbank"], "sberbank"),
        (["Публичное акционерное общество «Сбербанк»", "Sberbank PAO"], "sberbank"),
        # Ukrainian Cyrillic: ТОВ and its full name, АТ.
        (
            ["Товариство з обмеженою відповідальністю «Нафтогаз Трейдинг»", "ТОВ «Нафтогаз Трейдинг»"],
            "naftogaz treiding",
        ),
        (["Акціонерне товариство «Укрнафта»", "JSC Ukrnafta"], "ukrnafta"),
        # Greek: Ανώνυμη Εταιρεία / Α.Ε. and S.A.
        (["Τράπεζα Πειραιώς Ανώνυμη Εταιρεία", "Trapeza Peiraios S.A."], "trapeza peiraios"),
        # Korean: 주식회사 before or after the name, Co., Ltd.
        (["주식회사 카카오", "Kakao Co., Ltd."], None),
        # Japanese: 株式会社 before or after the name.
        (["株式会社日立製作所", "日立製作所株式会社"], "日立制作所"),
    ],
)
def test_names_in_two_scripts_share_a_latin_core(names: list[str], shared: str | None) -> None:
    cores = [set(name_aliases([n])) for n in names]
    common = set.intersection(*cores)
    assert common, cores
    if shared is not None:
        assert shared in common


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("ООО «Ромашка»", "llc"),
        ("Общество с ограниченной ответственностью «Ромашка»", "llc"),
        ("ТОВ «Ромашка»", "llc"),
        ("OOO Romashka", "llc"),
        ("Romashka LLC", "llc"),
        ("АО «Ромашка»", "jsc"),
        ("AO Romashka", "jsc"),
        ("Romashka JSC", "jsc"),
        ("ПАО «Ромашка»", "pjsc"),
        ("Romashka PJSC", "pjsc"),
        ("株式会社日立製作所", "kk"),
        ("Hitachi K.K.", "kk"),
        ("Hitachi Kabushiki Kaisha", "kk"),
        ("삼성전자 주식회사", "co ltd"),
        ("Samsung Electronics Co., Ltd.", "co ltd"),
    ],
)
def test_one_legal_form_in_every_script_and_transliteration(name: str, form: str) -> None:
    assert split_legal_form(name)[1] == form


def test_arabic_names_get_a_latin_alias() -> None:
    # anyascii writes Arabic consonants (no short vowels): the alias meets the same name written by another
    # Arabic source, not an English rendering; it is an alias, never a replacement of the Arabic core.
    name = "شركة الزيت العربية السعودية"
    assert name_aliases([name])[0] == name_core(name)
    assert latin_core(name) and latin_core(name).isascii()
    assert latin_core(name) == latin_core("شركة الزيت العربية السعودية")


def test_latin_names_have_no_second_alias() -> None:
    assert latin_core("Baltic Amber Trading Corporation") == ""
    assert name_aliases(["Baltic Amber Trading Corporation"]) == ["baltic amber trading"]


def _pypinyin_whole(text: str) -> str:
    """What latin() read a Chinese text as before it read word by word: pypinyin over the whole text."""
    return "".join(lazy_pinyin(text, style=Style.NORMAL, errors=anyascii))


def test_chinese_read_word_by_word_as_pypinyin_reads_the_whole_text(realdata: Path) -> None:
    # Names of the real 1998 register (every 8th of its 78k firms, all provinces): latin() caches the reading
    # of each word pypinyin cut; the result must be pypinyin's reading of the whole name, character for character.
    path = realdata / "cn-enterprise-registry" / "cn-enterprise-registration-1998-all-provinces.csv"
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        names = {row["企业名称"] for i, row in enumerate(csv.DictReader(f)) if row["企业名称"] and i % 8 == 0}
    assert len(names) > 9_000
    differ = [n for n in names if latin(n) != _pypinyin_whole(n) and not _KANA_OR_HANGUL.search(n)]
    assert differ == []


_KANA_OR_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["银行", "行", "长", "重庆", "乐", "〇", "科技", "有限公司", " ", "(", "（深圳）", "A", "1号", "ß"]
        ),
        min_size=1,
        max_size=8,
    ).map("".join)
)
def test_any_mix_of_han_and_other_characters_reads_as_pypinyin_reads_it(text: str) -> None:
    expected = _pypinyin_whole(text) if needs_transliteration(text) else text
    assert latin(text) == expected
