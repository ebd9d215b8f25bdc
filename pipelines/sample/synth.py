"""Pure helpers for the synthetic sample world: identifiers with valid check digits and name variants.

Used by :mod:`pipelines.sample` to build test data that looks like the real sources: every valid
identifier passes python-stdnum, mistyped ones fail it, and name variants reproduce the spellings
that differ between the registers and a bank's CRM (legal-form spellings, abbreviations, case,
punctuation, typos, bracket widths). All randomness comes from the ``random.Random`` passed in.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from stdnum import luhn
from stdnum.cn import uscc as _uscc
from stdnum.iso7064 import mod_97_10

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Characters allowed in a USCC after the first 8 digits (GB 32100-2015: no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def affine(k: int, size: int, a: int, b: int) -> int:
    """A bijection of ``range(size)`` (``a`` must be coprime with ``size``): scatters sequential ids."""
    return (a * k + b) % size


def to_base(n: int, width: int, alphabet: str = ALNUM) -> str:
    """``n`` written in the given alphabet, left-padded with its zero symbol to ``width``."""
    base = len(alphabet)
    out = []
    for _ in range(width):
        n, r = divmod(n, base)
        out.append(alphabet[r])
    if n:
        raise ValueError("number does not fit in width")
    return "".join(reversed(out))


def make_lei(lou_prefix: str, body: str) -> str:
    """An ISO 17442 LEI: 4-char LOU prefix + 14-char entity part + 2 MOD 97-10 check digits."""
    stem = (lou_prefix + body).upper()
    if len(stem) != 18:
        raise ValueError("LEI prefix + body must be 18 characters")
    return stem + mod_97_10.calc_check_digits(stem)


def org_code(seq8: str) -> str:
    """A 9-character Chinese organisation code (GB 11714): 8 characters + its check character."""
    total = sum(ALNUM.index(c) * w for c, w in zip(seq8, _ORG_WEIGHTS))
    c = 11 - total % 11
    return seq8 + ("X" if c == 10 else "0" if c == 11 else str(c))


def make_uscc(area6: str, seq8: str, kind: str = "91") -> str:
    """An 18-character Unified Social Credit Code: kind (91 = enterprise), area, org code, check."""
    stem = kind + area6 + org_code(seq8)
    return stem + _uscc.calc_check_digit(stem)


def make_siren(seq8: str) -> str:
    """A French SIREN: 8 digits + Luhn check digit."""
    return seq8 + luhn.calc_check_digit(seq8)


def mistype(value: str, rng: random.Random, is_valid: Callable[[str], bool], alphabet: str = ALNUM) -> str:
    """``value`` with one character replaced so that ``is_valid`` rejects it (a keying error)."""
    for _ in range(100):
        i = rng.randrange(len(value))
        c = rng.choice(alphabet)
        if c == value[i]:
            continue
        out = value[:i] + c + value[i + 1 :]
        if not is_valid(out):
            return out
    raise ValueError(f"could not mistype {value!r}")


# --- name variants -------------------------------------------------------------------------------

ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("International", "Intl"),
    ("Holdings", "Hldgs"),
    ("Manufacturing", "Mfg"),
    ("Technologies", "Tech"),
    ("Technology", "Tech"),
    ("Engineering", "Eng"),
    ("Services", "Svcs"),
    ("Management", "Mgmt"),
    ("Associates", "Assoc"),
    ("Brothers", "Bros"),
    ("Industries", "Inds"),
    ("Development", "Dev"),
    ("Investments", "Invts"),
    (" & ", " and "),
)


def abbreviate(name: str, rng: random.Random) -> str:
    """Apply one applicable abbreviation (International -> Intl, & -> and, ...) in either direction."""
    options = []
    for long, short in ABBREVIATIONS:
        if long in name:
            options.append((long, short))
        elif (short.strip() and re.search(rf"\b{re.escape(short.strip())}\b", name) and short != " and ") or (
            short == " and " and short in name
        ):
            options.append((short, long))
    if not options:
        return name
    old, new = options[rng.randrange(len(options))]
    return name.replace(old, new, 1)


def change_case(name: str, rng: random.Random) -> str:
    """Upper-, title- or lower-case the name (as systems that normalise case do)."""
    r = rng.random()
    if r < 0.6:
        return name.upper()
    if r < 0.9:
        return " ".join(w[:1].upper() + w[1:].lower() for w in name.split(" "))
    return name.lower()


def change_punctuation(name: str, rng: random.Random) -> str:
    """Drop dots and commas, or add a comma before the legal form, or squeeze spaces."""
    r = rng.random()
    if r < 0.5:
        return re.sub(r"\s+", " ", name.replace(".", "").replace(",", "")).strip()
    if r < 0.75:
        parts = name.rsplit(" ", 1)
        return f"{parts[0]}, {parts[1]}" if len(parts) == 2 and not parts[0].endswith(",") else name
    return name.replace(" & ", "&").replace(", ", ",")


def typo(name: str, rng: random.Random) -> str:
    """One keying error: swap two neighbouring characters, drop one, or replace one."""
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if len(letters) < 4:
        return name
    i = letters[rng.randrange(1, len(letters) - 1)]
    r = rng.random()
    if r < 0.4 and i + 1 < len(name):
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if r < 0.7:
        return name[:i] + name[i + 1 :]
    c = name[i]
    if "\u4e00" <= c <= "\u9fff":
        return name[:i] + rng.choice("华兴达利通信源泰昌盛") + name[i + 1 :]
    repl = rng.choice("abcdefghijklmnoprstuvwy")
    return name[:i] + (repl.upper() if c.isupper() else repl) + name[i + 1 :]


_HALF = str.maketrans({"（": "(", "）": ")"})
_FULL = str.maketrans({"(": "（", ")": "）"})


def halfwidth_brackets(name: str) -> str:
    """Full-width brackets （） replaced by ASCII ()."""
    return name.translate(_HALF)


def fullwidth_brackets(name: str) -> str:
    """ASCII brackets () replaced by full-width （）."""
    return name.translate(_FULL)


def replace_suffix(name: str, old: str, new: str) -> str:
    """Replace the legal-form suffix ``old`` at the end of ``name`` (or at the end of its first part
    for a Chinese branch name ``...有限公司北京分公司``) with ``new``."""
    if name.endswith(old):
        return name[: len(name) - len(old)] + new
    i = name.rfind(old)
    return name if i < 0 else name[:i] + new + name[i + len(old) :]
