"""Standardisation of organisation names, addresses and countries (pure functions).

The normalised forms feed blocking and comparison; the original values are never overwritten.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from mdm import address as _address
from mdm import identifiers as ids
from mdm.countries import country_code
from mdm.legal_forms import (
    cjk_canonical,
    cjk_legal_forms,
    strip_cjk_legal_form,
    strip_cn_region,
    strip_leading_legal_form,
    strip_legal_form,
)
from mdm.quality import invalid_identifiers
from mdm.text import _T2S, BRACKETED_RE, abbreviates, has_cjk, normalise_text
from mdm.transliterate import latin, needs_transliteration

BRANCH_MARKERS_CJK = ("分公司", "分行", "支行", "分店", "办事处", "营业部", "分厂")
BRANCH_MARKERS_LATIN = ("branch", "branch office", "representative office")
# Names are normalised by several of the functions below (legal form, branch, qualifiers): once per name.
_normalised = lru_cache(maxsize=1 << 17)(normalise_text)
_BRANCH_LATIN_RE = re.compile(r"\b(?:" + "|".join(map(re.escape, BRANCH_MARKERS_LATIN)) + r")\b")

# Abbreviations expanded before comparison: only those that occur in the real public files (SEC filer
# names, Companies House, GLEIF, the German register: tech 93, mfg 3, dev 2, bros 2, grp 1, ind 1, svc 1 of
# 102,012 names). Intl, Hldgs, Mgmt, Svcs ... were dropped: no real file showed them, only the generator.
_ABBREVIATIONS = {
    "tech": "technology",
    "mfg": "manufacturing",
    "dev": "development",
    "bros": "brothers",
    "grp": "group",
    "ind": "industries",
    "svc": "service",
}


def _expand_abbreviations(tokens: list[str]) -> list[str]:
    return [_ABBREVIATIONS.get(t, t) for t in tokens]


@lru_cache(maxsize=200_000)
def split_legal_form(name: str | None) -> tuple[str, str | None]:
    """(normalised name without its legal form, canonical legal form or None).

    Legal forms come from the ISO 20275 ELF code list and per-language CJK rules (mdm/data, built by
    scripts/build_legal_forms.py). A leading Chinese region (深圳市, 广东省) is dropped from the core:
    it is part of how the register spells the name, which other systems often leave out; a region in
    brackets (华为技术（深圳）) marks a subsidiary and is kept as a qualifier (:func:`name_qualifiers`).
    A branch keeps its own part: 华为技术有限公司北京分公司 -> 华为技术北京分公司.
    """
    t = _normalised(name)
    if not t:
        return "", None
    if has_cjk(t):
        compact = t.replace(" ", "")
        marker = next((m for m in BRANCH_MARKERS_CJK if compact.endswith(m) and len(compact) > len(m)), None)
        if marker:
            body = compact[: -len(marker)]
            for cjk_form in cjk_legal_forms():
                pos = body.find(cjk_form)
                if pos > 0:
                    head = strip_cn_region(body[:pos])[0] or body[:pos]
                    return head + body[pos + len(cjk_form) :] + marker, cjk_canonical(cjk_form)
            return compact, None
        core, form = strip_cjk_legal_form(compact)
        if form is None:
            return compact, None
        stripped = strip_cn_region(core + form)[0]
        if stripped.endswith(form) and len(stripped) > len(form):
            core = stripped[: -len(form)]
        return core, cjk_canonical(form)
    t = " ".join(_expand_abbreviations(t.split()))
    core, form = strip_legal_form(t)
    if form is None:
        core, form = strip_leading_legal_form(core)
    if core.startswith("the "):
        core = core[4:]
    return core, form


def name_core(name: str | None) -> str:
    """The distinguishing part of a name: normalised, legal form removed."""
    return split_legal_form(name)[0]


@lru_cache(maxsize=200_000)
def latin_core(name: str | None) -> str:
    """The core of a name in another script, in Latin letters (mdm.transliterate): the legal form is
    removed in the name's own script first (ООО, 株式会社), then in the transliteration (what the own-script
    list lacks), so 'ООО «Газпром нефть»' and 'Gazprom Neft LLC' meet as 'gazprom neft'. '' for a name
    already in Latin letters."""
    if not needs_transliteration(name):
        return ""
    core = name_core(name)
    return name_core(latin(core)) if core else ""


def name_aliases(names: list[str | None]) -> list[str]:
    """The distinct cores of a record's names (the first is the legal name), each followed by its Latin
    transliteration when written in another script."""
    out: list[str] = []
    for n in names:
        for c in (name_core(n), latin_core(n)):
            if c and c not in out:
                out.append(c)
    return out


_DESIGNATORS_LATIN = {"group": "group", "holding": "holdings", "holdings": "holdings"}
_DESIGNATORS_CJK = ("集团", "控股")


@lru_cache(maxsize=1 << 16)
def _designator(word: str) -> str | None:
    """The group designator a word spells out or contracts (Hldgs, Grp -> holdings, group), or None."""
    if word in _DESIGNATORS_LATIN:
        return _DESIGNATORS_LATIN[word]
    return next((v for k, v in _DESIGNATORS_LATIN.items() if abbreviates(word, k)), None)


@lru_cache(maxsize=1 << 16)
def name_qualifiers(name: str | None) -> tuple[str, ...]:
    """What sets group members apart in their names: parenthesised qualifiers (``(UK)``, ``（深圳）``)
    and group designators (Group, Holdings, 集团, 控股), normalised and sorted."""
    if not name:
        return ()
    t = unicodedata.normalize("NFKC", name)
    if has_cjk(t):
        t = _T2S.convert(t)
    quals = {_normalised(m) for m in BRACKETED_RE.findall(t)}
    rest = _normalised(BRACKETED_RE.sub(" ", t))
    if has_cjk(rest):
        quals.update(d for d in _DESIGNATORS_CJK if d in rest.replace(" ", ""))
    words = _expand_abbreviations(rest.split())
    quals.update(d for w in words if (d := _designator(w)) and w != rest)
    quals.discard("")
    return tuple(sorted(quals))


@lru_cache(maxsize=1 << 16)
def is_branch(name: str | None) -> bool:
    """Whether the name marks a branch (分公司, 支行, 'Branch'): a distinct entity from its head office."""
    if not name:
        return False
    t = _normalised(name)
    if has_cjk(t):
        return any(m in t.replace(" ", "") for m in BRANCH_MARKERS_CJK)
    return bool(_BRANCH_LATIN_RE.search(t))


def tokens(core: str) -> list[str]:
    """Tokens of a normalised name; CJK names are split into overlapping character bigrams."""
    if not core:
        return []
    if has_cjk(core):
        s = core.replace(" ", "")
        return [s[i : i + 2] for i in range(max(1, len(s) - 1))]
    return core.split()


def _json_names(other_names: str | None) -> list[str]:
    import json

    if not other_names:
        return []
    try:
        items = json.loads(other_names)
    except (TypeError, ValueError):
        return []
    if not isinstance(items, list):
        return []
    return [str(i.get("name")) for i in items if isinstance(i, dict) and i.get("name")]


def record_identifiers(row: Mapping[str, Any]) -> dict[str, str]:
    """Valid authoritative identifiers of one canonical organisation record, by scheme.

    Only identifiers that pass their checks are returned; two records carrying different values of the
    same scheme are different legal entities.
    """
    out: dict[str, str] = {}
    fmt = row.get("source_format")
    if v := ids.valid_lei(row.get("lei")):
        out["LEI"] = v
    uscc = ids.valid_uscc(row.get("uscc"))
    reg = row.get("registration_number")
    if not uscc and reg:
        uscc = ids.valid_uscc(reg)
    if uscc:
        out["USCC"] = uscc
    elif legacy := ids.legacy_cn_registration(row.get("uscc")):
        out["CN-REG"] = legacy
    if fmt == "companies_house_csv":
        ch = ids.companies_house_number(row.get("source_id"))
    elif fmt == "gleif_lei_xml":
        ch = ids.companies_house_number(reg) if row.get("registration_authority") in ids.RA_SCHEMES else None
    else:
        ch = ids.companies_house_number(reg) if country_code(row.get("country")) == "GB" else None
    if ch:
        out["GB-COH"] = ch
    if fmt == "sec_fsds" and (cik := ids.valid_cik(row.get("source_id"))):
        out["CIK"] = cik
    if reg and "GB-COH" not in out and "USCC" not in out and fmt != "companies_house_csv":
        scheme, value = national_identifier(row)
        if scheme and value:
            out["NATIONAL"] = scheme + ":" + value
    return out


def national_identifier(row: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(scheme, valid compact value) of the record's national register or tax number (mdm.registers):
    value None when it fails the scheme's check, (None, None) when no scheme is known. The scheme comes
    from ``registration_authority`` (a GLEIF RA code, or a scheme code such as ``RU-OGRN`` given by an
    internal system) and otherwise from the country."""
    from mdm.registers import classify

    country = country_code(row.get("country")) or country_code(row.get("jurisdiction"))
    return classify(row.get("registration_number"), country, row.get("registration_authority"))


