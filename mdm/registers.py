"""National register and tax numbers as (scheme, value): which register a number belongs to, and whether
it is a valid number of that register (checks from python-stdnum where it has a module).

A scheme names one register (or one tax-number system) of one country: ``FR-SIREN``, ``RU-OGRN``,
``NL-KVK``. Two records holding equal valid values of one scheme are the same legal entity; different
valid values of one scheme are two legal entities. A value that fails its scheme's check is flagged and
never used.

Where the scheme comes from, first hit wins:

1. an explicit scheme (the CRM's optional ``registration_scheme`` column): a scheme code of
   :data:`SCHEMES` or a GLEIF registration-authority code (``RA000189``);
2. the GLEIF registration-authority code of the record (``RegistrationAuthorityID``), through
   :data:`RA_CODES` (codes checked against the values of the real GLEIF golden-copy delta);
3. for a GLEIF authority code not in :data:`RA_CODES`, the code itself is the scheme (``RA000602``: one
   register, here the Delaware Division of Corporations; ``RA000304``: one German court's register) and
   the value its compact form, without a check;
4. without an authority, the record's country: the first of the country's schemes whose check the value
   passes (a Russian 13-digit number with a right OGRN check digit is an OGRN, 10 digits with a right INN
   check are an INN). A number of such a country that passes none is ``unrecognised:<country>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module

from stdnum.exceptions import ValidationError


@dataclass(frozen=True)
class Scheme:
    code: str  # FR-SIREN
    country: str  # ISO 3166-1 alpha-2
    check: Callable[[str], str | None]  # the compact valid value, or None
    ra: tuple[str, ...] = ()  # GLEIF registration authority codes whose entity ids are this scheme


def _stdnum(module: str) -> Callable[[str], str | None]:
    mod = import_module("stdnum." + module)

    def check(value: str) -> str | None:
        try:
            return str(mod.compact(mod.validate(value)))
        except (ValidationError, ValueError, TypeError):
            return None

    check.__name__ = f"stdnum.{module}"
    return check


def _pattern(regex: str, strip: str = r"[\s.\-/]") -> Callable[[str], str | None]:
    """A number without a check digit: valid when its compact form (separators removed, upper case) has
    the register's shape."""
    rx, junk = re.compile(regex), re.compile(strip)

    def check(value: str) -> str | None:
        v = junk.sub("", value).upper()
        return v if rx.fullmatch(v) else None

    return check


_DE_HR = _stdnum("de.handelsregisternummer")
_AMTSGERICHT = re.compile(r"^(?:Amtsgericht|AG)\s+", re.IGNORECASE)


def _de_register(value: str) -> str | None:
    """A German register number naming its court (``München HRB 6684``): a number is unique only within
    its court. GLEIF's court-less ``HRB 6684`` is scoped by the court's RA code instead (step 3)."""
    return _DE_HR(_AMTSGERICHT.sub("", value.strip()))


