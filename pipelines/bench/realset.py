"""A labelled set of real company records, assembled from public material (not from the generator), and how
our matching does on it: pairwise precision, recall and F1.

The set is built at run time from the public files in ``shared/realdata`` (read in place, never copied) and
one hand-made file in this repository:

| part | from | licence | records |
|---|---|---|---|
| GLEIF | ``gleif/goldencopy-lei2-intra-day-20240505-0000.json``: every LEI record as a register record (legal name, other and transliterated names, national register number and RA code, address); for each record with another or transliterated name, a bank record under that name (every second one with the register number) | CC0 | 577 + 47 |
| SEC | ``sec-fsds/2009q3.zip`` sub.txt and ``sec-edgar-json/*_submission.json``: each filer as a register record with its former names; a bank record under each former name, without CIK | public domain | ~270 + ~240 |
| German register | ``de-offeneregister``: the first 300 companies with previous names (court + HRB number, registered office) and up to two other companies per one sharing the first word of its name (real near-namesakes); a bank record under the previous name, every second one with the register number | CC BY 4.0 (OffeneRegister.de) | ~900 |
| name pairs | ``company-name-pairs/*.csv``: hand-made same-company variations (English, Chinese, Korean, tickers) and different-company pairs | MIT | ~90 |
| multi-script | ``tests/data/real_companies.csv``: well-known companies written in Cyrillic, Chinese, Japanese, Korean, Arabic and Greek and in Latin letters, with their public OGRN, INN, EDRPOU, SIREN, KvK and Handelsregister numbers, and sibling companies that must stay apart | written for this project from public registers and filings (CC0) | ~100 |

Two records are a true pair when they describe one legal entity (one LEI, CIK, register number, or one row
of the hand-made files). Nothing is tuned on this set: it is scored with the pipeline's own standardisation,
matching (the model trained on the set's own identifier labels, as a run does) and clustering.
"""

from __future__ import annotations

import bz2
import csv
import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from mdm.clustering import cluster
from mdm.matching import MatchSettings, match_records
from mdm.schema import ORGANIZATION
from mdm.standardise import identity_keys, name_core, standardise_records
from pipelines.bench.evaluation import bcubed, pairwise

HAND_MADE = Path(__file__).resolve().parents[2] / "tests" / "data" / "real_companies.csv"
GLEIF_DELTA = "gleif/goldencopy-lei2-intra-day-20240505-0000.json"
DE_CHUNK = "de-offeneregister/offeneregister-ocdata.chunk1.jsonl.bz2"
DE_COMPANIES = 300  # companies with previous names taken from the German register file, in file order
DE_NAMESAKES = 2  # other companies per one, sharing the first word of its name


def _rec(entity: str, source: str, source_id: str, fmt: str, name: str | None, **kw: Any) -> dict[str, Any]:
    return {"entity": entity, "source": source, "source_id": source_id, "source_format": fmt, "name": name, **kw}


def _names(items: Any) -> list[dict[str, str]]:
    items = items if isinstance(items, list) else [items] if items else []
    return [{"name": i["$"], "type": i.get("@type", "")} for i in items if isinstance(i, dict) and i.get("$")]


def gleif(realdata: Path) -> Iterator[dict[str, Any]]:
    data = json.loads((realdata / GLEIF_DELTA).read_text(encoding="utf-8"))
    for n, r in enumerate(sorted(data["records"], key=lambda r: r["LEI"]["$"])):
        e, lei = r["Entity"], r["LEI"]["$"]
        ra = e.get("RegistrationAuthority", {})
        number = ra.get("RegistrationAuthorityEntityID", {}).get("$")
        addr = e.get("LegalAddress", {})
        country, city = addr.get("Country", {}).get("$"), addr.get("City", {}).get("$")
        others = _names(e.get("OtherEntityNames", {}).get("OtherEntityName")) + _names(
            e.get("TransliteratedOtherEntityNames", {}).get("TransliteratedOtherEntityName")
        )
        yield _rec(
            "LEI:" + lei,
            "gleif",
            lei,
            "gleif_lei_xml",
            e["LegalName"]["$"],
            lei=lei,
            registration_number=number,
            registration_authority=ra.get("RegistrationAuthorityID", {}).get("$"),
            other_names=json.dumps(others, ensure_ascii=False) if others else None,
            country=country,
            city=city,
            jurisdiction=e.get("LegalJurisdiction", {}).get("$"),
        )
        if others:
            yield _rec(
                "LEI:" + lei,
                "bank",
                "g-" + lei,
                "sql",
                others[0]["name"],
                country=country,
                city=city,
                registration_number=number if n % 2 == 0 else None,
            )