# Bump when standardisation changes what it computes: incremental runs reuse a record's standardised
# form only when it was made by the same version.
STANDARDISE_VERSION = "2026-11-30.3"

# NATIONAL holds "<scheme>:<value>" of any other national register or tax number (mdm.registers): one
# column for dozens of schemes; identity_keys splits it back into its scheme and value.
ID_SCHEMES = ("LEI", "USCC", "CN-REG", "GB-COH", "CIK", "NATIONAL")
ID_COLUMNS = tuple("id_" + s.replace("-", "_") for s in ID_SCHEMES)

# Formats whose natural keys identify distinct legal entities (registers), unlike internal systems.
REGISTER_FORMATS = frozenset({"gleif_lei_xml", "cn_registry_csv", "companies_house_csv", "sec_fsds"})


# The columns identity_keys reads: what clustering and identifier links need of each record.
IDENTITY_COLUMNS = ("rid", "source", "source_format", "source_id", *ID_COLUMNS)


def identity_key_table(std: pd.DataFrame) -> pd.DataFrame:
    """The authoritative keys of each standardised record as rows (``pos``: the record's row position in
    ``std``, ``scheme``, ``value``), each record's in the order :func:`identity_keys` gives them: its valid
    identifiers (NATIONAL split into its own scheme and value), then ``KEY:<source>`` holding a register's own
    key. A later key of a scheme replaces an earlier one in its place, as assigning it in a dict does.

    Built column by column, not record by record."""
    frames = []
    for rank, (scheme, col) in enumerate(zip(ID_SCHEMES, ID_COLUMNS, strict=True)):
        values = std[col].to_numpy(dtype=object)
        given = np.flatnonzero(pd.notna(values))
        pos = given[[isinstance(v, str) and v != "" for v in values[given]]]
        held: Any = values[pos]
        schemes: Any = scheme
        if scheme == "NATIONAL":  # "<scheme>:<value>"
            split = [v.rpartition(":") for v in held]
            schemes = [s for s, _, _ in split]
            held = [v for _, _, v in split]
        frames.append(pd.DataFrame({"pos": pos, "rank": rank, "scheme": schemes, "value": held}))
    register = np.flatnonzero(std["source_format"].isin(REGISTER_FORMATS).to_numpy())
    frames.append(
        pd.DataFrame(
            {
                "pos": register,
                "rank": len(ID_SCHEMES),
                "scheme": ["KEY:" + s for s in std["source"].to_numpy(dtype=object)[register]],
                "value": std["source_id"].to_numpy(dtype=object)[register],
            }
        )
    )
    keys = pd.concat(frames, ignore_index=True)
    if keys.duplicated(["pos", "scheme"]).any():  # a NATIONAL or KEY: scheme that names one given before it
        first = keys.groupby(["pos", "scheme"], sort=False)["rank"].transform("min")
        keys = keys.assign(rank=first).drop_duplicates(["pos", "scheme"], keep="last")
    keys = keys.sort_values(["pos", "rank"], kind="stable", ignore_index=True)
    return keys[["pos", "scheme", "value"]]


