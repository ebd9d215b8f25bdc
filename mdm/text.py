"""Text primitives shared by standardisation, legal forms and addresses: script detection and the
normalisation every comparison starts from (NFKC, traditional -> simplified, casefold, no punctuation)."""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache

import opencc

_T2S = opencc.OpenCC("t2s")
# Hangul jamo, kana, Hangul compatibility jamo, CJK ideographs (and extension A), Hangul syllables, CJK
# compatibility ideographs. The jamo are there because NFKD (normalise_text) splits syllables into them.
CJK_RE = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# A bracketed part, half- or full-width: "(UK)", "（深圳）"; group 1 is its content. The innermost pair of
# nested brackets is matched first.
BRACKETED_RE = re.compile(r"[（(]([^（()）]*)[）)]")
_PUNCT_RE = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")
# What _PUNCT_RE replaces among ASCII characters (neither letter, digit, '_' nor white space), as a table.
_ASCII_PUNCT = str.maketrans(dict.fromkeys((c for c in map(chr, range(128)) if _PUNCT_RE.match(c)), " "))


def has_cjk(text: str | None) -> bool:
    return bool(text) and bool(CJK_RE.search(text or ""))


@cache
def _combining_marks() -> dict[int, None]:
    """A str.translate table that drops every character of a non-zero combining class (built on first use:
    a scan of all code points, about 0.1 s)."""
    return {cp: None for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp))}


def _strip_accents(text: str) -> str:
    # NFC at the end recomposes what NFKD split but did not drop (Hangul syllables stay syllables).
    return unicodedata.normalize("NFC", unicodedata.normalize("NFKD", text).translate(_combining_marks()))


def normalise_text(text: str | None) -> str:
    """NFKC (full/half width), traditional -> simplified, casefold, '&' -> 'and', no punctuation."""
    if not text:
        return ""
    if text.isascii():  # most text: NFKC, casefold and accent stripping are lower() for ASCII
        t = text.replace("\x00", "").lower().replace("&", " and ").replace("+", " and ").replace("'", "")
        return " ".join(t.translate(_ASCII_PUNCT).split())
    t = unicodedata.normalize("NFKC", text).replace("\x00", "")
    if has_cjk(t):
        t = _T2S.convert(t)
    t = t.casefold().replace("&", " and ").replace("+", " and ")
    t = _strip_accents(t)
    t = t.replace("'", "")
    t = _PUNCT_RE.sub(" ", t)
    return _SPACE_RE.sub(" ", t).strip()


def abbreviates(short: str, long: str) -> bool:
    """Whether ``short`` is a contraction of ``long`` as company names write them: same first letter, three to
    five letters, its letters in order within the longer word (Mfg / manufacturing, Intl / international,
    Hldgs / holdings, Tech / technology). A rule of spelling, not a list of abbreviations."""
    if not 3 <= len(short) <= 5 or len(short) >= len(long) or short[0] != long[0] or not short.isalpha():
        return False
    it = iter(long[1:])
    return all(ch in it for ch in short[1:])
