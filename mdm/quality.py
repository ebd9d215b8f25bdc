"""Data-quality metrics of canonical organisation records: completeness, validity and uniqueness per
source and attribute, and the classification of identifiers (pure; the runner stores the results).

- completeness = non-empty values / rows
- validity     = values passing the attribute's rule / non-empty values (None where no rule applies)
- uniqueness   = distinct non-empty values / non-empty values
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any, TypeGuard

import numpy as np
import pandas as pd

from mdm import identifiers as ids
from mdm import registers
from mdm.countries import country_code

# A rule judges a present value given the record's other columns: True, False, or None where it does not apply.
Rule = Callable[[str, Mapping[str, Any]], bool | None]

# python-stdnum's LEI and USCC checks cost tens of microseconds a value, and the same value is checked by
# several rules (source_id, lei, uscc, registration_number) and again by `identifier_classes`: recent
# verdicts are remembered (bounded, the checks are pure): the LEI and USCC checks by mdm.identifiers itself,
# the classes of Chinese codes here.
_classify_cn_code = lru_cache(maxsize=1 << 17)(ids.classify_cn_code)


def _iso_date(v: str, row: Mapping[str, Any]) -> bool:
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


def _postcode(v: str, row: Mapping[str, Any]) -> bool | None:
    rx = _POSTCODES.get(country_code(row.get("country")) or "")
    return None if rx is None else bool(rx.match(v.strip().upper()))


def _registration_number(v: str, row: Mapping[str, Any]) -> bool | None:
    c = country_code(row.get("country")) or country_code(row.get("jurisdiction"))
    if row.get("source_format") == "companies_house_csv" or c == "GB":
        return ids.companies_house_number(v) is not None
    if c == "DE":
        return ids.valid_de_register(v) is not None
    if c == "CN":
        return _classify_cn_code(v) in ("uscc", "legacy_registration")
    scheme, value = registers.classify(v, c, row.get("registration_authority"))
    return None if scheme is None else value is not None


def register_class(v: str | None, row: Mapping[str, Any]) -> str:
    """The class of a registration number for `mdm quality`: its scheme (``FR-SIREN``, ``RU-OGRN``,
    ``GB-COH``, ``RA000602``), ``<scheme>_invalid`` when it fails the scheme's check,
    ``unrecognised:<country>`` (no scheme of the country accepts it), ``no_scheme`` or ``missing``."""
    if not _present(v):
        return "missing"
    c = country_code(row.get("country")) or country_code(row.get("jurisdiction"))
    if (
        row.get("source_format") == "companies_house_csv"
        or c == "GB"
        or row.get("registration_authority") == "RA000585"
    ):
        return "GB-COH" if ids.companies_house_number(v) else "GB-COH_invalid"
    if c == "CN":
        cls = _classify_cn_code(v)
        return "USCC" if cls == "uscc" else "CN-REG" if cls == "legacy_registration" else "USCC_invalid"
    scheme, value = registers.classify(v, c, row.get("registration_authority"))
    if scheme is None:
        return "no_scheme"
    if scheme.startswith("unrecognised:"):
        return scheme
    return scheme if value is not None else scheme + "_invalid"


def _source_id(v: str, row: Mapping[str, Any]) -> bool | None:
    fmt = row.get("source_format")
    if fmt == "gleif_lei_xml":
        return ids.valid_lei(v) is not None
    if fmt == "cn_registry_csv":
        return _classify_cn_code(v) in ("uscc", "legacy_registration")
    if fmt == "companies_house_csv":
        return ids.companies_house_number(v) is not None
    if fmt == "sec_fsds":
        return ids.valid_cik(v) is not None
    return None


_CONTROL = re.compile(r"[\x00-\x1f]")  # control characters have no place in a name

RULES: dict[str, Rule | None] = {
    "source_id": _source_id,
    "name": lambda v, r: len(v.strip()) >= 2 and not _CONTROL.search(v),
    "lei": lambda v, r: ids.valid_lei(v) is not None,
    "uscc": lambda v, r: _classify_cn_code(v) in ("uscc", "legacy_registration"),
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
CLASSIFIED: dict[str, Callable[[str | None], str]] = {
    "uscc": _classify_cn_code,
    "lei": lambda v: "missing" if not v else ("lei" if ids.valid_lei(v) else "lei_bad_check"),
}


# The columns besides its own value that a rule reads from the record; rules not named here read none.
# `metrics` judges each distinct (value, context) combination once, so this must list every `row.get`.
RULE_CONTEXT: dict[str, tuple[str, ...]] = {
    "source_id": ("source_format",),
    "registration_number": ("country", "jurisdiction", "source_format", "registration_authority"),
    "postal_code": ("country",),
}


def _present(v: object) -> TypeGuard[str]:
    return isinstance(v, str) and v.strip() != ""


def _distinct(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The column's distinct values and, per row, the index of its value among them (-1 for None/NaN)."""
    codes, uniques = pd.factorize(column.to_numpy(dtype=object))
    return codes, np.asarray(uniques, dtype=object)


