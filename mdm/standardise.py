"""Standardisation of organisation names, addresses and countries (pure functions).

The normalised forms feed blocking and comparison; the original values are never overwritten.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
import pycountry

_T2S = opencc.OpenCC("t2s")

# Legal-form spellings (after normalisation) mapped to one canonical token. Longest first when matching.
_LATIN_FORMS: dict[str, str] = {
    "public limited company": "plc", "plc": "plc", "p l c": "plc",
    "limited liability company": "llc", "llc": "llc", "l l c": "llc",
    "limited liability partnership": "llp", "llp": "llp",
    "limited partnership": "lp", "lp": "lp", "l p": "lp",
    "private limited company": "ltd", "limited company": "ltd", "limited": "ltd", "ltd": "ltd",
    "company limited": "co ltd", "co ltd": "co ltd", "coltd": "co ltd",
    "incorporated": "inc", "inc": "inc",
    "corporation": "corp", "corp": "corp",
    "company": "co", "co": "co",
    "gesellschaft mit beschrankter haftung": "gmbh", "gmbh": "gmbh",
    "aktiengesellschaft": "ag", "ag": "ag",
    "kommanditgesellschaft": "kg", "kg": "kg", "gmbh co kg": "gmbh co kg", "gmbh and co kg": "gmbh co kg",
    "and co kg": "co kg", "co kg": "co kg", "and co": "co",
    "societe anonyme": "sa", "sa": "sa", "s a": "sa",
    "societe par actions simplifiee": "sas", "sas": "sas",
    "societe a responsabilite limitee": "sarl", "sarl": "sarl",
    "naamloze vennootschap": "nv", "nv": "nv", "besloten vennootschap": "bv", "bv": "bv",
    "societa per azioni": "spa", "spa": "spa", "srl": "srl",
    "kabushiki kaisha": "kk", "kk": "kk",
    "private limited": "pte ltd", "pte ltd": "pte ltd", "pte": "pte",
    "proprietary limited": "pty ltd", "pty ltd": "pty ltd", "pty": "pty",
    "ulc": "ulc", "cic": "cic", "lllp": "lllp", "pllc": "pllc", "ab": "ab", "as": "as", "oy": "oy",
}
_LATIN_FORM_RE = re.compile(
    r"(?:^|\s)(" + "|".join(re.escape(k) for k in sorted(_LATIN_FORMS, key=len, reverse=True)) + r")$"
)

# CJK legal forms (simplified), longest first.
_CJK_FORMS = sorted(
    ["股份有限公司", "有限责任公司", "有限公司", "集团有限公司", "集团股份有限公司", "股份公司", "公司",
     "合伙企业", "有限合伙", "个人独资企业", "株式会社", "有限会社"],
    key=len, reverse=True,
)
BRANCH_MARKERS_CJK = ("分公司", "分行", "支行", "分店", "办事处", "营业部", "分厂")
BRANCH_MARKERS_LATIN = ("branch", "branch office", "representative office")

_ABBREVIATIONS = {
    "intl": "international", "int'l": "international", "hldgs": "holdings", "hldg": "holding",
    "mfg": "manufacturing", "tech": "technology", "techs": "technologies", "grp": "group",
    "svcs": "services", "svc": "service", "mgmt": "management", "dev": "development",
    "ind": "industries", "inds": "industries", "bros": "brothers", "assoc": "associates",
    "natl": "national", "dept": "department", "eng": "engineering", "intl.": "international",
}

_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PUNCT_RE = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")
_PAREN_RE = re.compile(r"[（(][^）)]*[）)]")


def has_cjk(text: str | None) -> bool:
    return bool(text) and bool(_CJK_RE.search(text or ""))


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalise_text(text: str | None) -> str:
    """NFKC (full/half width), traditional -> simplified, casefold, '&' -> 'and', no punctuation."""
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", text).replace("\x00", "")
    if has_cjk(t):
        t = _T2S.convert(t)
    t = t.casefold().replace("&", " and ").replace("+", " and ")
    t = _strip_accents(t)
    t = t.replace("'", "")
    t = _PUNCT_RE.sub(" ", t)
    return _SPACE_RE.sub(" ", t).strip()


def _expand_abbreviations(tokens: list[str]) -> list[str]:
    return [_ABBREVIATIONS.get(t, t) for t in tokens]


@lru_cache(maxsize=200_000)
def split_legal_form(name: str | None) -> tuple[str, str | None]:
    """(normalised name without its legal form, canonical legal form or None)."""
    t = normalise_text(name)
    if not t:
        return "", None
    if has_cjk(t):
        compact = t.replace(" ", "")
        marker = next((m for m in BRANCH_MARKERS_CJK if compact.endswith(m) and len(compact) > len(m)), None)
        if marker:
            # 华为技术有限公司北京分公司: head office core + the branch's own part, marker kept as a feature.
            body = compact[: -len(marker)]
            for form in _CJK_FORMS:
                pos = body.find(form)
                if pos > 0:
                    return body[:pos] + body[pos + len(form):] + marker, form
            return compact, None
        for form in _CJK_FORMS:
            if compact.endswith(form) and len(compact) > len(form):
                return compact[: -len(form)], form
        return compact, None
    t = " ".join(_expand_abbreviations(t.split()))
    forms: list[str] = []
    # Peel repeated trailing forms: "holdings co ltd" -> ("holdings", "co ltd").
    while True:
        m = _LATIN_FORM_RE.search(t)
        if not m or m.start(1) == 0:
            break
        forms.insert(0, _LATIN_FORMS[m.group(1)])
        t = t[: m.start(1)].strip()
    if t.startswith("the "):
        t = t[4:]
    return t, (" ".join(forms) if forms else None)


def name_core(name: str | None) -> str:
    """The distinguishing part of a name: normalised, legal form removed."""
    return split_legal_form(name)[0]


def is_branch(name: str | None) -> bool:
    """Whether the name marks a branch (分公司, 支行, 'Branch'): a distinct entity from its head office."""
    if not name:
        return False
    t = normalise_text(name)
    if has_cjk(t):
        return any(m in t.replace(" ", "") for m in BRANCH_MARKERS_CJK)
    return any(re.search(rf"\b{m}\b", t) for m in BRANCH_MARKERS_LATIN)


_COUNTRY_ALIASES = {
    "UK": "GB", "UNITED KINGDOM": "GB", "ENGLAND": "GB", "WALES": "GB", "SCOTLAND": "GB", "NORTHERN IRELAND": "GB",
    "GREAT BRITAIN": "GB", "ENGLAND AND WALES": "GB", "USA": "US", "UNITED STATES": "US", "U.S.A.": "US",
    "中国": "CN", "中华人民共和国": "CN", "CHINA": "CN", "PRC": "CN", "HONG KONG": "HK", "香港": "HK",
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
    return c.alpha_2


def postcode(value: str | None) -> str:
    """Postcode without spaces or punctuation, upper case."""
    if not value:
        return ""
    return re.sub(r"[^0-9A-Z]", "", unicodedata.normalize("NFKC", value).upper())


def address(value: str | None) -> str:
    """Normalised address text (for similarity, not display)."""
    t = normalise_text(_PAREN_RE.sub(" ", value or ""))
    return t


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
    except ValueError:
        return []
    return [str(i.get("name")) for i in items if isinstance(i, dict) and i.get("name")]


def record_identifiers(row: dict) -> dict[str, str]:
    """Valid authoritative identifiers of one canonical organisation record, by scheme.

    Only identifiers that pass their checks are returned; two records carrying different values of the
    same scheme are different legal entities.
    """
    from mdm import identifiers as ids

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
    return out


ID_SCHEMES = ("LEI", "USCC", "CN-REG", "GB-COH", "CIK")


def standardise_records(df: "pd.DataFrame") -> "pd.DataFrame":
    """Canonical organisation records -> the standardised frame used by matching and survivorship.

    Adds: ``rid`` (``source:source_id``), ``name_core``, ``legal_form_norm``, ``aliases`` (the cores of
    every known name: legal, English/transliterated, former), ``country_iso``, ``city_norm``,
    ``postal_norm``, ``address_norm``, ``branch_flag``, ``invalid_ids`` (identifier attributes whose value
    fails its check: flagged and kept, never matched on) and one ``id_<scheme>`` column per valid identifier.
    """
    import pandas as pd

    out = df.copy()
    out["rid"] = out["source"].astype(str) + ":" + out["source_id"].astype(str)
    split = [split_legal_form(n) for n in out["name"].tolist()]
    out["name_core"] = [s[0] for s in split]
    out["legal_form_norm"] = [s[1] for s in split]
    aliases: list[list[str]] = []
    for core, en, other in zip(out["name_core"], out["name_en"], out["other_names"]):
        al = [core] if core else []
        for n in [en, *_json_names(other)]:
            c = name_core(n)
            if c and c not in al:
                al.append(c)
        aliases.append(al)
    out["aliases"] = aliases
    # The registered address's country; failing that, the country of the jurisdiction of registration.
    out["country_iso"] = [country_code(c) or country_code(j) for c, j in zip(out["country"], out["jurisdiction"])]
    out["city_norm"] = [normalise_text(c) for c in out["city"].tolist()]
    out["postal_norm"] = [postcode(p) for p in out["postal_code"].tolist()]
    out["address_norm"] = [address(a) for a in out["address"].tolist()]
    out["branch_flag"] = [is_branch(n) for n in out["name"].tolist()]
    from mdm.quality import invalid_identifiers

    rows = out.to_dict("records")
    idents = [record_identifiers(r) for r in rows]
    out["invalid_ids"] = [invalid_identifiers(r) for r in rows]
    for scheme in ID_SCHEMES:
        out["id_" + scheme.replace("-", "_")] = pd.Series([i.get(scheme) for i in idents], index=out.index, dtype="object")
    return out