def identity_keys(std: pd.DataFrame) -> dict[str, dict[str, str]]:
    """rid -> {scheme: value} of the authoritative keys of each standardised record (:func:`identity_key_table`):
    its valid identifiers, plus ``KEY:<source>`` for a register's own key (two keys of one register are two
    legal entities). Equal values of a scheme mean the same entity; different values, different ones."""
    table = identity_key_table(std)
    keys: list[dict[str, str]] = [{} for _ in range(len(std))]
    for pos, scheme, value in zip(table["pos"].tolist(), table["scheme"].tolist(), table["value"].tolist()):
        keys[pos][scheme] = value
    return dict(zip(std["rid"].tolist(), keys))


# The attributes record_identifiers and invalid_identifiers read (their checks included): the rows handed to
# them carry only these, which spares building a dict of every attribute per record.
IDENTIFIER_INPUTS = (
    "source_format",
    "source_id",
    "lei",
    "uscc",
    "registration_number",
    "registration_authority",
    "cik",
    "ein",
    "country",
    "jurisdiction",
)
# The columns standardise_columns adds, in order; the list-valued ones are LIST_COLUMNS, the flags FLAG_COLUMNS.
STANDARD_COLUMNS = (
    "rid",
    "name_core",
    "legal_form_norm",
    "aliases",
    "country_iso",
    "city_norm",
    "postal_norm",
    "address_norm",
    "branch_flag",
    "name_cjk",
    "qualifiers",
    "qualifiers_en",
    "invalid_ids",
    "std_version",
    *ID_COLUMNS,
)
LIST_COLUMNS = ("aliases", "qualifiers", "qualifiers_en", "invalid_ids")
FLAG_COLUMNS = ("branch_flag", "name_cjk")

