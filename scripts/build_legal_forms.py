"""Build mdm/data/legal_forms.csv: the legal-form spellings that name matching strips from organisation names.

Usage (from the repository root)::

    .venv/bin/python scripts/build_legal_forms.py ../shared/realdata [--out mdm/data/legal_forms.csv]

Sources (read in place, never copied into the repository):

* ``gleif-reference/2023-09-28-elf-code-list-v1.5.csv``: the ISO 20275 Entity Legal Forms code list published by
  GLEIF, licence CC0 1.0. Used: ELF code, country code, language code, local and transliterated legal-form names
  and abbreviations.
* ``legal-names/name_matching-0.9.22-legal_names.csv``: abbreviation / full-name pairs shipped with the
  ``name_matching`` package 0.9.22, licence MIT.
* ``CURATED`` below: a few spellings that neither list carries in the form company names use them (English
  ``company limited``, ``and co``, Japanese romanisations, the Chinese registered-name suffixes ...), written by
  hand for this project.

Output: one row per normalised spelling (``mdm.standardise.normalise_text``, CJK spellings without spaces) with its
canonical abbreviation key, the ELF codes, countries and languages it comes from and the sources; deduplicated and
sorted. Only what matching needs; not a copy of either list.

How a spelling gets its canonical key: every source row (one ELF entry, one legal-names pair) lists full names and
abbreviations. An abbreviation made of short tokens ("co ltd", "s a de c v", "gmbh") is its own key, with runs of
single letters merged and "and" dropped ("s a de c v" -> "sa de cv", "gmbh and co kg" -> "gmbh co kg"). A full name
(or a long abbreviation such as "limited") takes the longest short abbreviation of the same row that abbreviates it
(an acronym of its words: "limited liability company" -> "llc"); the key most rows vote for wins. A
full name that no abbreviation of its row abbreviates ("Railroad", "Savings Bank", "Insurance Company", which the
ELF list files under US entries whose abbreviations are just "corp.;inc.") is a category, not a spelling that
appears at the end of names, and is left out. Generic nouns that distinguish organisations ("bank", "trust",
"association", "cooperative" ...) are never legal forms here (``NEVER_FORMS``).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mdm.text import CJK_RE, normalise_text  # noqa: E402

ELF_FILE = "gleif-reference/2023-09-28-elf-code-list-v1.5.csv"
LEGAL_NAMES_FILE = "legal-names/name_matching-0.9.22-legal_names.csv"
DEFAULT_OUT = ROOT / "mdm" / "data" / "legal_forms.csv"
COLUMNS = ("spelling", "canonical", "elf_codes", "countries", "languages", "sources")

# Longest legal-form spelling kept, in tokens: longer ELF names never end a company name verbatim.
MAX_TOKENS = 7
# An abbreviation is "short" when every token has at most this many characters ("gmbh", "ltda", "sarl").
SHORT_TOKEN = 5

# Words and abbreviations that name what an organisation is or does; stripping them would merge a bank with
# its trust company or a fund with its manager, so they stay in the name core.
NEVER_FORMS = frozenset(
    {
        "association",
        "assn",
        "assoc",
        "bank",
        "trust",
        "fund",
        "foundation",
        "society",
        "union",
        "club",
        "cooperative",
        "co operative",
        "coop",
        "co op",
        "cooperativa",
        "cooperative association",
        "partnership",
        "general partnership",
        "municipal",
        "municipality",
        "railroad",
        "church",
        "group",
        "holding",
        "holdings",
        "company limited by guarantee",
        "dba",
        "sole proprietor",
        "sole proprietorship",
        "unlimited",
        "estado",
        "mpo",
        "edo",
        "the",
        "and",
        "of",
        "in",
        "is",
        "it",
        "to",
        "on",
        "or",
        "by",
        "we",
        "us",
        "me",
        "my",
        "go",
        "do",
        "be",
        "at",
        "an",
        "ok",
        "up",
        "vs",
        "am",
        "pr",
        "jv",
        "uk",
        "cn",
        "hk",
        "jp",
        "eu",
        "private",
        "public",
        "societe",
        "district",
        "son",
        "sons",
        "sam",
        "per",
        "etat",
        "bund",
        "ent",
        "pool inc",
        "pool ltd",
        "pool limited",
        "pool incorporated",
        "power att",
        "mesto o",
        "m urad",
        "zweig hr",
        "ii",
        "iii",
        "iv",
        "vi",
        "vii",
        "viii",
        "ix",
        "xi",
        "xii",
    }
)
# Parts of a spelling (compared without spaces) that mark a kind of business rather than a legal form.
NEVER_PARTS = (
    "bank",
    "insur",
    "trust",
    "fund",
    "fond",
    "church",
    "municip",
    "hospital",
    "universit",
    "school",
    "railroad",
    "saving",
    "loan",
    "coop",
    "cooperat",
    "associat",
    "assn",
    "union",
)
# A CJK spelling is kept only when it ends like a company or partnership name: the ELF list's other Chinese
# entries are kinds of public body (机关, 事业单位, 其他（外交）) that never end a company's name.
CJK_ENDINGS = ("公司", "会社", "合伙", "合伙企业", "独资企业", "회사")
CJK_NOT_START = ("非", "其他", "外国", "その他")

# Hand-written spellings: (spelling, canonical, language). Canonical keys here override the vote, so the keys
# used by mdm.standardise before this list existed stay the same.
CURATED: tuple[tuple[str, str, str], ...] = (
    ("public limited company", "plc", "en"),
    ("plc", "plc", "en"),
    ("p l c", "plc", "en"),
    ("limited liability company", "llc", "en"),
    ("llc", "llc", "en"),
    ("limited liability partnership", "llp", "en"),
    ("llp", "llp", "en"),
    ("limited partnership", "lp", "en"),
    ("lp", "lp", "en"),
    ("private limited company", "ltd", "en"),
    ("limited company", "ltd", "en"),
    ("limited", "ltd", "en"),
    ("ltd", "ltd", "en"),
    ("company limited", "co ltd", "en"),
    ("co ltd", "co ltd", "en"),
    ("co limited", "co ltd", "en"),
    ("company ltd", "co ltd", "en"),
    ("incorporated", "inc", "en"),
    ("inc", "inc", "en"),
    ("corporation", "corp", "en"),
    ("corp", "corp", "en"),
    ("company", "co", "en"),
    ("co", "co", "en"),
    ("and co", "co", "en"),
    ("and company", "co", "en"),
    ("gesellschaft mit beschrankter haftung", "gmbh", "de"),
    ("gmbh", "gmbh", "de"),
    ("aktiengesellschaft", "ag", "de"),
    ("ag", "ag", "de"),
    ("kommanditgesellschaft", "kg", "de"),
    ("kg", "kg", "de"),
    ("gmbh and co kg", "gmbh co kg", "de"),
    ("gmbh co kg", "gmbh co kg", "de"),
    ("and co kg", "co kg", "de"),
    ("co kg", "co kg", "de"),
    ("societe anonyme", "sa", "fr"),
    ("sa", "sa", "fr"),
    ("societe par actions simplifiee", "sas", "fr"),
    ("societe a responsabilite limitee", "sarl", "fr"),
    ("naamloze vennootschap", "nv", "nl"),
    ("besloten vennootschap", "bv", "nl"),
    ("societa per azioni", "spa", "it"),
    ("kabushiki kaisha", "kk", "ja"),
    ("kabushikigaisha", "kk", "ja"),
    ("kk", "kk", "ja"),
    ("yugen kaisha", "yk", "ja"),
    ("godo kaisha", "gk", "ja"),
    ("gomei kaisha", "gmk", "ja"),
    ("goshi kaisha", "gsk", "ja"),
    ("private limited", "pte ltd", "en"),
    ("pte ltd", "pte ltd", "en"),
    ("pte", "pte", "en"),
    ("proprietary limited", "pty ltd", "en"),
    ("pty ltd", "pty ltd", "en"),
    ("pty", "pty", "en"),
    ("sendirian berhad", "sdn bhd", "ms"),
    ("sdn bhd", "sdn bhd", "ms"),
    ("berhad", "bhd", "ms"),
    ("ulc", "ulc", "en"),
    ("cic", "cic", "en"),
    ("lllp", "lllp", "en"),
    ("pllc", "pllc", "en"),
    ("ab", "ab", "sv"),
    ("as", "as", "no"),
    ("oy", "oy", "fi"),
    # Chinese registered-name suffixes (PRC Company Law, Partnership Law), longest ones first in matching.
    ("股份有限公司", "股份有限公司", "zh"),
    ("有限责任公司", "有限责任公司", "zh"),
    ("有限公司", "有限公司", "zh"),
    ("集团有限公司", "集团有限公司", "zh"),
    ("集团股份有限公司", "集团股份有限公司", "zh"),
    ("集团有限责任公司", "集团有限责任公司", "zh"),
    ("股份公司", "股份公司", "zh"),
    ("公司", "公司", "zh"),
    ("合伙企业", "合伙企业", "zh"),
    ("有限合伙", "有限合伙", "zh"),
    ("普通合伙", "普通合伙", "zh"),
    ("特殊普通合伙", "特殊普通合伙", "zh"),
    ("个人独资企业", "个人独资企业", "zh"),
    ("株式会社", "株式会社", "ja"),
    ("有限会社", "有限会社", "ja"),
    ("合同会社", "合同会社", "ja"),
    ("주식회사", "주식회사", "ko"),
    ("유한회사", "유한회사", "ko"),
)

# One legal form across scripts: the local spelling, its transliterations and the English usage share one key,
# so "ООО", "Общество с ограниченной ответственностью", "ТОВ", "OOO" and "LLC" are one form. The local names
# come from the ELF list (RU 17R7 and BY AABD: общество с ограниченной ответственностью; BY 106J/MR85: закрытое /
# открытое акционерное общество; GR W2NK/H6OR; JP T417; KR 5RCH/J3U5), whose Russian entries are plural
# category names without abbreviations (so the vote above cannot key them); the abbreviations and English
# equivalents are how registers and the financial press write them (Sberbank: ПАО Сбербанк / PJSC Sberbank).
EQUIVALENT: tuple[tuple[str, str, str], ...] = (
    ("общество с ограниченной ответственностью", "llc", "ru"),
    ("ооо", "llc", "ru"),
    ("ooo", "llc", "ru"),
    ("товариство з обмеженою відповідальністю", "llc", "uk"),
    ("тов", "llc", "uk"),
    ("tov", "llc", "uk"),
    ("таварыства з абмежаванай адказнасцю", "llc", "be"),
    ("таа", "llc", "be"),
    ("акционерное общество", "jsc", "ru"),
    ("ао", "jsc", "ru"),
    ("ao", "jsc", "ru"),
    ("акціонерне товариство", "jsc", "uk"),
    ("joint stock company", "jsc", "en"),
    ("jsc", "jsc", "en"),
    ("публичное акционерное общество", "pjsc", "ru"),
    ("пао", "pjsc", "ru"),
    ("pao", "pjsc", "ru"),
    ("публічне акціонерне товариство", "pjsc", "uk"),
    ("пат", "pjsc", "uk"),
    ("public joint stock company", "pjsc", "en"),
    ("pjsc", "pjsc", "en"),
    ("приватне акціонерне товариство", "prjsc", "uk"),
    ("прат", "prjsc", "uk"),
    ("prat", "prjsc", "uk"),
    ("private joint stock company", "prjsc", "en"),
    ("prjsc", "prjsc", "en"),
    ("закрытое акционерное общество", "cjsc", "ru"),
    ("зао", "cjsc", "ru"),
    ("zao", "cjsc", "ru"),
    ("closed joint stock company", "cjsc", "en"),
    ("cjsc", "cjsc", "en"),
    ("открытое акционерное общество", "ojsc", "ru"),
    ("оао", "ojsc", "ru"),
    ("oao", "ojsc", "ru"),
    ("open joint stock company", "ojsc", "en"),
    ("ojsc", "ojsc", "en"),
    ("ανωνυμη εταιρεια", "ae", "el"),
    ("ανωνυμη εταιρια", "ae", "el"),
    ("αε", "ae", "el"),
    ("εταιρεια περιορισμενης ευθυνης", "epe", "el"),
    ("εταιρια περιορισμενης ευθυνης", "epe", "el"),
    ("επε", "epe", "el"),
    ("株式会社", "kk", "ja"),
    ("kabushiki kaisha", "kk", "ja"),
    ("kabushikigaisha", "kk", "ja"),
    ("kabusikigaisya", "kk", "ja"),
    ("kk", "kk", "ja"),
    ("주식회사", "co ltd", "ko"),
    ("jusikhoesa", "co ltd", "ko"),
    ("jusik hoesa", "co ltd", "ko"),
    ("유한회사", "yuhan hoesa", "ko"),
    ("yuhanhoesa", "yuhan hoesa", "ko"),
    ("شركة ذات مسؤولية محدودة", "llc", "ar"),
    ("شركه ذات مسؤولية محدودة", "llc", "ar"),
    ("ذات مسؤولية محدودة", "llc", "ar"),
    ("شركة مساهمة", "jsc", "ar"),
)

_SPLIT_RE = re.compile(r"[;,]")
# ELF abbreviation cells sometimes hold prose ("or Ltd. Professional Corporation or P.C. for those ...").
_PROSE = frozenset({"or", "for", "those", "including", "professional services", "not", "applicable"})


def compact(spelling: str) -> str:
    """The spelling without spaces: the key matching looks spellings up by ("s a r l" == "sarl")."""
    return spelling.replace(" ", "")


def canonical_form(spelling: str) -> str:
    """Key of an abbreviation: 'and' dropped, runs of single characters merged ("s a de c v" -> "sa de cv")."""
    out: list[str] = []
    run = ""
    for tok in spelling.split():
        if tok == "and":
            continue
        if len(tok) == 1:
            run += tok
            continue
        if run:
            out.append(run)
            run = ""
        out.append(tok)
    if run:
        out.append(run)
    return " ".join(out)


def is_short(spelling: str) -> bool:
    """Whether a spelling is an abbreviation rather than a full name.

    Every token short ("co ltd", "sp z o o"), or one token of consonants ("sencrl", "gesmbh") where a word
    such as "limited" has vowels.
    """
    toks = spelling.split()
    if not toks or len(compact(spelling)) > 12:
        return False
    if all(len(t) <= SHORT_TOKEN for t in toks):
        return True
    return len(toks) == 1 and len(toks[0]) <= 8 and sum(ch in "aeiouy" for ch in toks[0]) / len(toks[0]) <= 0.25


# Words an acronym may skip ("sociedad de responsabilidad limitada" -> "srl").
_SKIPPABLE = frozenset(
    {
        "a",
        "and",
        "by",
        "da",
        "de",
        "del",
        "della",
        "der",
        "des",
        "di",
        "do",
        "du",
        "e",
        "en",
        "et",
        "for",
        "i",
        "la",
        "le",
        "les",
        "met",
        "mit",
        "och",
        "of",
        "og",
        "op",
        "s",
        "sa",
        "so",
        "the",
        "u",
        "und",
        "van",
        "von",
        "with",
        "y",
        "z",
        "za",
        "zu",
    }
)


def abbreviates(abbr: str, full: str) -> bool:
    """Whether compact `abbr` is an acronym-like abbreviation of the spelling `full`.

    The abbreviation splits into consecutive pieces, one per word of `full` (only _SKIPPABLE words may be left
    out); each piece starts with its word's first letter and takes further letters of that word in order:
    "gmbh" for "gesellschaft mit beschrankter haftung", "ltd" for "limited", "sp zoo" for "spolka z ograniczona
    odpowiedzialnoscia", but not "co" for "captive insurance company" nor "ltd" for "limited partnership".
    """
    words = full.split()
    if not abbr or len(abbr) >= len(compact(full)):
        return False

    def piece_of(piece: str, word: str) -> bool:
        if piece[0] != word[0]:
            return False
        it = iter(word[1:])
        return all(ch in it for ch in piece[1:])

    def match(ai: int, wi: int) -> bool:
        if ai == len(abbr):
            return all(w in _SKIPPABLE for w in words[wi:])
        if wi == len(words):
            return False
        word = words[wi]
        if word in _SKIPPABLE and match(ai, wi + 1):
            return True
        return any(piece_of(abbr[ai:end], word) and match(end, wi + 1) for end in range(ai + 1, len(abbr) + 1))

    return match(0, 0)


def never_a_form(spelling: str) -> bool:
    """Whether a spelling must stay in the name core (NEVER_FORMS, NEVER_PARTS) or is too short to strip."""
    c = compact(spelling)
    return (
        len(c) < 2
        or spelling in NEVER_FORMS
        or c in NEVER_FORMS
        or (not CJK_RE.search(spelling) and any(part in c for part in NEVER_PARTS))
    )


@dataclass
class Spelling:
    """What the sources say about one normalised spelling."""

    votes: Counter = field(default_factory=Counter)
    elf_codes: set[str] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)


def _clean(raw: str) -> str:
    """Normalised spelling, or '' when it is prose, too long or empty."""
    s = normalise_text(raw)
    if not s:
        return ""
    if CJK_RE.search(s):
        return s.replace(" ", "")
    toks = s.split()
    if len(toks) > MAX_TOKENS or any(t in _PROSE for t in toks):
        return ""
    return s


def _add_row(
    table: dict[str, Spelling],
    fulls: list[str],
    abbrs: list[str],
    *,
    elf: str = "",
    country: str = "",
    language: str = "",
    source: str,
) -> None:
    """Cast one source row's votes: abbreviations for themselves, full names for their longest abbreviation."""
    fulls = [s for s in dict.fromkeys(_clean(f) for f in fulls) if s]
    abbrs = [s for s in dict.fromkeys(_clean(a) for a in abbrs) if s]
    short = [canonical_form(a) for a in abbrs if not CJK_RE.search(a) and is_short(a)]
    for s in dict.fromkeys(fulls + abbrs):
        if CJK_RE.search(s):
            # CJK spellings are their own key; single characters (株, 有, 주) abbreviate too much to strip.
            if len(s) < 2 or not s.endswith(CJK_ENDINGS) or s.startswith(CJK_NOT_START):
                continue
            vote = [s]
        elif s in abbrs and is_short(s):
            vote = [canonical_form(s)]
        else:
            cands = [c for c in short if abbreviates(compact(c), s)]
            if not cands:
                continue
            best = max(len(compact(c)) for c in cands)
            vote = sorted({c for c in cands if len(compact(c)) == best})
        if never_a_form(s):
            continue
        vote = [v for v in vote if not never_a_form(v)]
        if not vote:
            continue
        entry = table.setdefault(s, Spelling())
        entry.votes.update(vote)
        if elf:
            entry.elf_codes.add(elf)
        if country:
            entry.countries.add(country)
        if language:
            entry.languages.add(language)
        entry.sources.add(source)


