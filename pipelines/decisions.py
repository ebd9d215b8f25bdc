"""Steward decisions read from CSV files named in the config.

- ``matching.decisions``: ``source_a, source_id_a, source_b, source_id_b, decision`` with decision
  ``match`` or ``no_match``; a later line about the same pair overrides an earlier one (append-only).
- ``survivorship.overrides``: ``golden_id, attribute, value, steward, decided_at``; the latest decision
  per golden id and attribute beats every survivorship rule.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pipelines.errors import SourceError

COLUMNS = ("source_a", "source_id_a", "source_b", "source_id_b", "decision")
VALUES = {"match": True, "no_match": False}


def _records(path: Path, columns: tuple[str, ...], what: str, source: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) of a steward CSV, after checking its header; unreadable files become a SourceError."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise SourceError(f"{what} need columns {', '.join(missing)}", source=source, file=str(path), line=1)
            for rec in reader:
                yield reader.line_num, rec
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SourceError(f"cannot read {what}: {e}", source=source, file=str(path)) from None


def read_decisions(path: Path | None) -> pd.DataFrame:
    """(rid_a, rid_b, is_match) with rid_a < rid_b, one row per pair (the last decision wins)."""
    if path is None:
        return pd.DataFrame(columns=["rid_a", "rid_b", "is_match"])
    rows: dict[tuple[str, str], bool] = {}
    for line, rec in _records(path, COLUMNS, "steward decisions", "decisions"):
        decision = (rec["decision"] or "").strip().lower()
        if decision not in VALUES:
            raise SourceError(
                f"decision must be match or no_match, not {rec['decision']!r}",
                source="decisions",
                file=str(path),
                line=line,
            )
        a = f"{rec['source_a'].strip()}:{rec['source_id_a'].strip()}"
        b = f"{rec['source_b'].strip()}:{rec['source_id_b'].strip()}"
        if a == b:
            raise SourceError(
                "a decision needs two different records", source="decisions", file=str(path), line=line, key=a
            )
        rows[(min(a, b), max(a, b))] = VALUES[decision]
    return pd.DataFrame([(a, b, m) for (a, b), m in sorted(rows.items())], columns=["rid_a", "rid_b", "is_match"])


OVERRIDE_COLUMNS = ("golden_id", "attribute", "value", "steward", "decided_at")


def read_overrides(path: Path | None) -> pd.DataFrame | None:
    """Steward overrides of golden attributes, or None without a file."""
    if path is None:
        return None
    from mdm.survivorship import ATTRIBUTES

    rows = []
    for line, rec in _records(path, OVERRIDE_COLUMNS, "steward overrides", "overrides"):
        if rec["attribute"] not in ATTRIBUTES:
            raise SourceError(
                f"unknown golden attribute {rec['attribute']!r}",
                source="overrides",
                file=str(path),
                line=line,
                key=rec["golden_id"],
            )
        if not (rec["value"] or "").strip():
            raise SourceError(
                "an override needs a value", source="overrides", file=str(path), line=line, key=rec["golden_id"]
            )
        rows.append({c: rec[c] for c in OVERRIDE_COLUMNS})
    return pd.DataFrame(rows, columns=list(OVERRIDE_COLUMNS))