def sec(realdata: Path) -> Iterator[dict[str, Any]]:
    filers: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(realdata / "sec-fsds/2009q3.zip") as z:
        for row in csv.DictReader(io.TextIOWrapper(z.open("sub.txt"), encoding="utf-8"), delimiter="\t"):
            f = filers.setdefault(
                row["cik"], {"name": row["name"], "former": [], "country": row["countryba"], "city": row["cityba"]}
            )
            if row["former"] and row["former"] not in f["former"]:
                f["former"].append(row["former"])
    for path in sorted((realdata / "sec-edgar-json").glob("*_submission.json")):
        sub = json.loads(path.read_text(encoding="utf-8"))
        cik = str(int(sub["cik"]))
        addr = sub.get("addresses", {}).get("business", {})
        f = filers.setdefault(cik, {"name": sub["name"], "former": [], "country": "US", "city": addr.get("city")})
        f["former"] += [x["name"] for x in sub.get("formerNames", []) if x["name"] not in f["former"]]
    for cik, f in sorted(filers.items()):
        others = [{"name": x, "type": "PREVIOUS_LEGAL_NAME"} for x in f["former"]]
        yield _rec(
            "CIK:" + cik,
            "sec",
            cik,
            "sec_fsds",
            f["name"],
            cik=cik,
            country=f["country"] or None,
            city=f["city"] or None,
            other_names=json.dumps(others) if others else None,
        )
        for i, former in enumerate(f["former"]):
            yield _rec("CIK:" + cik, "bank", f"s-{cik}-{i}", "sql", former, country=f["country"] or None)


