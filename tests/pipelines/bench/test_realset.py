"""The real labelled set (pipelines.bench.realset): built from public files in place and one hand-made file,
labelled by entity, scored with the pipeline's own matching."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from stdnum.ru import inn, ogrn

from pipelines.bench import realset
from pipelines.bench.report import write_report


def test_the_hand_made_file_holds_real_identifier_formats_and_siblings() -> None:
    with realset.HAND_MADE.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len({(r["source"], r["source_id"]) for r in rows}) == len(rows)
    ru = [r["registration_number"] for r in rows if r["country"] == "RU" and r["registration_number"]]
    assert ru and all(ogrn.is_valid(v) or inn.is_valid(v) for v in ru)
    # Several scripts, and companies of one group that are different legal entities.
    text = "".join(r["name"] for r in rows)
    for script_sample in ("Сбербанк", "Нафтогаз", "中国银行", "トヨタ", "삼성전자", "أرامكو"[:3], "Τράπεζα"):
        assert script_sample in text
    entities = Counter(r["entity"] for r in rows)
    assert {"GAZPROM", "GAZPROMNEFT", "TOYOTA", "TOYOTA-TSUSHO", "SIEMENS", "SIEMENS-ENERGY"} <= set(entities)


def test_the_set_reads_public_files_in_place_and_never_the_chinese_register(realdata: Path) -> None:
    records = realset.load(realdata)
    parts = Counter(records["part"])
    assert set(parts) == {"gleif", "sec", "german_register", "name_pairs", "multi_script"}
    # GLEIF: every one of the 577 LEI records, plus a bank record per record with another name (recounted).
    assert (records[records["part"] == "gleif"]["source"] == "gleif").sum() == 577
    assert (records["source"] + records["source_id"]).is_unique
    assert "cn_registry_csv" not in set(records["source_format"])
    # Each German company taken for its previous name has its bank record under that name.
    de = records[records["part"] == "german_register"]
    assert (de["source"] == "bank").sum() == realset.DE_COMPANIES


def test_scores_are_within_part_pairwise_counts(realdata: Path) -> None:
    result = realset.evaluate(realset.load(realdata))
    p = result["pairwise"]
    assert 0 < p["recall"] <= 1 and 0 < p["precision"] <= 1
    # The overall true pairs are the sum of each part's (pairs across parts are not scored).
    assert p["true_pairs"] == sum(r["pairwise"]["true_pairs"] for r in result["parts"].values())
    # Register numbers keep German near-namesakes apart: no false merge in that part.
    assert result["parts"]["german_register"]["pairwise"]["precision"] == 1.0
    # Sberbank in Russian, with its INN (another scheme than the register's OGRN), and in Latin letters meet.
    assert result["name_only"]["true_pairs"] > 0


def test_the_real_section_replaces_itself_in_the_report(tmp_path: Path) -> None:
    report = tmp_path / "b.md"
    write_report(report, "## N = 300 entities\n\nx\n", 300)
    write_report(report, "## Real labelled set\n\nfirst\n")
    write_report(report, "## Real labelled set\n\nsecond\n")
    text = report.read_text(encoding="utf-8")
    assert text.count("## Real labelled set") == 1 and "second" in text and "first" not in text
    assert "## N = 300 entities" in text


def test_evaluate_counts_pairs_within_each_part() -> None:
    cols = ["entity", "source", "source_id", "source_format", "name", "country", "part"]
    rows = [
        ("A", "x", "1", "sql", "Baltic Amber Trading Corporation", "LV", "name_pairs"),
        ("A", "y", "1", "sql", "Baltic Amber Trading Corp.", "LV", "name_pairs"),
        ("B", "x", "2", "sql", "Baltic Granite Trading Corporation", "LV", "name_pairs"),
        ("C", "z", "1", "sql", "Baltic Amber Trading Corporation", "LV", "sec"),
    ]  # other part: not scored
    frame = pd.DataFrame(rows, columns=cols)
    for c in realset.ORGANIZATION:
        if c not in frame.columns:
            frame[c] = None
    result = realset.evaluate(frame.astype(object).where(frame.notna(), None))
    assert result["parts"]["name_pairs"]["pairwise"]["true_pairs"] == 1
    assert result["pairwise"]["true_pairs"] == 1


@pytest.mark.parametrize("part", ["gleif", "sec", "german_register", "name_pairs"])
def test_each_part_builder_labels_its_records(realdata: Path, part: str) -> None:
    rows = list(realset.PARTS[part](realdata))
    assert rows and all(r["entity"] and r["name"] for r in rows)