def read_elf(path: Path, table: dict[str, Spelling]) -> int:
    """Add every ELF entry (active and inactive: old forms stay in names); returns the number of rows read."""
    n = 0
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            n += 1
            fulls = [
                row["Entity Legal Form name Local name"],
                row["Entity Legal Form name Transliterated name (per ISO 01-140-10)"],
            ]
            abbrs = [
                a
                for col in ("Abbreviations Local language", "Abbreviations transliterated")
                for a in _SPLIT_RE.split(row[col] or "")
            ]
            lang = (row["Language Code (ISO 639-1)"] or "").strip().lower()
            _add_row(
                table,
                fulls,
                abbrs,
                elf=row["ELF Code"].strip(),
                country=row["Country Code (ISO 3166-1)"].strip(),
                language="ko" if lang == "kr" else lang,
                source="elf",
            )
    return n


def read_legal_names(path: Path, table: dict[str, Spelling]) -> int:
    """Add the name-matching abbreviation / full-name pairs; returns the number of rows read."""
    n = 0
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            n += 1
            _add_row(table, [row["full_name"]], [row["abbreviation"]], source="name_matching")
    return n


def transliterate(spelling: str) -> str:
    """The Latin transliteration matching makes of a name (mdm.transliterate), normalised."""
    from mdm.transliterate import latin

    return _clean(latin(spelling))


