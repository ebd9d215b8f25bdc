"""Reference pools of the sample world: name stems, industries, cities, streets, legal forms, LOUs, people.

The pools are data, kept in ``pipelines/sample/data/*.json`` (names, industries, places, registers) and read
once at import, JSON arrays as tuples; this module names and types each pool and derives what is computed
from them. Hard-coded reference codes are explained in :mod:`pipelines.sample`.
"""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path
from typing import Any

from pipelines.sample import synth

_DATA = Path(__file__).resolve().parent / "data"


def _tuples(v: Any) -> Any:
    """A JSON value with every array a tuple, at any depth (the pools are immutable and hashable)."""
    if isinstance(v, list):
        return tuple(_tuples(x) for x in v)
    if isinstance(v, dict):
        return {k: _tuples(x) for k, x in v.items()}
    return v


def _load(name: str) -> dict[str, Any]:
    """The pools of ``data/<name>.json`` by key."""
    with (_DATA / f"{name}.json").open(encoding="utf-8") as fh:
        data: dict[str, Any] = _tuples(json.load(fh))
    return data


_NAMES = _load("names")
_PLACES = _load("places")
_REGISTERS = _load("registers")

# --- word pools ----------------------------------------------------------------------------------

# Coined-stem syllables. Suffixes never end like a pinyin syllable (vowel, n, ng, r), so a coined
# stem can never equal the pinyin of a Chinese trade name.
_PREFIXES: tuple[str, ...] = _NAMES["prefixes"]
_MIDDLES: tuple[str, ...] = _NAMES["middles"]
_SUFFIXES: tuple[str, ...] = _NAMES["suffixes"]
# Real-word stems (English, German, French), for look-alikes such as "Summit Logistics" vs
# "Summit Foods", and their Chinese renderings (same order).
_WORD_STEMS: tuple[str, ...] = _NAMES["word_stems"]
_WORD_STEMS_ZH: tuple[str, ...] = _NAMES["word_stems_zh"]
# Chinese trade-name (字号) characters with distinct consonant-initial pinyin: one char per pinyin.
_ZIHAO: tuple[tuple[str, str], ...] = tuple((c, p) for c, p in _NAMES["zihao"] if p.isalpha() and p[0] not in "aeiou")
# Phonetic characters for Chinese renderings of coined stems (disjoint from the trade-name pool).
_PHONETIC: str = "".join(c for c in dict.fromkeys(_NAMES["phonetic"]) if c not in {z for z, _ in _ZIHAO})


@cache
def _latin_stems() -> tuple[tuple[str, str], ...]:
    """Every Latin stem once, with an injective Chinese rendering.

    Word stems keep their hand translation unless it could clash with a Chinese trade name (all
    characters from the 字号 pool) or with a coined stem's rendering (three phonetic characters);
    coined stems (prefix+suffix, prefix+middle+suffix) are deduplicated by spelling and rendered as
    their ordinal written with three phonetic characters.
    """
    zihao = {c for c, _ in _ZIHAO}
    phon = set(_PHONETIC)
    out: dict[str, str] = {}
    for latin, zh in zip(_WORD_STEMS, _WORD_STEMS_ZH, strict=True):
        if all(c in zihao for c in zh) or (len(zh) == 3 and all(c in phon for c in zh)):
            continue
        out.setdefault(latin, zh)
    coined: dict[str, None] = {}
    for p in _PREFIXES:
        for x in _SUFFIXES:
            coined[p + x] = None
    for p in _PREFIXES:
        for m in _MIDDLES:
            for x in _SUFFIXES:
                coined[p + m + x] = None
    n = 0
    for latin in coined:
        if latin not in out:
            out[latin] = synth.to_base(n, 3, _PHONETIC)
            n += 1
    return tuple(out.items())


# (en, zh, de, fr, UK SIC "code - text", US SIC, 经营范围)
_INDUSTRIES: tuple[tuple[str, str, str, str, str, str, str], ...] = _load("industries")["industries"]

# --- places --------------------------------------------------------------------------------------

