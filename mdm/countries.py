"""Country names, codes and common aliases -> ISO 3166-1 alpha-2 (pure, cached)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import pycountry

_COUNTRY_ALIASES = {
    "UK": "GB",
    "UNITED KINGDOM": "GB",
    "ENGLAND": "GB",
    "WALES": "GB",
    "SCOTLAND": "GB",
    "NORTHERN IRELAND": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND AND WALES": "GB",
    "USA": "US",
    "UNITED STATES": "US",
    "U.S.A.": "US",
    "中国": "CN",
    "中华人民共和国": "CN",
    "CHINA": "CN",
    "PRC": "CN",
    "HONG KONG": "HK",
    "香港": "HK",
}


@lru_cache(maxsize=4096)
def country_code(value: str | None) -> str | None:
    """ISO 3166-1 alpha-2 for a country code, name or common alias; None when unknown."""
    if not value:
        return None
    v = unicodedata.normalize("NFKC", value).strip().upper()
    if not v:
        return None
    if v in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[v]
    if "-" in v and len(v) <= 6:  # subdivision code such as US-MA
        v = v.split("-", 1)[0]
    try:
        c = pycountry.countries.lookup(v)
    except LookupError:
        return None
    return str(c.alpha_2)