_MISSING = object()


def _per_distinct(fn: Callable[..., Any], *columns: Sequence[Any]) -> list[Any]:
    """``fn`` over the rows of ``columns`` (one argument each), computed once per distinct argument tuple:
    cities, countries, postcodes and the names of one entity in several sources repeat a lot."""
    memo: dict[Any, Any] = {}
    out = []
    for key in zip(*columns) if len(columns) > 1 else columns[0]:
        value = memo.get(key, _MISSING)
        if value is _MISSING:
            value = memo[key] = fn(*key) if len(columns) > 1 else fn(key)
        out.append(value)
    return out


def _postal(postal_code: str | None, country: str | None) -> str:
    return _address.postcode(postal_code, country).replace(" ", "") if postal_code else ""


def _address_norm(address: str | None, country: str | None, postal_code: str | None) -> str:
    return _address.address(address, country, postal_code) if address else ""


def _aliases(name: str | None, name_en: str | None, other_names: str | None) -> tuple[str, ...]:
    return tuple(name_aliases([name, name_en, *_json_names(other_names)]))


def _qualifiers_en(name_en: str | None) -> tuple[str, ...] | None:
    return name_qualifiers(name_en) if name_en else None


def standardise_columns(columns: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """The standardised columns (:data:`STANDARD_COLUMNS`, in order) of canonical organisation records given
    column by column (missing values None; an absent attribute counts as missing everywhere). List values
    come as tuples (shared between equal rows); :func:`standardise_records` turns them into lists. Each
    record's result depends on that record alone, so any split of the records into batches gives the same
    rows."""
    n = len(columns["source"])

    def col(name: str) -> Sequence[Any]:
        return columns[name] if name in columns else [None] * n

    names, names_en = col("name"), col("name_en")
    out: dict[str, list[Any]] = {"rid": [f"{s}:{i}" for s, i in zip(col("source"), col("source_id"))]}
    split = [split_legal_form(x) for x in names]
    # The branch marks and qualifiers of the names right after their legal forms: all three start from the
    # name's normalised text, which the normalisation cache still holds before the aliases and addresses pass.
    branch = [is_branch(x) for x in names]
    qualifiers = [name_qualifiers(x) for x in names]
    out["name_core"] = [s[0] for s in split]
    out["legal_form_norm"] = [s[1] for s in split]
    out["aliases"] = _per_distinct(_aliases, names, names_en, col("other_names"))
    # The registered address's country; failing that, the country of the jurisdiction of registration.
    country_iso = [country_code(c) or country_code(j) for c, j in zip(col("country"), col("jurisdiction"))]
    out["country_iso"] = country_iso
    out["city_norm"] = _per_distinct(normalise_text, col("city"))
    out["postal_norm"] = _per_distinct(_postal, col("postal_code"), country_iso)
    out["address_norm"] = _per_distinct(_address_norm, col("address"), country_iso, col("postal_code"))
    out["branch_flag"] = branch
    out["name_cjk"] = _per_distinct(has_cjk, names)
    out["qualifiers"] = qualifiers
    out["qualifiers_en"] = [_qualifiers_en(x) for x in names_en]
    rows = [dict(zip(IDENTIFIER_INPUTS, r)) for r in zip(*(col(c) for c in IDENTIFIER_INPUTS))]
    idents = [record_identifiers(r) for r in rows]
    out["invalid_ids"] = [tuple(invalid_identifiers(r)) for r in rows]
    out["std_version"] = [STANDARDISE_VERSION] * n
    for scheme, column in zip(ID_SCHEMES, ID_COLUMNS):
        out[column] = [i.get(scheme) for i in idents]
    return out


def standardise_records(df: pd.DataFrame) -> pd.DataFrame:
    """Canonical organisation records -> the standardised frame used by matching and survivorship.

    Adds: ``rid`` (``source:source_id``), ``name_core``, ``legal_form_norm``, ``aliases`` (the cores of
    every known name: legal, English/transliterated, former), ``country_iso``, ``city_norm``,
    ``postal_norm``, ``address_norm``, ``branch_flag``, ``invalid_ids`` (identifier attributes whose value
    fails its check: flagged and kept, never matched on) and one ``id_<scheme>`` column per valid identifier.
    """
    out = df.copy()
    std = standardise_columns({c: out[c].tolist() for c in out.columns})
    for name in STANDARD_COLUMNS:
        values = std[name]
        if name in LIST_COLUMNS:
            values = [None if v is None else list(v) for v in values]
        out[name] = pd.Series(values, index=out.index, dtype=bool if name in FLAG_COLUMNS else object)
    return out