def add_transliterations(table: dict[str, Spelling], overrides: dict[str, str]) -> None:
    """Add the Latin transliteration of every spelling in another script, as matching transliterates names
    ("общество с ограниченной ответственностью" -> "obshchestvo s ogranichennoy otvetstvennostyu"), voting
    for the same key (spellings already listed keep theirs). Chinese and Japanese spellings are left out: their Latin forms (K.K., Co., Ltd.) are
    not transliterations, and matching strips the form before it transliterates."""
    for s, entry in list(table.items()):
        if s.isascii() or re.search(r"[\u3040-\u30ff\u3400-\u9fff]", s):
            continue
        t = transliterate(s)
        if not t or t == s or never_a_form(t) or len(compact(t)) < 2 or t in table:
            continue  # a spelling the lists already key ("ad", "kd") keeps its key
        target = table.setdefault(t, Spelling())
        target.votes.update(entry.votes)
        target.elf_codes |= entry.elf_codes
        target.countries |= entry.countries
        target.languages |= entry.languages
        target.sources |= entry.sources | {"transliterated"}
        if compact(s) in overrides and compact(t) not in overrides:
            overrides[compact(t)] = overrides[compact(s)]


def build_rows(realdata: Path) -> list[dict[str, str]]:
    """The rows of legal_forms.csv built from the two lists under `realdata` plus CURATED."""
    table: dict[str, Spelling] = {}
    read_elf(realdata / ELF_FILE, table)
    read_legal_names(realdata / LEGAL_NAMES_FILE, table)
    overrides: dict[str, str] = {}
    for spelling, canon, lang in (*CURATED, *EQUIVALENT):
        s = _clean(spelling)
        entry = table.setdefault(s, Spelling())
        entry.languages.add(lang)
        entry.sources.add("curated")
        overrides[compact(s)] = _clean(canon) if CJK_RE.search(canon) else canon
    add_transliterations(table, overrides)
    # Matching looks spellings up without spaces, so all spellings sharing a compact form share one key.
    by_compact: dict[str, Counter] = defaultdict(Counter)
    for s, entry in table.items():
        by_compact[compact(s)].update(entry.votes)
    key_of: dict[str, str] = {}
    for c, votes in by_compact.items():
        if c in overrides:
            key_of[c] = overrides[c]
        elif votes:
            # Most votes; then the longer key; then the spaced spelling ("co ltd" before "coltd").
            key_of[c] = max(votes, key=lambda k: (votes[k], len(compact(k)), k.count(" "), k))
    # One spacing per key: every spelling of a key maps to the same string.
    spaced: dict[str, str] = {}
    for k in sorted(set(key_of.values()), key=lambda k: (-k.count(" "), k)):
        spaced.setdefault(compact(k), k)
    # Every key is also a spelling ("ag and co kgaa" -> "ag co kgaa": "ag co kgaa" itself must be recognised).
    for s, entry in list(table.items()):
        c = compact(s)
        if c not in key_of:
            continue
        key = overrides.get(c) or spaced.get(compact(key_of[c]), key_of[c])
        if compact(key) not in key_of:
            derived = table.setdefault(key, Spelling())
            derived.elf_codes |= entry.elf_codes
            derived.countries |= entry.countries
            derived.languages |= entry.languages
            derived.sources |= entry.sources
            key_of[compact(key)] = key
    rows = []
    for s, entry in table.items():
        key = key_of.get(compact(s))
        if not key:
            continue
        # A key that is itself a spelling with an override follows it ("obshchestvo ..." votes "ooo" -> "llc").
        key = overrides.get(compact(s)) or overrides.get(compact(key)) or spaced.get(compact(key), key)
        rows.append(
            {
                "spelling": s,
                "canonical": key,
                "elf_codes": " ".join(sorted(entry.elf_codes)),
                "countries": " ".join(sorted(entry.countries)),
                "languages": " ".join(sorted(entry.languages)),
                "sources": " ".join(sorted(entry.sources)),
            }
        )
    rows.sort(key=lambda r: r["spelling"])
    return rows


def write_rows(rows: list[dict[str, str]], out: Path) -> None:
    """Write the rows as UTF-8 CSV with a header and '\\n' line ends."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: build and write the data file, print a one-line summary."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("realdata", type=Path, help="folder holding gleif-reference/ and legal-names/ (../shared/realdata)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output CSV (default: mdm/data/legal_forms.csv)")
    args = p.parse_args(argv)
    for rel in (ELF_FILE, LEGAL_NAMES_FILE):
        if not (args.realdata / rel).is_file():
            print(f"missing source file: {args.realdata / rel}", file=sys.stderr)
            return 2
    rows = build_rows(args.realdata)
    write_rows(rows, args.out)
    print(f"wrote {len(rows)} spellings, {len({r['canonical'] for r in rows})} canonical forms to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
