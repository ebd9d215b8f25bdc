"""Companies House BasicCompanyData (format ``companies_house_csv``) -> ``organization`` batches.

Reads the UK register's free bulk product (``BasicCompanyDataAsOneFile-YYYY-MM-DD.zip`` or one of its
parts, zipped or unzipped). The full file has 55 columns::

    CompanyName, CompanyNumber, RegAddress.CareOf, RegAddress.POBox, RegAddress.AddressLine1,
    RegAddress.AddressLine2, RegAddress.PostTown, RegAddress.County, RegAddress.Country,
    RegAddress.PostCode, CompanyCategory, CompanyStatus, CountryOfOrigin, DissolutionDate,
    IncorporationDate, Accounts.AccountRefDay, Accounts.AccountRefMonth, Accounts.NextDueDate,
    Accounts.LastMadeUpDate, Accounts.AccountCategory, Returns.NextDueDate, Returns.LastMadeUpDate,
    Mortgages.NumMortCharges, Mortgages.NumMortOutstanding, Mortgages.NumMortPartSatisfied,
    Mortgages.NumMortSatisfied, SICCode.SicText_1 .. SICCode.SicText_4,
    LimitedPartnerships.NumGenPartners, LimitedPartnerships.NumLimPartners, URI,
    PreviousName_1.CONDATE, PreviousName_1.CompanyName .. PreviousName_10.CONDATE,
    PreviousName_10.CompanyName, ConfStmtNextDueDate, ConfStmtLastMadeUpDate

(several names carry a leading space in the real header, e.g. `` CompanyNumber``); only
``CompanyName`` and ``CompanyNumber`` are required, so extracts with fewer columns work too. Dates
are dd/mm/yyyy. ``CompanyNumber`` stays text (``08209948``, ``SC421617``).

``registration_authority`` is ``RA000585``, GLEIF's Registration Authority code for Companies House,
so that (registration_authority, registration_number) compares directly with the
RegistrationAuthorityID / RegistrationAuthorityEntityID of LEI records. Columns not mapped to a
canonical column (URI, DissolutionDate, Accounts.*, Returns.*, Mortgages.*, LimitedPartnerships.*,
ConfStmt*, CountryOfOrigin, and any column a future file adds) go into ``extra``, dates as ISO (an
unparseable one as given, with a ``bad_date`` warning).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import pycountry

from pipelines.adapters._csv import DMY_SLASH, CsvRow, iso_date, read_csv
from pipelines.adapters.base import Batch, ExtractContext, chunked

REGISTRATION_AUTHORITY = "RA000585"  # GLEIF RA list: Companies House, United Kingdom
REQUIRED = ("CompanyName", "CompanyNumber")

_ADDRESS = ("RegAddress.CareOf", "RegAddress.POBox", "RegAddress.AddressLine1", "RegAddress.AddressLine2")
_SIC = tuple(f"SICCode.SicText_{i}" for i in range(1, 5))
_PREVIOUS = tuple((f"PreviousName_{i}.CompanyName", f"PreviousName_{i}.CONDATE") for i in range(1, 11))
# Columns whose content goes into canonical columns (everything else non-empty goes into `extra`).
_MAPPED = frozenset(
    {
        *REQUIRED,
        *_ADDRESS,
        *_SIC,
        *(c for pair in _PREVIOUS for c in pair),
        "RegAddress.PostTown",
        "RegAddress.County",
        "RegAddress.Country",
        "RegAddress.PostCode",
        "CompanyCategory",
        "CompanyStatus",
        "IncorporationDate",
    }
)
_DATES = frozenset(
    {
        "DissolutionDate",
        "Accounts.NextDueDate",
        "Accounts.LastMadeUpDate",
        "Returns.NextDueDate",
        "Returns.LastMadeUpDate",
        "ConfStmtNextDueDate",
        "ConfStmtLastMadeUpDate",
    }
)

# Country spellings of the register that are the United Kingdom, and others pycountry does not know.
_UK = frozenset(
    {
        "UNITED KINGDOM",
        "ENGLAND",
        "WALES",
        "SCOTLAND",
        "NORTHERN IRELAND",
        "GREAT BRITAIN",
        "UK",
        "U.K.",
        "ENGLAND AND WALES",
        "ENGLAND & WALES",
    }
)
_ALIASES = {
    "RUSSIA": "RU",
    "WEST GERMANY": "DE",
    "TURKEY": "TR",
    "THE NETHERLANDS": "NL",
    "HOLLAND": "NL",
    "MACAU": "MO",
    "EIRE": "IE",
    "REPUBLIC OF IRELAND": "IE",
    "SWAZILAND": "SZ",
    "BURMA": "MM",
    "IVORY COAST": "CI",
}

_SIC_CODE = re.compile(
    r"(\d{4,5})\b"
)  # "62090 - Other information technology..." (SIC 2007) or "7499 - ..." (SIC 2003)


@lru_cache(maxsize=4096)
def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 of a country as Companies House spells it, None when unknown."""
    v = " ".join(value.upper().split())
    if v in _UK:
        return "GB"
    if v in _ALIASES:
        return _ALIASES[v]
    try:
        return pycountry.countries.lookup(v).alpha_2
    except LookupError:
        return None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _record(ctx: ExtractContext, row: CsvRow) -> dict[str, Any]:
    """Map one BasicCompanyData row to an ``organization`` row."""
    number = row.get("CompanyNumber")
    extra: dict[str, Any] = {}
    for column, value in row.values.items():
        if value is not None and column not in _MAPPED:
            # Dates as ISO; a bad one (warned about) is kept as given.
            extra[column] = (iso_date(ctx, row, column, DMY_SLASH, number) or value) if column in _DATES else value

    # Country of the registered address, else of origin; an unknown address country is kept in extra
    # (CountryOfOrigin is in extra anyway).
    given = [v for v in (row.get("RegAddress.Country"), row.get("CountryOfOrigin")) if v is not None]
    codes_found = [country_code(v) for v in given]
    country = next((c for c in codes_found if c is not None), None)
    if row.get("RegAddress.Country") is not None and codes_found[0] is None:
        extra["RegAddress.Country"] = given[0]
    if given and country is None:
        ctx.warn(
            f"unknown country {given[0]!r}: country left NULL, raw value kept in extra",
            file=row.file,
            line=row.line,
            key=number,
            code="unknown_country",
        )

    codes: list[str] = []
    for column in _SIC:
        text = row.get(column)
        if text is None:
            continue
        m = _SIC_CODE.match(text)
        if m:
            codes.append(m[1])
        else:
            extra[column] = text
            ctx.warn(
                f"{column}: no SIC code in {text!r}, kept in extra",
                file=row.file,
                line=row.line,
                key=number,
                code="bad_sic",
            )

    previous = [
        {"name": name, "type": "PREVIOUS_LEGAL_NAME", "date": iso_date(ctx, row, date_col, DMY_SLASH, number)}
        for name_col, date_col in _PREVIOUS
        if (name := row.get(name_col)) is not None
    ]
    address = ", ".join(v for c in _ADDRESS if (v := row.get(c)) is not None)
    category = row.get("CompanyCategory")
    return {
        "source_id": number,
        "registration_number": number,
        "registration_authority": REGISTRATION_AUTHORITY,
        "name": row.get("CompanyName"),
        "other_names": _json(previous) if previous else None,
        "address": address or None,
        "city": row.get("RegAddress.PostTown"),
        "region": row.get("RegAddress.County"),
        "postal_code": row.get("RegAddress.PostCode"),
        "country": country,
        "category": category,
        "legal_form": category,
        "entity_status": row.get("CompanyStatus"),
        "incorporated_on": iso_date(ctx, row, "IncorporationDate", DMY_SLASH, number),
        "industry_code": ";".join(dict.fromkeys(codes)) or None,
        "jurisdiction": "GB",
        "extra": _json(extra) if extra else None,
        "src_file": row.file,
        "src_line": row.line,
    }


def extract(ctx: ExtractContext) -> Iterator[Batch]:
    """Stream a BasicCompanyData ``.csv`` (or ``.zip`` holding one) as ``organization`` batches."""
    rows = (_record(ctx, row) for row in read_csv(ctx, required=REQUIRED, key_column="CompanyNumber"))
    yield from chunked(rows, ctx.chunk_size, "organization")