def german_register(realdata: Path) -> Iterator[dict[str, Any]]:
    rows = []
    with bz2.open(realdata / DE_CHUNK, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            number = r.get("all_attributes", {}).get("native_company_number")
            if number and r.get("name"):
                rows.append(r)
    first_word: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        words = name_core(r["name"]).split()
        if words and len(words[0]) >= 5:
            first_word.setdefault(words[0], []).append(i)
    picked: dict[int, None] = {}
    chosen = [i for i, r in enumerate(rows) if r.get("previous_names")][:DE_COMPANIES]
    for i in chosen:
        picked[i] = None
        words = name_core(rows[i]["name"]).split()
        for j in (first_word.get(words[0], []) if words else [])[: DE_NAMESAKES + 1]:
            picked.setdefault(j, None)
    for n, i in enumerate(picked):
        r = rows[i]
        number = r["all_attributes"]["native_company_number"]
        city = r["all_attributes"].get("registered_office")
        previous = [p["company_name"] for p in r.get("previous_names") or [] if p.get("company_name")]
        others = [{"name": p, "type": "PREVIOUS_LEGAL_NAME"} for p in previous]
        yield _rec(
            "DE:" + number,
            "de_register",
            r["company_number"],
            "sql",
            r["name"],
            registration_number=number,
            country="DE",
            city=city,
            other_names=json.dumps(others, ensure_ascii=False) if others else None,
        )
        if previous and i in chosen:
            yield _rec(
                "DE:" + number,
                "bank",
                "d-" + r["company_number"],
                "sql",
                previous[0],
                country="DE",
                city=city,
                registration_number=number if n % 2 == 0 else None,
            )


def name_pairs(realdata: Path) -> Iterator[dict[str, Any]]:
    folder = realdata / "company-name-pairs"
    seen: dict[tuple[str, str], str] = {}
    out: list[dict[str, Any]] = []

    def add(name: str, country: str, entity: str | None) -> str:
        key = (name, country)
        if key not in seen:
            seen[key] = entity or f"PAIR:{len(seen)}"
            out.append(_rec(seen[key], "pairs", f"p-{len(seen)}", "sql", name, country=country or None))
        return seen[key]

    with (folder / "easonanalytica-positive-name-variations.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            ent = add(row["canonical_name"], row["country_code"], None)
            if (row["variation"], row["country_code"]) not in seen:
                add(row["variation"], row["country_code"], ent)
    with (folder / "easonanalytica-negative-name-pairs.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            add(row["canonical_name_x"], row["country_code_x"], None)
            add(row["canonical_name_y"], row["country_code_y"], None)
    yield from out


def hand_made(path: Path = HAND_MADE) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            yield _rec(
                row["entity"],
                row["source"],
                row["source_id"],
                "sql",
                row["name"],
                country=row["country"] or None,
                registration_number=row["registration_number"] or None,
                registration_authority=row["registration_scheme"] or None,
                lei=row["lei"] or None,
            )


PARTS = {"gleif": gleif, "sec": sec, "german_register": german_register, "name_pairs": name_pairs}


def load(realdata: Path) -> pd.DataFrame:
    """The labelled records: the canonical organisation columns plus ``entity`` (the true entity) and ``part``."""
    rows = []
    for part, build in PARTS.items():
        rows += [r | {"part": part} for r in build(realdata)]
    rows += [r | {"part": "multi_script"} for r in hand_made()]
    frame = pd.DataFrame(rows)
    for c in ORGANIZATION:
        if c not in frame.columns:
            frame[c] = None
    return frame.astype(object).where(frame.notna(), None)  # type: ignore[call-overload]  # stubs lack other=None


def evaluate(records: pd.DataFrame, settings: MatchSettings | None = None) -> dict[str, Any]:
    """Standardise, match and cluster the labelled records as a run does, and score the clusters."""
    t0 = time.perf_counter()
    std = standardise_records(records[list(ORGANIZATION)].copy())
    pairs, model, _ = match_records(std, settings or MatchSettings())
    keys = identity_keys(std)
    det = pairs[pairs["rule"] != "score"]
    clusters, _ = cluster(std["rid"], keys, det, pairs)
    seconds = time.perf_counter() - t0
    rid = records["source"].astype(str) + ":" + records["source_id"].astype(str)
    truth = dict(zip(rid, records["entity"]))
    predicted = dict(zip(clusters["rid"], clusters["cluster_key"]))
    # The parts are labelled independently (Apple is a SEC filer and a name-pair row): pairs are scored within
    # each part and summed, so a correct link between two parts is neither rewarded nor punished.
    parts: dict[str, Any] = {}
    tp = pp = tt = 0.0
    b3 = 0.0
    for part in [*PARTS, "multi_script"]:
        sel = list(rid[records["part"] == part])
        pw = pairwise({r: predicted[r] for r in sel}, {r: truth[r] for r in sel})
        parts[part] = {"records": len(sel), "pairwise": pw}
        tp += pw["recall"] * pw["true_pairs"]
        pp += pw["predicted_pairs"]
        tt += pw["true_pairs"]
        b3 += bcubed({r: predicted[r] for r in sel}, {r: truth[r] for r in sel})["f1"] * len(sel)
    precision, recall = (tp / pp if pp else 1.0), (tp / tt if tt else 1.0)
    out: dict[str, Any] = {
        "records": len(records),
        "entities": records["entity"].nunique(),
        "model": model.trained_on,
        "seconds": seconds,
        "parts": parts,
        "bcubed_f1": b3 / len(records),
        "pairwise": {
            "precision": precision,
            "recall": recall,
            "true_pairs": int(tt),
            "predicted_pairs": int(pp),
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        },
    }
    # Recall on the true pairs that share no identifier value: what the names and addresses alone must find.
    by_entity: dict[str, list[str]] = {}
    for r, e in truth.items():
        by_entity.setdefault(e, []).append(r)
    hard = found = 0
    for members in by_entity.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                ka, kb = keys.get(a, {}), keys.get(b, {})
                if any(ka[k] == kb.get(k) for k in ka):
                    continue
                hard += 1
                found += predicted[a] == predicted[b]
    out["name_only"] = {"true_pairs": hard, "recall": found / hard if hard else 1.0}
    return out


def render(result: dict[str, Any]) -> str:
    """A Markdown section with the figures."""
    p = result["pairwise"]
    lines = [
        "## Real labelled set",
        "",
        f"{result['records']:,} real company records of {result['entities']:,} legal entities "
        "(see `pipelines/bench/realset.py` for origin and licences); model trained on "
        f"{result['model']}; {result['seconds']:.1f} s.",
        "",
        "| | all pairs | pairs sharing no identifier |",
        "|---|---|---|",
        f"| true pairs | {p['true_pairs']:,} | {result['name_only']['true_pairs']:,} |",
        f"| pairwise precision | {p['precision']:.4f} | |",
        f"| pairwise recall | {p['recall']:.4f} | {result['name_only']['recall']:.4f} |",
        f"| pairwise F1 | {p['f1']:.4f} | |",
        f"| B-cubed F1 | {result['bcubed_f1']:.4f} | |",
        "",
        "| part | records | true pairs | precision | recall | F1 |",
        "|---|---|---|---|---|---|",
    ]
    for part, r in result["parts"].items():
        q = r["pairwise"]
        lines.append(
            f"| {part} | {r['records']:,} | {q['true_pairs']:,} | {q['precision']:.4f} | {q['recall']:.4f} "
            f"| {q['f1']:.4f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pipelines.bench.realset", description=__doc__.split("\n")[0])
    parser.add_argument("--realdata", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "realdata")
    args = parser.parse_args(argv)
    print(render(evaluate(load(args.realdata))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
