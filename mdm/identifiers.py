"""Identifier normalisation and validity (checksums come from python-stdnum).

An identifier that fails its check is kept on the record but never used for deterministic matching:
the ``valid_*`` helpers return the compact form of a valid identifier and ``None`` otherwise.

These checks run once per distinct value on up to millions of values, so each has a fast path: a value
already in its canonical form (plain ASCII upper-case letters and digits of the right length, matched by one
precompiled pattern) goes straight to python-stdnum's check, skipping stdnum's per-character ``compact()``
cleaning; anything else (lower case, blanks, dashes, full-width or other non-ASCII characters, other
lengths, non-strings) takes the general path. Both give the same result for every input.
"""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum import lei as _lei
from stdnum import numdb as _numdb
from stdnum.cn import uscc as _uscc
from stdnum.de import handelsregisternummer as _hr
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_97_10 as _mod_97_10
from stdnum.us import ein as _ein

# GLEIF registration authority codes whose entity ids are national register numbers we match on.
RA_SCHEMES: dict[str, str] = {
    "RA000585": "GB-COH",  # UK Companies House
}

_CH_NUMBER = re.compile(r"^(?:\d{8}|[A-Z]{2}\d{6})$")
_LEGACY_CN = re.compile(r"^\d{15}$")
_WHITESPACE = re.compile(r"\s+")

# Canonical forms for the fast paths (used with fullmatch; [0-9] and [A-Z] are ASCII only).
_LEI_CANONICAL = re.compile(r"[0-9A-Z]{20}")
_USCC_CANONICAL = re.compile(r"[0-9]{8}[0-9A-HJ-NP-RTUWXY]{10}")  # stdnum's USCC alphabet after 8 digits
_LEGACY_CN_CANONICAL = re.compile(r"[0-9]{15}")
_CH_CANONICAL = re.compile(r"[0-9]{1,8}|[A-Z]{2}[0-9]{6}")
_EIN_CANONICAL = re.compile(r"([0-9]{2})-?([0-9]{7})")
# GLEIF's section+number form with at most one blank: stdnum's Handelsregister formats need two blanks
# (court and section), so stdnum never accepts it and the section+number rule decides.
_DE_SECTION_CANONICAL = re.compile(r"(HRA|HRB|GnR|PR|VR|GsR) ?([0-9]{1,6})")
# The assigned two-digit EIN prefixes, read once from stdnum's campus table (what ein.get_campus looks up;
# its entries are all two-digit prefixes, so a 9-digit number's campus depends on its first two digits).
_EIN_PREFIXES = frozenset(p for p in (f"{i:02d}" for i in range(100)) if _numdb.get("us/ein").info(p + "0000000")[0][1])


# The checks are cached per value (one process holds a run's batch): an entity's identifiers recur in several
# sources, and standardisation and the quality rules check the same values.
@lru_cache(maxsize=1 << 17)
def valid_lei(value: str | None) -> str | None:
    """The compact LEI when it passes the ISO 17442 check, else None."""
    if not value:
        return None
    if type(value) is str and _LEI_CANONICAL.fullmatch(value):
        return value if _mod_97_10.is_valid(value) else None
    try:
        return _lei.validate(value)
    except ValidationError:
        return None


@lru_cache(maxsize=1 << 17)
def valid_uscc(value: str | None) -> str | None:
    """The compact USCC when it passes the GB 32100-2015 check character, else None."""
    if not value:
        return None
    if type(value) is str and _USCC_CANONICAL.fullmatch(value):
        return value if value[17] == _uscc.calc_check_digit(value) else None
    try:
        return _uscc.validate(value)
    except ValidationError:
        return None


def legacy_cn_registration(value: str | None) -> str | None:
    """A 15-digit pre-2015 Chinese business registration number (its own type, not a broken USCC)."""
    if value and _LEGACY_CN.match(value.strip()):
        return value.strip()
    return None


def companies_house_number(value: str | None) -> str | None:
    """A Companies House company number in its 8-character form, else None.

    Numbers that lost their leading zeros (``8209948``) are padded back to 8 digits.
    """
    if not value:
        return None
    if type(value) is str and _CH_CANONICAL.fullmatch(value):
        return value.zfill(8)
    v = _WHITESPACE.sub("", value).upper()
    if v.isdigit() and len(v) < 8:
        v = v.zfill(8)
    return v if _CH_NUMBER.match(v) else None


def valid_cik(value: str | None) -> str | None:
    """A SEC Central Index Key without leading zeros, else None."""
    if not value:
        return None
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 10:
        return value.lstrip("0") or None
    v = value.strip()
    if not v.isdigit() or len(v) > 10 or int(v) == 0:
        return None
    return str(int(v))


def valid_ein(value: str | None) -> str | None:
    """A US Employer Identification Number as 9 digits, else None."""
    if not value:
        return None
    if type(value) is str and (m := _EIN_CANONICAL.fullmatch(value)):
        return m[1] + m[2] if m[1] in _EIN_PREFIXES else None
    try:
        return _ein.compact(_ein.validate(value))
    except ValidationError:
        return None


def classify_cn_code(value: str | None) -> str:
    """Classify a Chinese registration code: ``uscc`` (18 characters, check character right),
    ``uscc_bad_check`` (18 characters of the USCC alphabet, wrong check character), ``legacy_registration``
    (15-digit pre-2015 business registration number), ``other_format`` (anything else) or ``missing``."""
    if not value or not value.strip():
        return "missing"
    if type(value) is str:
        if _USCC_CANONICAL.fullmatch(value):  # valid_uscc returns it as it is when its check character is right
            return "uscc" if valid_uscc(value) else "uscc_bad_check"
        if _LEGACY_CN_CANONICAL.fullmatch(value):
            return "legacy_registration"
    v = _uscc.compact(value)
    if valid_uscc(v):
        return "uscc"
    if len(v) == 18 and v[:8].isdigit() and all(c in "0123456789ABCDEFGHJKLMNPQRTUWXY" for c in v[8:]):
        return "uscc_bad_check"
    if legacy_cn_registration(v):
        return "legacy_registration"
    return "other_format"


_DE_SECTION_NUMBER = re.compile(r"^(HRA|HRB|GnR|PR|VR|GsR)\s?(\d{1,6})(?:\s?([A-Z]{1,2}))?$")


def valid_de_register(value: str | None) -> str | None:
    """A German commercial register number, else None.

    The full form names the court (``Aachen HRA 11223``, checked with python-stdnum). GLEIF gives the
    register section and number alone (``HRB 237237``) because its registration authority code already
    names the court; that form is accepted as well.
    """
    if not value:
        return None
    if type(value) is str and (m := _DE_SECTION_CANONICAL.fullmatch(value)):
        return f"{m[1]} {m[2]}"
    try:
        return _hr.validate(value)
    except ValidationError:
        m = _DE_SECTION_NUMBER.match(value.strip())
        return " ".join(p for p in m.groups() if p) if m else None
