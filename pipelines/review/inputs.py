"""What the run takes from steward decisions: one call, :func:`decision_inputs`.

It combines the live decisions of the control store with the legacy CSV files of the config
(``matching.decisions``, ``survivorship.overrides``) whose rows were not imported yet, in the shapes the
run used for the CSVs: pairs (rid_a, rid_b, is_match) for training labels, must-links and cannot-links,
and overrides (golden_id, attribute, value, steward, decided_at) for survivorship. The legacy rows count
as decisions made before any stored one. ``mdm review import`` moves them into the store once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mdm import decisions as dm
from mdm.survivorship import OVERRIDE_COLUMNS
from pipelines import control
from pipelines.config import Config
from pipelines.decisions import COLUMNS, VALUES, _records
from pipelines.decisions import OVERRIDE_COLUMNS as CSV_OVERRIDE_COLUMNS
from pipelines.errors import SourceError
from pipelines.review import store

LIVE_COLUMNS = (
    "decision_id",
    "kind",
    "rid_a",
    "rid_b",
    "golden_id",
    "attribute",
    "value",
    "item_id",
    "subject_item_id",
    "user_name",
    "decided_at",
    "reason",
)


@dataclass
class DecisionInputs:
    pairs: pd.DataFrame  # rid_a < rid_b, is_match: live match (True), no-match and split (False)
    overrides: pd.DataFrame | None  # OVERRIDE_COLUMNS, one live override per golden id and attribute
    live: pd.DataFrame  # LIVE_COLUMNS, one row per live decision and review item it answers
    pairs_fingerprint: str  # digest of the live pairs: for the match stage's fingerprint
    overrides_fingerprint: str  # digest of the live overrides: for the survive stage's fingerprint


def _key(kind: str, path: Path, line: int, row: dict[str, str]) -> str:
    text = "\x1f".join([kind, str(line), *(f"{k}={(v or '').strip()}" for k, v in sorted(row.items()))])
    return hashlib.sha256(text.encode()).hexdigest()


def legacy_drafts(config: Config, user: str = "legacy-csv") -> list[tuple[int, store.Draft]]:
    """(line, draft) of every row of the config's legacy decision and override CSVs, in file order (a
    later line wins, as it did when the run read the files). Bad rows raise SourceError as before."""
    out: list[tuple[int, store.Draft]] = []
    path = config.matching.decisions
    if path is not None:
        for line, rec in _records(path, COLUMNS, "steward decisions", "decisions"):
            verdict = (rec["decision"] or "").strip().lower()
            a = f"{(rec['source_a'] or '').strip()}:{(rec['source_id_a'] or '').strip()}"
            b = f"{(rec['source_b'] or '').strip()}:{(rec['source_id_b'] or '').strip()}"
            if verdict not in VALUES:
                raise SourceError(
                    f"decision must be match or no_match, not {rec['decision']!r}",
                    source="decisions",
                    file=str(path),
                    line=line,
                )
            kind = "match" if VALUES[verdict] else "no_match"
            out.append(
                (
                    line,
                    store.Draft(
                        kind=kind,
                        rid_a=a,
                        rid_b=b,
                        user=user,
                        origin="import",
                        reason=f"imported from {path.name} line {line}",
                        import_key=_key("decisions", path, line, rec),
                    ),
                )
            )
    path = config.survivorship.overrides
    if path is not None:
        rows = list(_records(path, CSV_OVERRIDE_COLUMNS, "steward overrides", "overrides"))
        # The run took the latest decided_at per golden attribute: that order is the seq order.
        for line, rec in sorted(rows, key=lambda x: ((x[1]["decided_at"] or ""), x[0])):
            out.append(
                (
                    line,
                    store.Draft(
                        kind="override",
                        golden_id=(rec["golden_id"] or "").strip(),
                        attribute=(rec["attribute"] or "").strip(),
                        value=rec["value"],
                        user=(rec["steward"] or "").strip() or user,
                        origin="import",
                        decided_at=(rec["decided_at"] or "").strip() or None,
                        reason=f"imported from {path.name} line {line}",
                        import_key=_key("overrides", path, line, rec),
                    ),
                )
            )
    return out


def _pending(config: Config, imported: set[str]) -> list[dm.Decision]:
    """The legacy rows not imported yet, as decisions before every stored one (negative seq)."""
    rows = [d for _, d in legacy_drafts(config) if d.import_key not in imported]
    return [d.decision(seq=i - len(rows)) for i, d in enumerate(rows)]


def all_decisions(config: Config) -> list[dm.Decision]:
    """The stored decisions and the legacy CSV rows not imported yet, in seq order."""
    stored: list[dm.Decision] = []
    imported: set[str] = set()
    if control.control_path(config.warehouse).exists():
        con = control.connect(config.warehouse)
        try:
            stored, imported = store.load(con), store.import_keys(con)
        finally:
            con.close()
    return [*_pending(config, imported), *stored]


@dataclass
class ImportReport:
    added: list[dm.Decision]
    already: int  # rows imported before
    refused: list[tuple[str, int, str]]  # (file, line, why)


def import_legacy(config: Config, user: str = "legacy-csv") -> ImportReport:
    """Append the rows of the legacy CSVs not imported yet to the store, each validated like a decision
    made now (a refused row is reported with its file and line and stays out). Idempotent."""
    with store.published(config):
        pass  # refuse at once without a published warehouse (rows are checked against it)
    con = control.connect(config.warehouse)
    try:
        imported = store.import_keys(con)
    finally:
        con.close()
    added: list[dm.Decision] = []
    refused: list[tuple[str, int, str]] = []
    already = 0
    for line, draft in legacy_drafts(config, user):
        if draft.import_key in imported:
            already += 1
            continue
        path = config.matching.decisions if draft.kind != "override" else config.survivorship.overrides
        try:
            added.append(store.record(config, draft))
        except store.DecisionError as e:
            refused.append((str(path), line, str(e)))
    return ImportReport(added, already, refused)


def live_frame(res: dm.Resolution) -> pd.DataFrame:
    rows = []
    for d in res.live:
        for item in sorted(d.answered_items()):
            rows.append(
                (
                    d.id,
                    d.kind,
                    d.rid_a,
                    d.rid_b,
                    d.golden_id,
                    d.attribute,
                    d.value,
                    d.item_id,
                    item,
                    d.user,
                    d.decided_at,
                    d.reason,
                )
            )
    return pd.DataFrame(rows, columns=list(LIVE_COLUMNS)).astype(object)


def decision_inputs(config: Config) -> DecisionInputs:
    """Everything the run takes from steward decisions (see the module doc)."""
    res = dm.resolve(all_decisions(config))
    pairs = pd.DataFrame(
        [(a, b, True) for a, b in res.must_link] + [(a, b, False) for a, b in res.cannot_link],
        columns=["rid_a", "rid_b", "is_match"],
    )
    pairs = pairs.sort_values(["rid_a", "rid_b"]).reset_index(drop=True)
    overrides = None
    if res.overrides:
        overrides = pd.DataFrame(
            [(d.golden_id, d.attribute, d.value, d.user, d.decided_at) for d in res.overrides],
            columns=list(OVERRIDE_COLUMNS),
        )
    fp_pairs, fp_overrides = dm.fingerprint(res)
    return DecisionInputs(pairs, overrides, live_frame(res), fp_pairs, fp_overrides)


def live_decisions_frame(config: Config) -> pd.DataFrame:
    """The live decisions for the run's ``steward_decision_live`` table (LIVE_COLUMNS)."""
    return decision_inputs(config).live
