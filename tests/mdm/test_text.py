"""Text primitives (mdm.text): accent stripping and the normalisation every comparison starts from."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm.text import _strip_accents, normalise_text


def _by_character(text: str) -> str:
    """Accents stripped one character at a time: NFKD, drop what has a combining class, NFC."""
    kept = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", kept)


@pytest.mark.parametrize(
    ("text", "stripped"),
    [
        ("Société Générale", "Societe Generale"),
        ("Škoda Dvořák", "Skoda Dvorak"),
        ("Ελληνική", "Ελληνικη"),  # Greek tonos is a combining mark
        ("삼성전자", "삼성전자"),  # Hangul syllables split by NFKD and put together again
        ("ﬁnance", "finance"),  # NFKD also unfolds compatibility ligatures
        ("华为", "华为"),
    ],
)
def test_accents_are_stripped_and_other_letters_kept(text: str, stripped: str) -> None:
    assert _strip_accents(text) == stripped


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_stripping_drops_exactly_the_characters_with_a_combining_class(text: str) -> None:
    assert _strip_accents(text) == _by_character(text)


def test_normalised_names_lose_accents_case_and_punctuation() -> None:
    assert normalise_text("Crédit Agricole S.A.") == "credit agricole s a"
    assert normalise_text("BÜRO & Co") == "buro and co"
