"""Latin transliteration of names in other scripts, by maintained libraries: pypinyin for Chinese (word-aware
readings: 银行 -> yinhang, not yinxing), anyascii for every other script (Cyrillic, Greek, Arabic, Hebrew,
Hangul, kana ...).

A name in Cyrillic in one source and in Latin letters in another is then compared in both forms. Chinese
pinyin syllables are joined without spaces (华为技术 -> huaweijishu): Chinese is written without word
breaks, and romanised company names join the syllables of a word (Huawei, Zhongxing) in ways no
segmenter reproduces reliably, so the joined form meets them through character similarity.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii
from pypinyin import Style, lazy_pinyin
from pypinyin.core import Pinyin

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")


def needs_transliteration(text: str | None) -> bool:
    """Whether the text has letters outside the Latin script (accented Latin letters do not count)."""
    if not text or text.isascii():
        return False
    for ch in text:
        if ord(ch) < 0x250:
            continue
        if ch.isalpha() and not unicodedata.name(ch, "").startswith("LATIN"):
            return True
    return False


@lru_cache(maxsize=1 << 17)
def latin(text: str) -> str:
    """The text in Latin letters: Chinese (Han without kana or Hangul) through pypinyin, the rest through
    anyascii; Latin text comes back as it is."""
    if not needs_transliteration(text):
        return text
    if _HAN.search(text) and not _KANA.search(text) and not _HANGUL.search(text):
        return "".join(_word_pinyin(word) for word in _SEGMENTER.seg(text))
    return anyascii(text)


# pypinyin cuts a text into words (runs of Han and of other characters, the Han runs by its phrase dictionary)
# and reads each word on its own; a word's reading depends on the word alone (no tone sandhi), so it is read
# once per process: company names repeat their words (科技, 贸易, 深圳), and reading one is most of the cost.
# A one-word list is read as that word, which is what lazy_pinyin does with each word of a text it cut itself.
_SEGMENTER = Pinyin()


@lru_cache(maxsize=1 << 16)
def _word_pinyin(word: str) -> str:
    return "".join(lazy_pinyin([word], style=Style.NORMAL, errors=anyascii))
