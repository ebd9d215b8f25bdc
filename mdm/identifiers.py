"""Identifier normalisation and validity (checksums come from python-stdnum).

An identifier that fails its check is kept on the record but never used for deterministic matching:
the ``valid_*`` helpers return the compact form of a valid identifier and ``None`` otherwise.
"""

from __future__ import annotations

import re

from stdnum import lei as _lei
from stdnum.cn import uscc as _uscc
from stdnum.exceptions import ValidationError
from stdnum.us import ein as _ein

# GLEIF registration authority codes whose entity ids are national register numbers we match on.
RA_SCHEMES: dict[str, str] = {
    "RA000585": "GB-COH",  # UK Companies House
}

_CH_NUMBER = re.compile(r"^(?:\d{8}|[A-Z]{2}\d{6})$")
_LEGACY_CN = re.compile(r"^\d{15}$")


def valid_lei(value: str | None) -> str | None:
    """The compact LEI when it passes the ISO 17442 check, else None."""
    if not value:
        return None
    try:
        return _lei.validate(value)
    except ValidationError:
        return None


def valid_uscc(value: str | None) -> str | None:
    """The compact USCC when it passes the GB 32100-2015 check character, else None."""
    if not value:
        return None
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
    v = re.sub(r"\s+", "", value).upper()
    if v.isdigit() and len(v) < 8:
        v = v.zfill(8)
    return v if _CH_NUMBER.match(v) else None


def valid_cik(value: str | None) -> str | None:
    """A SEC Central Index Key without leading zeros, else None."""
    if not value:
        return None
    v = value.strip()
    if not v.isdigit() or len(v) > 10 or int(v) == 0:
        return None
    return str(int(v))


def valid_ein(value: str | None) -> str | None:
    """A US Employer Identification Number as 9 digits, else None."""
    if not value:
        return None
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
    from stdnum.de import handelsregisternummer as _hr

    try:
        return _hr.validate(value)
    except ValidationError:
        m = _DE_SECTION_NUMBER.match(value.strip())
        return " ".join(p for p in m.groups() if p) if m else None
