"""Data-quality metrics of canonical organisation records: completeness, validity and uniqueness per
source and attribute, and the classification of identifiers (pure; the runner stores the results).

- completeness = non-empty values / rows
- validity     = values passing the attribute's rule / non-empty values (None where no rule applies)
- uniqueness   = distinct non-empty values / non-empty values
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pandas as pd

from mdm import identifiers as ids
from mdm.standardise import country_code

Rule = Callable[[str, dict], bool]


def _iso_date(v: str, row: dict) -> bool:
    try:
        date.fromisoformat(v[:10])
        return True
    except ValueError:
        return False


_POSTCODES = {
    "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$"),
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
    "CN": re.compile(r"^\d{6}$"),
    "DE": re.compile(r"^\d{5}$"),
}


def _postcode(v: str, row: dict) -> bool | None:
    rx = _POSTCODES.get(country_code(row.get("country")) or "")
    return None if rx is None else bool(rx.match(v.strip().upper()))


def _registration_number(v: str, row: dict) -> bool | None:
    c = country_code(row.get("country")) or country_code(row.get("jurisdiction"))
    if row.get("source_format") == "companies_house_csv" or c == "GB":
        return ids.companies_house_number(v) is not None
    if c == "DE":
        return ids.valid_de_register(v) is not None
    if c == "CN":
        return ids.classify_cn_code(v) in ("uscc", "legacy_registration")
    return None


def _source_id(v: str, row: dict) -> bool | None:
    fmt = row.get("source_format")
    if fmt == "gleif_lei_xml":
        return ids.valid_lei(v) is not None
    if fmt == "cn_registry_csv":
        return ids.classify_cn_code(v) in ("uscc", "legacy_registration")
    if fmt == "companies_house_csv":
        return ids.companies_house_number(v) is not None
    if fmt == "sec_fsds":
        return ids.valid_cik(v) is not None
    return None


RULES: dict[str, Rule | None] = {
    "source_id": _source_id,
    "name": lambda v, r: len(v.strip()) >= 2 and not any(ord(c) < 32 for c in v),
    "lei": lambda v, r: ids.valid_lei(v) is not None,
    "uscc": lambda v, r: ids.classify_cn_code(v) in ("uscc", "legacy_registration"),
    "registration_number": _registration_number,
    "cik": lambda v, r: ids.valid_cik(v) is not None,
    "ein": lambda v, r: ids.valid_ein(v) is not None,
    "country": lambda v, r: country_code(v) is not None,
    "postal_code": _postcode,
    "city": None,
    "address": None,
    "legal_form": None,
    "incorporated_on": _iso_date,
    "updated_at": _iso_date,
    "opened_on": _iso_date,
}

# Identifier attributes whose values are also classified (reported by `mdm quality`).
CLASSIFIED = {
    "uscc": ids.classify_cn_code,
    "lei": lambda v: "missing" if not v else ("lei" if ids.valid_lei(v) else "lei_bad_check"),
}


def _present(v: object) -> bool:
    return isinstance(v, str) and v.strip() != ""


def metrics(records: pd.DataFrame) -> pd.DataFrame:
    """One row per (source, attribute): rows, completeness, validity, uniqueness."""
    out = []
    for source, frame in records.groupby("source", sort=True):
        rows = frame.to_dict("records")
        n = len(rows)
        for attr, rule in RULES.items():
            if attr not in frame.columns:
                continue
            values = [(r[attr], r) for r in rows if _present(r[attr])]
            present = len(values)
            validity = None
            if rule is not None and present:
                judged = [rule(v, r) for v, r in values]
                judged = [j for j in judged if j is not None]
                validity = (sum(judged) / len(judged)) if judged else None
            distinct = len({v for v, _ in values})
            out.append({
                "source": source, "attribute": attr, "rows": n,
                "completeness": present / n if n else None,
                "validity": validity,
                "uniqueness": distinct / present if present else None,
            })
    return pd.DataFrame(out, columns=["source", "attribute", "rows", "completeness", "validity", "uniqueness"])


def identifier_classes(records: pd.DataFrame) -> pd.DataFrame:
    """Counts of identifier classes per (source, attribute): e.g. uscc / uscc_bad_check / legacy_registration."""
    out = []
    for source, frame in records.groupby("source", sort=True):
        for attr, classify in CLASSIFIED.items():
            if attr not in frame.columns or frame[attr].isna().all():
                continue
            counts = frame[attr].map(lambda v: classify(v if _present(v) else None)).value_counts()
            for cls, rows in sorted(counts.items()):
                out.append({"source": source, "attribute": attr, "class": cls, "rows": int(rows)})
    return pd.DataFrame(out, columns=["source", "attribute", "class", "rows"])


IDENTIFIER_ATTRIBUTES = ("lei", "uscc", "registration_number", "cik", "ein", "country")


def invalid_identifiers(row: dict) -> list[str]:
    """The identifier attributes of a record that carry a value failing its check (flagged, kept on the
    record, never used for deterministic matching)."""
    out = []
    for attr in IDENTIFIER_ATTRIBUTES:
        v = row.get(attr)
        rule = RULES[attr]
        if _present(v) and rule is not None and rule(v, row) is False:
            out.append(attr)
    return out
