"""Address and postcode normalisation per country, for comparing addresses (not for display).

Postcodes are put in the form the national post uses (GB "LS10 2RU", US "02110-1234", CN "200120", DE
"01067"); address text is reduced to comparable tokens: folded case, accents and width, traditional Chinese to
simplified, punctuation dropped, street types abbreviated the same way whichever spelling the source used
(Street/St, Road/Rd, Straße/Str./strasse -> "str"). Chinese addresses keep 路, 号 etc. and lose their spaces.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from mdm.text import BRACKETED_RE, has_cjk, normalise_text

_GB_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_GB_ANYWHERE_RE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})\b")
_ALNUM_RE = re.compile(r"[^0-9A-Z]")
_DIGITS_RE = re.compile(r"[^0-9]")
_US_ZIP_RE = re.compile(r"[0-9]{5}(-[0-9]{4})?")  # ZIP or ZIP+4, as postcode() writes them

# Street types and other address words, by language; applied to whole tokens of normalised text.
_EN = {
    "street": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "drive": "dr",
    "lane": "ln",
    "boulevard": "blvd",
    "place": "pl",
    "court": "ct",
    "square": "sq",
    "crescent": "cres",
    "terrace": "ter",
    "highway": "hwy",
    "parkway": "pkwy",
    "close": "cl",
    "gardens": "gdns",
    "building": "bldg",
    "floor": "fl",
    "suite": "ste",
    "apartment": "apt",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "saint": "st",
    "mount": "mt",
    "house": "ho",
    "centre": "ctr",
    "center": "ctr",
    "industrial": "ind",
    "estate": "est",
}
_DE = {"strasse": "str", "str": "str", "platz": "pl", "allee": "al", "weg": "weg", "gasse": "g", "ring": "ring"}
_FR = {
    "avenue": "av",
    "boulevard": "bd",
    "place": "pl",
    "route": "rte",
    "chemin": "ch",
    "saint": "st",
    "sainte": "ste",
    "faubourg": "fbg",
    "impasse": "imp",
}
_ES = {"calle": "c", "avenida": "av", "avda": "av", "plaza": "pl", "paseo": "po", "carrera": "cra"}
_NL = {"straat": "str", "laan": "ln", "plein": "pl"}
_BY_LANGUAGE = {"en": _EN, "de": _DE, "fr": _FR, "es": _ES, "nl": _NL}
_COUNTRY_LANGUAGES = {
    "GB": ("en",),
    "US": ("en",),
    "IE": ("en",),
    "AU": ("en",),
    "NZ": ("en",),
    "CA": ("en", "fr"),
    "SG": ("en",),
    "HK": ("en",),
    "IN": ("en",),
    "ZA": ("en",),
    "DE": ("de",),
    "AT": ("de",),
    "CH": ("de", "fr"),
    "LI": ("de",),
    "LU": ("fr", "de"),
    "FR": ("fr",),
    "BE": ("fr", "nl"),
    "MC": ("fr",),
    "ES": ("es",),
    "MX": ("es",),
    "AR": ("es",),
    "CL": ("es",),
    "CO": ("es",),
    "PE": ("es",),
    "NL": ("nl",),
}
# German compounds: Hauptstraße, Hauptstrasse, Hauptstr. -> hauptstr.
_DE_COMPOUND_RE = re.compile(r"(?<=\w)(?:strasse|str)$")


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value).upper()


def postcode(value: str | None, country: str | None = None) -> str:
    """The postcode in its national format for `country` (ISO alpha-2); '' when empty.

    GB: "ls10 2ru" -> "LS10 2RU"; US: 5-digit ZIP or ZIP+4 "02110-1234" (a leading zero lost by a spreadsheet
    is restored: "2110" -> "02110"); CN: 6 digits; DE: 5 digits ("1067" -> "01067"). A value that does not fit
    its country's format, and the postcodes of other countries, come back upper case without spaces or
    punctuation, so equal codes still compare equal.
    """
    if not value:
        return ""
    v = _fold(value).strip()
    alnum = _ALNUM_RE.sub("", v)
    if not alnum:
        return ""
    c = (country or "").upper()
    if c == "GB":
        m = _GB_RE.match(alnum)
        return f"{m.group(1)} {m.group(2)}" if m else alnum
    if c == "US":
        digits = _DIGITS_RE.sub("", v)
        if digits == alnum and len(digits) in (4, 5, 8, 9):
            digits = digits.zfill(5 if len(digits) <= 5 else 9)
            return digits if len(digits) == 5 else f"{digits[:5]}-{digits[5:]}"
        return alnum
    if c == "DE":
        if alnum.isdigit() and len(alnum) in (4, 5):
            return alnum.zfill(5)
        return alnum
    return alnum  # CN (6 digits) and every other country: the code as written, compacted


def postcode_valid(value: str | None, country: str | None) -> bool:
    """Whether the value is a well-formed postcode of `country` (GB, US, CN, DE; other countries: non-empty)."""
    pc = postcode(value, country)
    c = (country or "").upper()
    if c == "GB":
        return bool(_GB_RE.match(pc.replace(" ", "")))
    if c == "US":
        return bool(_US_ZIP_RE.fullmatch(pc))
    if c == "CN":
        return bool(re.fullmatch(r"[0-9]{6}", pc))
    if c == "DE":
        return bool(re.fullmatch(r"[0-9]{5}", pc))
    return bool(pc)


def postcode_district(value: str | None, country: str | None) -> str:
    """The coarse part of a postcode, for blocking: GB outward code ("LS10"), US ZIP5, the code itself else."""
    pc = postcode(value, country)
    c = (country or "").upper()
    if c == "GB":
        m = _GB_RE.match(pc.replace(" ", ""))
        return m.group(1) if m else pc
    if c == "US" and _US_ZIP_RE.fullmatch(pc):
        return pc[:5]
    return pc


def _without_tokens(text: str, form: str) -> str:
    """``text`` without each run of whole tokens that spells ``form`` (both normalised, single-spaced),
    left to right: the postcode written in an address. (A regex per postcode would be compiled per record:
    there are more distinct postcodes than the re module caches.)"""
    want = form.split()
    k = len(want)
    words = text.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i : i + k] == want:
            i += k
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


@lru_cache(maxsize=64)
def _street_words(country: str | None) -> dict[str, str]:
    langs = _COUNTRY_LANGUAGES.get((country or "").upper())
    if langs is None:  # unknown country: English first, then the others where they do not clash
        langs = ("en", "de", "fr", "es", "nl")
    table: dict[str, str] = {}
    for lang in langs:
        for k, v in _BY_LANGUAGE[lang].items():
            table.setdefault(k, v)
    return table


def address(value: str | None, country: str | None = None, postal_code: str | None = None) -> str:
    """Normalised address text for similarity: folded, street types abbreviated per `country`'s language(s).

    Bracketed remarks are dropped ("1 High Street (Floor 2)" -> "1 high st"); the record's own postcode, when
    given, and a GB postcode written in the text are removed, since postcodes are compared separately. Chinese
    addresses are folded to simplified characters without spaces; 路, 号 and other characters stay as written.
    """
    if not value:
        return ""
    text = BRACKETED_RE.sub(" ", unicodedata.normalize("NFKC", value))
    c = (country or "").upper()
    if c == "GB":
        text = _GB_ANYWHERE_RE.sub(" ", text.upper())
    t = normalise_text(text)
    if postal_code:
        pc = normalise_text(postal_code)
        for form in {pc, pc.replace(" ", "")}:
            if form:
                t = _without_tokens(t, form)
    if has_cjk(t):
        return re.sub(r"\s+", "", t)
    words = _street_words(country)
    german = c in ("DE", "AT", "CH", "LI", "LU", "")
    out = []
    for tok in t.split():
        if tok in words:
            tok = words[tok]
        elif german and len(tok) > 6 and _DE_COMPOUND_RE.search(tok):
            tok = _DE_COMPOUND_RE.sub("str", tok)
        out.append(tok)
    return " ".join(out)