# CN cities: (province short, city, pinyin, ISO 3166-2, phone area, postal, ((district, area code), ...))
_CN_CITIES: tuple[tuple[str, str, str, str, str, str, tuple[tuple[str, str], ...]], ...] = _PLACES["cn_cities"]
_MUNICIPALITIES: set[str] = set(_PLACES["municipalities"])
_CN_ROADS: tuple[str, ...] = _PLACES["cn_roads"]
_CN_BUILDINGS: tuple[str, ...] = _PLACES["cn_buildings"]
# GB towns: (post town, county, postcode areas, phone area, register: EW/SC/NI)
_GB_TOWNS: tuple[tuple[str, str, tuple[str, ...], str, str], ...] = _PLACES["gb_towns"]
_GB_STREETS: tuple[str, ...] = _PLACES["gb_streets"]
_GB_BUILDINGS: tuple[str, ...] = _PLACES["gb_buildings"]
_PC_LETTERS: str = _PLACES["pc_letters"]
# US cities: (city, state, zip base, phone area)
_US_CITIES: tuple[tuple[str, str, int, str], ...] = _PLACES["us_cities"]
_US_STREETS: tuple[str, ...] = _PLACES["us_streets"]
# Other countries: country -> ((city, region, postal base, phone prefix), ...)
_OTHER_CITIES: dict[str, tuple[tuple[str, str, int, str], ...]] = _PLACES["other_cities"]
_OTHER_STREETS: dict[str, tuple[str, ...]] = _PLACES["other_streets"]
_JP_WARDS: tuple[str, ...] = _PLACES["jp_wards"]
_HK_DISTRICTS: tuple[str, ...] = _PLACES["hk_districts"]

# --- registers -----------------------------------------------------------------------------------

_CN_TYPES: tuple[str, ...] = _REGISTERS["cn_types"]  # 企业类型 of the Chinese register
_DE_COURTS: tuple[str, ...] = _REGISTERS["de_courts"]  # GLEIF RA codes of German register courts

# --- names of groups and people ------------------------------------------------------------------

# Qualifiers that tell group members apart: (en, zh, de, fr, bracketed in English?): the Chinese cities,
# then regions and countries.
_QUALIFIERS: tuple[tuple[str, str, str, str, bool], ...] = (
    tuple((c[2], c[1], c[2], c[2], True) for c in _CN_CITIES) + _NAMES["qualifiers"]
)
# Qualifiers that name a region rather than a country (usable for a member in any country).
_REGION_QUALIFIERS = tuple(
    i
    for i, q in enumerate(_QUALIFIERS)
    if q[0] in ("Europe", "International", "Asia Pacific", "North America", "Nordic", "Middle East", "Global")
)
_COUNTRY_QUALIFIER: dict[str, str] = _NAMES["country_qualifier"]

_FIRST: tuple[str, ...] = _NAMES["first"]
_LAST: tuple[str, ...] = _NAMES["last"]
_CN_SURNAMES: str = _NAMES["cn_surnames"]
_CN_GIVEN: str = _NAMES["cn_given"]

# --- legal forms and identifiers -----------------------------------------------------------------

# Legal forms: key -> (country, canonical spelling, variant spellings, ELF code)
_FORMS: dict[str, tuple[str, str, tuple[str, ...], str]] = _REGISTERS["forms"]
# English form of a Chinese legal form: key -> (canonical spelling, variant spellings)
_CN_FORM_EN: dict[str, tuple[str, tuple[str, ...]]] = _REGISTERS["cn_form_en"]
# ELF code of a US form by state: (state, form key) -> ELF code
_US_ELF: dict[tuple[str, str], str] = {
    (state, form): elf for state, forms in _REGISTERS["us_elf"].items() for form, elf in forms.items()
}
_US_RA: dict[str, str] = _REGISTERS["us_ra"]  # GLEIF RA code of a US state's register
_LOUS: dict[str, tuple[str, ...]] = _REGISTERS["lous"]  # country -> LEIs of the LOUs that issue there
_EIN_PREFIXES: tuple[str, ...] = _REGISTERS["ein_prefixes"]

# --- the mix of the world ------------------------------------------------------------------------

_ROOT_COUNTRIES = (("CN", 35), ("GB", 30), ("US", 20), ("DE", 4), ("FR", 3), ("HK", 3), ("SG", 2), ("JP", 3))
_ABROAD = (("HK", 4), ("SG", 3), ("GB", 4), ("US", 4), ("DE", 2), ("FR", 1), ("JP", 1), ("CN", 3))
_LANG = {"CN": "zh", "DE": "de", "FR": "fr"}


def _cn_person(rng: random.Random) -> str:
    given = _CN_GIVEN[rng.randrange(len(_CN_GIVEN))]
    if rng.random() < 0.6:
        given += _CN_GIVEN[rng.randrange(len(_CN_GIVEN))]
    return _CN_SURNAMES[rng.randrange(len(_CN_SURNAMES))] + given


def _en_person(rng: random.Random) -> str:
    return f"{_FIRST[rng.randrange(len(_FIRST))]} {_LAST[rng.randrange(len(_LAST))]}"
