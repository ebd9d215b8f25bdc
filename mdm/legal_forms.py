"""Legal forms and Chinese region prefixes in organisation names, from the data shipped in mdm/data.

* ``legal_forms.csv`` (built by scripts/build_legal_forms.py from the ISO 20275 ELF code list, CC0, and the
  name_matching legal-names list, MIT): normalised legal-form spellings and their canonical abbreviation key.
* ``cn_regions.csv`` (hand-written): Chinese province- and prefecture-level place names.

Both files are read once, on first use, from the package folder. The functions are pure and fast: a name is
looked up by its trailing tokens joined without spaces (so "s a r l", "sarl" and "s a rl" are one spelling), a
handful of dictionary look-ups per name.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mdm.text import BRACKETED_RE, CJK_RE

# Canonical forms this short (compared without spaces: "as", "ab", "sa", "ag", "co") are also ordinary words or
# initials; they are stripped only as the last token(s) of the name itself, never after another form was peeled.
SHORT_FORM = 2
# A name is never reduced below this many characters (without spaces): "Plc" stays "plc", "A S.A." stays whole.
MIN_CORE = 2
# Chinese names keep a bare region prefix (北京银行) unless at least this many characters remain without the
# legal form; a prefix written with its suffix (北京市) needs MIN_CORE.
MIN_CN_CORE_BARE = 3

# Japanese and Korean legal forms are also written before the name (株式会社日立製作所, 주식회사 카카오).
_PREFIX_LANGUAGES = frozenset({"ja", "ko"})


@dataclass(frozen=True)
class Region:
    """A Chinese place at province or prefecture level."""

    name: str  # official name with its suffix: 深圳市
    region: str  # the short name used as the region value: 深圳
    level: str  # "province" or "prefecture"
    province: str  # short name of the province it belongs to (itself for a province)


def _read(name: str) -> list[dict[str, str]]:
    text = (Path(__file__).parent / "data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@lru_cache(maxsize=1)
def _latin_forms() -> tuple[dict[str, str], int]:
    """{spelling without spaces: canonical key} for non-CJK spellings, and the longest spelling in tokens."""
    table: dict[str, str] = {}
    longest = 1
    for row in _read("legal_forms.csv"):
        spelling = row["spelling"]
        if CJK_RE.search(spelling):
            continue
        table[spelling.replace(" ", "")] = row["canonical"]
        longest = max(longest, len(spelling.split()))
    return table, longest


@lru_cache(maxsize=1)
def _cjk_canonical() -> dict[str, str]:
    """{CJK spelling: canonical key}: 株式会社 -> kk, 주식회사 -> co ltd (one form with K.K. and Co., Ltd.)."""
    return {
        unicodedata.normalize("NFC", row["spelling"]): unicodedata.normalize("NFC", row["canonical"])
        for row in _read("legal_forms.csv")
        if CJK_RE.search(row["spelling"])
    }


def cjk_canonical(form: str | None) -> str | None:
    """The canonical key of a CJK legal-form spelling returned by :func:`strip_cjk_legal_form` (the spelling
    itself for the Chinese forms, the Latin key shared with their romanisations for 株式会社 and 주식회사)."""
    return None if form is None else _cjk_canonical().get(form, form)


@lru_cache(maxsize=1)
def _cjk_forms() -> tuple[tuple[str, ...], frozenset[str]]:
    """CJK legal-form spellings, longest first, and those that may also open a name (Japanese, Korean)."""
    forms: list[str] = []
    prefix: set[str] = set()
    for row in _read("legal_forms.csv"):
        if not CJK_RE.search(row["spelling"]):
            continue
        spelling = unicodedata.normalize("NFC", row["spelling"])  # Hangul jamo back to syllables
        forms.append(spelling)
        if _PREFIX_LANGUAGES & set(row["languages"].split()):
            prefix.add(spelling)
    return tuple(sorted(forms, key=lambda f: (-len(f), f))), frozenset(prefix)


def canonical_forms() -> frozenset[str]:
    """Every canonical legal-form key (Latin and CJK) that the strip functions can return."""
    latin, _ = _latin_forms()
    return frozenset(latin.values()) | frozenset(_cjk_forms()[0])


def cjk_legal_forms() -> tuple[str, ...]:
    """CJK legal forms (simplified Chinese, Japanese, Korean), longest first: the suffixes split off CJK names."""
    return _cjk_forms()[0]


def strip_legal_form(name: str) -> tuple[str, str | None]:
    """(name without its trailing legal form(s), canonical form or None) for a normalised Latin-script name.

    `name` is the output of mdm.standardise.normalise_text. Forms are recognised only at the end of the name,
    longest spelling first ("gesellschaft mit beschrankter haftung" -> "gmbh", "sp z o o" -> "sp zoo"), and
    peeled repeatedly ("holdings co ltd" -> ("holdings", "co ltd"), "acme ltd plc" -> ("acme", "ltd plc")). A
    form is not stripped when the rest would be empty or a single character, and short forms ("as", "sa", "co")
    only when they are the last token(s) of the name as given.
    """
    table, longest = _latin_forms()
    tokens = name.split()
    forms: list[str] = []
    while tokens:
        found: tuple[int, str] | None = None
        suffix = ""
        for i in range(len(tokens) - 1, max(-1, len(tokens) - 1 - longest), -1):
            suffix = tokens[i] + suffix
            key = table.get(suffix)
            if key is None:
                continue
            if len("".join(tokens[:i])) < MIN_CORE:
                continue
            if forms and len(key.replace(" ", "")) <= SHORT_FORM:
                continue
            found = (i, key)  # keep looking: the longest spelling that leaves a real core wins
        if found is None:
            break
        i, key = found
        if not forms or forms[0] != key:  # "crane services ltd ltd": one "ltd"
            forms.insert(0, key)
        tokens = tokens[:i]
    return " ".join(tokens), (" ".join(forms) if forms else None)


# Legal forms also written before the name: Russian, Ukrainian and Belarusian usage (ООО «Ромашка», ПАО Сбербанк,
# ТОВ «Нафтогаз»), kept in their transliterations and English renderings (OOO Romashka, PJSC Sberbank).
LEADING_FORMS = frozenset({"llc", "jsc", "pjsc", "cjsc", "ojsc", "prjsc"})


def strip_leading_legal_form(name: str) -> tuple[str, str | None]:
    """(name without a legal form opening it, canonical form or None) for a normalised non-CJK name; only the
    forms of LEADING_FORMS, and never when less than MIN_CORE characters would remain."""
    table, longest = _latin_forms()
    tokens = name.split()
    for i in range(min(longest, len(tokens) - 1), 0, -1):
        key = table.get("".join(tokens[:i]))
        if key in LEADING_FORMS and len("".join(tokens[i:])) >= MIN_CORE:
            return " ".join(tokens[i:]), key
    return name, None


def strip_cjk_legal_form(name: str) -> tuple[str, str | None]:
    """(name without its legal form, the form or None) for a simplified, space-free CJK name.

    The longest known form ending the name is split off (华为技术有限公司 -> 华为技术, 有限公司); Japanese and
    Korean forms are also recognised at the start (株式会社日立制作所 -> 日立制作所, 株式会社). The name is
    left whole when nothing would remain.
    """
    forms, prefix = _cjk_forms()
    name = unicodedata.normalize("NFC", name)
    for form in forms:
        if name.endswith(form) and len(name) > len(form):
            return name[: -len(form)], form
    for form in forms:
        if form in prefix and name.startswith(form) and len(name) > len(form):
            return name[len(form) :], form
    return name, None


@lru_cache(maxsize=1)
def _regions() -> tuple[dict[str, Region], dict[str, Region], dict[str, Region], int]:
    """(spellings with their suffix, bare names allowed as a prefix, every short name, longest spelling)."""
    with_suffix: dict[str, Region] = {}
    bare: dict[str, Region] = {}
    short: dict[str, Region] = {}
    for row in _read("cn_regions.csv"):
        r = Region(row["name"], row["region"], row["level"], row["province"])
        with_suffix[r.name] = r
        for alias in row["aliases"].split():
            with_suffix[alias] = r
        # Prefectures named 地区/自治州/盟 are written with their suffix; their bare names are ordinary words
        # (阿里 as in 阿里巴巴), so only provinces and cities (市) are recognised without the suffix.
        if r.name.endswith(("省", "市", "自治区", "特别行政区")):
            bare.setdefault(r.region, r)
        short.setdefault(r.region, r)
    longest = max(len(k) for k in (*with_suffix, *bare))
    return with_suffix, bare, short, longest


def cn_region(place: str | None) -> Region | None:
    """The province- or prefecture-level region a Chinese place name or region value denotes, or None.

    Accepts official names (深圳市, 广东省, 阿里地区), short names (深圳, 广东, 阿里) and the region values
    strip_cn_region returns; a short name shared by a province and its capital (吉林) is the province.
    """
    if not place:
        return None
    with_suffix, bare, short, _ = _regions()
    p = place.strip()
    return with_suffix.get(p) or bare.get(p) or short.get(p)


def _core_length(text: str) -> int:
    return len(strip_cjk_legal_form(text)[0])


def _leading_region(text: str) -> tuple[Region, int] | None:
    """The region spelled at the start of `text` and its length; suffixed spellings first, then longest."""
    with_suffix, bare, _, longest = _regions()
    for n in range(min(longest, len(text) - 1), 1, -1):
        head = text[:n]
        if head in with_suffix and _core_length(text[n:]) >= MIN_CORE:
            return with_suffix[head], n
    for n in range(min(longest, len(text) - 1), 1, -1):
        head = text[:n]
        if head in bare and _core_length(text[n:]) >= MIN_CN_CORE_BARE:
            return bare[head], n
    return None


def _more_specific(a: Region | None, b: Region) -> Region:
    if a is None:
        return b
    return b if (a.level == "province" and b.level == "prefecture") else a


def strip_cn_region(name: str) -> tuple[str, str | None]:
    """(name without its region, the region's short name or None) for a simplified-Chinese name.

    Removes a leading region (深圳市华为技术有限公司, 深圳华为技术有限公司, 广东省深圳市…: province then
    prefecture) and a region in brackets anywhere (华为技术（深圳）有限公司, 华为技术(深圳)有限公司) or, in text
    already normalised by normalise_text, a region standing as its own space-separated token after the first.
    The returned core has no spaces. With several regions the most specific (prefecture) is returned. A bare
    prefix is kept when too little would remain (北京银行 stays whole: 银行 alone names no company).
    """
    if not name:
        return "", None
    region: Region | None = None
    text = name

    def _paren(m: re.Match[str]) -> str:
        nonlocal region
        r = cn_region(m.group(1))
        if r is None:
            return m.group(0)
        region = _more_specific(region, r)
        return ""

    text = BRACKETED_RE.sub(_paren, text)
    tokens = text.split()
    kept = tokens[:1]
    for tok in tokens[1:]:
        r = cn_region(tok)
        if r is not None and CJK_RE.search(tok):
            region = _more_specific(region, r)
        else:
            kept.append(tok)
    text = "".join(kept)
    lead = _leading_region(text)
    if lead is not None:
        first, n = lead
        text = text[n:]
        region = _more_specific(region, first)
        if first.level == "province":
            second = _leading_region(text)
            if second is not None and second[0].level == "prefecture":
                text = text[second[1] :]
                region = _more_specific(region, second[0])
    return text, (region.region if region else None)
