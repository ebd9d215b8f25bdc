"""``generate``: build the sample world block by block and write every source of it."""

from __future__ import annotations

import csv
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from pipelines.adapters.crm_contract import CUSTOMERS
from pipelines.errors import MdmError
from pipelines.marts import DEFAULT_FX_RATES
from pipelines.sample.churn import TRUTH_COLUMNS
from pipelines.sample.crm import crm_accounts, crm_customer
from pipelines.sample.crm_db import _Sqlite
from pipelines.sample.entities import Entity
from pipelines.sample.gleif import CONTENT_DATE, gleif_record, rr_record
from pipelines.sample.mdm_yaml import MDM_YAML
from pipelines.sample.registers import CH_HEADER, CN_HEADER, ch_row, cn_row
from pipelines.sample.sec import NUM_HEADER, SUB_HEADER, sec_rows
from pipelines.sample.world import World

BLOCK_ENTITIES = 2000  # entities generated, shuffled and written per block
_OPENED_ON = CUSTOMERS.names.index("opened_on")  # position in a customers row


def _blocks(world: World, entities: int) -> Iterator[list[Entity]]:
    """Whole groups, ``BLOCK_ENTITIES`` entities at a time, until ``entities`` exist."""
    block: list[Entity] = []
    while world.next_idx < entities:
        block.extend(world.group(entities - world.next_idx))
        if len(block) >= BLOCK_ENTITIES:
            yield block
            block = []
    if block:
        yield block


def _write_xml(path: Path, body: Path, head: str, count: int, tail: str) -> None:
    """Assemble an XML file: header (with the record count known only now), streamed body, tail."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(head.replace("{COUNT}", str(count)))
        with body.open("r", encoding="utf-8", newline="\n") as src:
            shutil.copyfileobj(src, out, 1 << 20)
        out.write(tail)
    body.unlink()


class OutputFolderNotEmpty(MdmError):
    """The sample's folder already holds files that generating would overwrite."""