def _validity(
    rule: Rule, attr: str, frame: pd.DataFrame, codes: np.ndarray, uniques: np.ndarray, present: np.ndarray
) -> float | None:
    """Share of the present values of `attr` that pass `rule` among those it judges (None if it judges none).

    The rule is called once per distinct value, or per distinct (value, context) when it reads other
    columns; a context column the frame lacks is left out of the row, so the rule sees it as NULL."""
    context = [c for c in RULE_CONTEXT.get(attr, ()) if c in frame.columns]
    if context:
        keys = zip(codes[present].tolist(), *(frame[c].to_numpy(dtype=object)[present].tolist() for c in context))
        groups = [(uniques[k[0]], dict(zip(context, k[1:])), n) for k, n in Counter(keys).items()]
    else:
        counts = np.bincount(codes[present], minlength=len(uniques))
        groups = [(uniques[i], {}, int(counts[i])) for i in np.flatnonzero(counts)]
    passed = judged = 0
    for value, row, n in groups:
        verdict = rule(value, row)
        if verdict is not None:
            judged += n
            passed += n if verdict else 0
    return passed / judged if judged else None


def metrics(records: pd.DataFrame) -> pd.DataFrame:
    """One row per (source, attribute): rows, completeness, validity, uniqueness."""
    out = []
    for source, frame in records.groupby("source", sort=True):
        n = len(frame)
        for attr, rule in RULES.items():
            if attr not in frame.columns:
                continue
            codes, uniques = _distinct(frame[attr])
            present_values = np.fromiter((_present(u) for u in uniques), dtype=bool, count=len(uniques))
            present = np.append(present_values, False)[codes]  # code -1 (None/NaN) picks the final False
            n_present = int(present.sum())
            validity = _validity(rule, attr, frame, codes, uniques, present) if rule is not None and n_present else None
            distinct = int(present_values.sum())  # every distinct value occurs in some row
            out.append(
                {
                    "source": source,
                    "attribute": attr,
                    "rows": n,
                    "completeness": n_present / n if n else None,
                    "validity": validity,
                    "uniqueness": distinct / n_present if n_present else None,
                }
            )
    return pd.DataFrame(out, columns=["source", "attribute", "rows", "completeness", "validity", "uniqueness"])


def identifier_classes(records: pd.DataFrame) -> pd.DataFrame:
    """Counts of identifier classes per (source, attribute): e.g. uscc / uscc_bad_check / legacy_registration."""
    out = []
    for source, frame in records.groupby("source", sort=True):
        for attr, classify in CLASSIFIED.items():
            if attr not in frame.columns or frame[attr].isna().all():
                continue
            codes, uniques = _distinct(frame[attr])
            counts = np.bincount(codes + 1, minlength=len(uniques) + 1)  # slot 0 counts None/NaN
            classes: Counter[str] = Counter()
            for value, rows in zip([None, *uniques], counts.tolist()):
                if rows:
                    classes[classify(value if _present(value) else None)] += rows
            for cls, rows in sorted(classes.items()):
                out.append({"source": source, "attribute": attr, "class": cls, "rows": rows})
        if "registration_number" in frame.columns and frame["registration_number"].notna().any():
            context = [c for c in RULE_CONTEXT["registration_number"] if c in frame.columns]
            combos = Counter(zip(frame["registration_number"].tolist(), *(frame[c].tolist() for c in context)))
            reg: Counter[str] = Counter()
            for key, rows in combos.items():
                reg[register_class(key[0], dict(zip(context, key[1:])))] += rows
            for cls, rows in sorted(reg.items()):
                out.append({"source": source, "attribute": "registration_number", "class": cls, "rows": rows})
    return pd.DataFrame(out, columns=["source", "attribute", "class", "rows"])


IDENTIFIER_ATTRIBUTES = ("lei", "uscc", "registration_number", "cik", "ein", "country")


def invalid_identifiers(row: Mapping[str, Any]) -> list[str]:
    """The identifier attributes of a record that carry a value failing its check (flagged, kept on the
    record, never used for deterministic matching)."""
    out = []
    for attr in IDENTIFIER_ATTRIBUTES:
        v = row.get(attr)
        rule = RULES[attr]
        if _present(v) and rule is not None and rule(v, row) is False:
            out.append(attr)
    return out