# Registers and tax numbers by country. The GLEIF codes are those whose entity ids in the real golden-copy
# delta (shared realdata) pass the scheme's check; tests/mdm/test_registers.py recounts them.
SCHEMES: tuple[Scheme, ...] = (
    Scheme("RU-OGRN", "RU", _stdnum("ru.ogrn")),  # ОГРН, state registration number (ЕГРЮЛ)
    Scheme("RU-INN", "RU", _stdnum("ru.inn")),  # ИНН, taxpayer number
    Scheme("UA-EDRPOU", "UA", _stdnum("ua.edrpou"), ("RA000567",)),  # ЄДРПОУ
    Scheme("FR-SIREN", "FR", _stdnum("fr.siren"), ("RA000189", "RA000192")),  # SIRENE / RCS
    Scheme("NL-KVK", "NL", _pattern(r"[0-9]{8}"), ("RA000463",)),  # Kamer van Koophandel: 8 digits, no check
    Scheme("BE-KBO", "BE", _stdnum("be.vat"), ("RA000025",)),  # Crossroads Bank enterprise number
    Scheme("NO-ORGNR", "NO", _stdnum("no.orgnr"), ("RA000472",)),
    Scheme("DK-CVR", "DK", _stdnum("dk.cvr"), ("RA000170",)),
    Scheme("SE-ORGNR", "SE", _stdnum("se.orgnr"), ("RA000544",)),
    Scheme("FI-YTUNNUS", "FI", _stdnum("fi.ytunnus"), ("RA000188",)),
    Scheme("EE-REGISTRIKOOD", "EE", _stdnum("ee.registrikood"), ("RA000181",)),
    Scheme("IT-IVA", "IT", _stdnum("it.iva"), ("RA000407",)),
    Scheme("PT-NIF", "PT", _stdnum("pt.nif"), ("RA000487",)),
    Scheme("ES-NIF", "ES", _stdnum("es.nif"), ("RA000535",)),
    Scheme("CH-UID", "CH", _stdnum("ch.uid"), ("RA000549",)),
    Scheme("AU-ACN", "AU", _stdnum("au.acn"), ("RA000014",)),
    Scheme("AU-ABN", "AU", _stdnum("au.abn"), ("RA000013",)),
    Scheme("CZ-ICO", "CZ", _pattern(r"[0-9]{8}"), ("RA000163",)),
    Scheme("PL-KRS", "PL", _pattern(r"[0-9]{10}"), ("RA000484",)),
    Scheme("PL-NIP", "PL", _stdnum("pl.nip"), ("RA000486",)),
    Scheme("RO-CUI", "RO", _stdnum("ro.cui"), ("RA000497",)),
    Scheme("BR-CNPJ", "BR", _stdnum("br.cnpj"), ("RA000681",)),
    Scheme("MX-RFC", "MX", _stdnum("mx.rfc"), ("RA000449",)),
    Scheme("AR-CUIT", "AR", _stdnum("ar.cuit"), ("RA000009",)),
    Scheme("DE-HR", "DE", _de_register),  # Handelsregister: court + HRA/HRB + number
)

BY_CODE: dict[str, Scheme] = {s.code: s for s in SCHEMES}
RA_CODES: dict[str, Scheme] = {ra: s for s in SCHEMES for ra in s.ra}
BY_COUNTRY: dict[str, tuple[Scheme, ...]] = {}
for _s in SCHEMES:
    BY_COUNTRY[_s.country] = (*BY_COUNTRY.get(_s.country, ()), _s)

_RA = re.compile(r"RA[0-9]{6}")
_COMPACT_JUNK = re.compile(r"[\s.\-/]")
# GLEIF's "no register" codes: RA999999 (not available), RA888888 (other register, named in free text).
_NO_REGISTER = frozenset({"RA999999", "RA888888"})


def _compact(value: str) -> str | None:
    v = _COMPACT_JUNK.sub("", value).upper()
    return v if v.isalnum() and len(v) <= 40 else None


@lru_cache(maxsize=1 << 17)
def classify(
    value: str | None, country: str | None = None, authority: str | None = None, scheme: str | None = None
) -> tuple[str | None, str | None]:
    """(scheme, compact valid value) of a register or tax number; value None when it fails the scheme's
    check (scheme still named, so the failure can be counted per scheme); (None, None) when no scheme is
    known. ``country``: ISO alpha-2; ``authority``: a GLEIF RA code; ``scheme``: an explicit scheme code or
    RA code (the CRM's ``registration_scheme``)."""
    if not value or not value.strip():
        return None, None
    for given in (scheme, authority):
        if not given:
            continue
        g = given.strip().upper()
        if g in BY_CODE:
            return g, BY_CODE[g].check(value)
        if g in RA_CODES:
            s = RA_CODES[g]
            return s.code, s.check(value)
    ra = (authority or "").strip().upper()
    if _RA.fullmatch(ra) and ra not in _NO_REGISTER:
        return ra, _compact(value)
    for s in BY_COUNTRY.get((country or "").upper(), ()):
        if (v := s.check(value)) is not None:
            return s.code, v
    if (country or "").upper() in BY_COUNTRY:
        return "unrecognised:" + (country or "").upper(), None
    return None, None