def check_output_folder(out: Path) -> None:
    """Refuse an existing ``out`` that is not an empty folder (its config and databases would be overwritten)."""
    if out.exists() and not out.is_dir():
        raise OutputFolderNotEmpty(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise OutputFolderNotEmpty(
            f"{out} is not empty: generating a sample there would overwrite its mdm.yaml, databases and source "
            "files. Choose a new or empty folder, or pass --force to overwrite."
        )


def generate(out: Path, entities: int, seed: int = 0, force: bool = False) -> dict[str, int]:
    """Write the sample world of ``entities`` legal entities into ``out``; return record counts.

    ``out`` must be new or empty (:class:`OutputFolderNotEmpty` otherwise) unless ``force``: then the sample's
    files there are overwritten and other files are left alone.

    Counts: ``entities``, ``groups``, one per source of organisation records (``gleif``,
    ``cn_registry``, ``uk_registry``, ``sec`` = distinct CIKs, ``crm`` = customers rows), and
    ``gleif_rr``, ``sec_filings``, ``sec_facts``, ``crm_duplicates``, ``crm_accounts``, ``crm_balances``,
    ``crm_declines`` (customers made to decline, in ``churn_truth.csv``).
    """
    if entities < 1:
        raise ValueError("entities must be at least 1")
    out = Path(out)
    if not force:
        check_output_folder(out)
    for sub in ("registry", "financials", "internal"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    world = World(rng)
    counts = dict.fromkeys(
        (
            "entities",
            "groups",
            "gleif",
            "gleif_rr",
            "cn_registry",
            "uk_registry",
            "sec",
            "sec_filings",
            "sec_facts",
            "crm",
            "crm_duplicates",
            "crm_accounts",
            "crm_balances",
            "crm_declines",
        ),
        0,
    )
    lei_body = out / "registry" / ".gleif_lei2.body"
    rr_body = out / "registry" / ".gleif_rr.body"
    db = _Sqlite(out / "internal" / "crm.sqlite")
    with (
        lei_body.open("w", encoding="utf-8", newline="\n") as f_lei,
        rr_body.open("w", encoding="utf-8", newline="\n") as f_rr,
        (out / "registry" / "cn_registry.csv").open("w", encoding="utf-8", newline="") as f_cn,
        (out / "registry" / "uk_basiccompany.csv").open("w", encoding="utf-8", newline="") as f_ch,
        (out / "financials" / "sub.txt").open("w", encoding="utf-8", newline="") as f_sub,
        (out / "financials" / "num.txt").open("w", encoding="utf-8", newline="") as f_num,
        (out / "truth.csv").open("w", encoding="utf-8", newline="") as f_truth,
        (out / "churn_truth.csv").open("w", encoding="utf-8", newline="") as f_churn,
    ):
        w_cn = csv.writer(f_cn, lineterminator="\r\n")
        w_cn.writerow(CN_HEADER)
        f_ch.write(CH_HEADER + "\n")
        w_ch = csv.writer(f_ch, quoting=csv.QUOTE_ALL, lineterminator="\n")
        w_sub = csv.writer(f_sub, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n", escapechar=None)
        w_num = csv.writer(f_num, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n", escapechar=None)
        w_sub.writerow(SUB_HEADER)
        w_num.writerow(NUM_HEADER)
        w_truth = csv.writer(f_truth, lineterminator="\n")
        w_truth.writerow(("source", "source_id", "entity_id"))
        w_churn = csv.writer(f_churn, lineterminator="\n")
        w_churn.writerow(TRUTH_COLUMNS)
        for block in _blocks(world, entities):
            _emit_block(
                block,
                world,
                rng,
                counts,
                f_lei,
                f_rr,
                w_cn,
                w_ch,
                w_sub,
                w_num,
                w_truth,
                db,
                seed=seed,
                w_churn=w_churn,
            )
    db.close()
    lei_head = (
        '<?xml version="1.0" encoding="UTF-8"?><lei:LEIData xmlns:lei="http://www.gleif.org/data/schema/leidata/2016" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n  <lei:LEIHeader>\n'
        f"    <lei:ContentDate>{CONTENT_DATE}</lei:ContentDate>\n    <lei:FileContent>GLEIF_FULL_PUBLISHED</lei:FileContent>\n"
        "    <lei:RecordCount>{COUNT}</lei:RecordCount>\n  </lei:LEIHeader>\n  <lei:LEIRecords>\n"
    )
    _write_xml(
        out / "registry" / "gleif_lei2.xml",
        lei_body,
        lei_head,
        counts["gleif"],
        "  </lei:LEIRecords>\n</lei:LEIData>\n",
    )
    rr_head = (
        '<?xml version="1.0" encoding="UTF-8"?><rr:RelationshipData  xmlns:rr="http://www.gleif.org/data/schema/rr/2016" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">\n  <rr:Header>\n'
        f"    <rr:ContentDate>{CONTENT_DATE}</rr:ContentDate>\n    <rr:FileContent>GLEIF_FULL_PUBLISHED</rr:FileContent>\n"
        "    <rr:RecordCount>{COUNT}</rr:RecordCount>\n  </rr:Header>\n  <rr:RelationshipRecords>\n"
    )
    _write_xml(
        out / "registry" / "gleif_rr.xml",
        rr_body,
        rr_head,
        counts["gleif_rr"],
        "  </rr:RelationshipRecords>\n</rr:RelationshipData>\n",
    )
    (out / "mdm.yaml").write_text(MDM_YAML, encoding="utf-8")
    # Illustrative FX rates for the marts' reporting currency (see pipelines/data/README.md).
    shutil.copyfile(DEFAULT_FX_RATES, out / "fx_rates.csv")
    counts["entities"] = world.next_idx
    return counts


def _emit_block(
    block: list[Entity],
    world: World,
    rng: random.Random,
    counts: dict[str, int],
    f_lei: TextIO,
    f_rr: TextIO,
    w_cn: Any,
    w_ch: Any,
    w_sub: Any,
    w_num: Any,
    w_truth: Any,
    db: _Sqlite,
    seed: int = 0,
    w_churn: Any = None,
) -> None:
    """Write one block of entities to every source, each source's records in a shuffled order."""
    counts["groups"] += sum(1 for e in block if e.kind == "root")

    def shuffled(pred: Callable[[Entity], bool]) -> list[Entity]:
        chosen = [e for e in block if pred(e)]
        rng.shuffle(chosen)
        return chosen

    for e in shuffled(lambda e: "gleif" in e.sources):
        f_lei.write(gleif_record(e, rng))
        w_truth.writerow(("gleif", e.lei, e.entity_id))
        counts["gleif"] += 1
    for e in shuffled(lambda e: "gleif" in e.sources and e.parent is not None):
        parent, root = e.parent, e.root
        assert parent is not None and root is not None
        if parent.lei and "gleif" in parent.sources:
            f_rr.write(rr_record(e, parent, "IS_DIRECTLY_CONSOLIDATED_BY", rng))
            counts["gleif_rr"] += 1
        if root.lei and "gleif" in root.sources and (root is not parent or rng.random() < 0.7):
            f_rr.write(rr_record(e, root, "IS_ULTIMATELY_CONSOLIDATED_BY", rng))
            counts["gleif_rr"] += 1
    for e in shuffled(lambda e: "cn_registry" in e.sources):
        w_cn.writerow(cn_row(e, rng))
        w_truth.writerow(("cn_registry", e.uscc, e.entity_id))
        counts["cn_registry"] += 1
    for e in shuffled(lambda e: "uk_registry" in e.sources):
        w_ch.writerow(ch_row(e, rng))
        w_truth.writerow(("uk_registry", e.ch_number, e.entity_id))
        counts["uk_registry"] += 1
    for e in shuffled(lambda e: "sec" in e.sources):
        subs, nums = sec_rows(e, rng)
        w_sub.writerows(subs)
        w_num.writerows(nums)
        w_truth.writerow(("sec", e.cik, e.entity_id))
        counts["sec"] += 1
        counts["sec_filings"] += len(subs)
        counts["sec_facts"] += len(nums)
    crm: list[tuple[Entity, bool]] = []
    for e in block:
        if "crm" in e.sources:
            crm.append((e, False))
            if rng.random() < 0.03:
                crm.append((e, True))
    rng.shuffle(crm)
    for e, dup in crm:
        sid = f"CUST{world.ids.next('crm'):08d}"
        row = crm_customer(e, sid, rng)
        db.add("customers", [row])
        w_truth.writerow(("crm", sid, e.entity_id))
        counts["crm"] += 1
        counts["crm_duplicates"] += dup
        accounts, balances, declines = crm_accounts(e, sid, row[_OPENED_ON], world.ids, rng, seed)
        if w_churn is not None:
            w_churn.writerows(("crm", sid, e.entity_id, reason, month) for reason, month in declines)
        counts["crm_declines"] += bool(declines)
        db.add("accounts", accounts)
        db.add("balances", balances)
        counts["crm_accounts"] += len(accounts)
        counts["crm_balances"] += len(balances)
