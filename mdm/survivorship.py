"""Survivorship: one golden value per attribute per cluster, with lineage.

Which record's value survives is data, not code: a :class:`SurvivorshipSpec` gives every golden attribute
an ordered list of rules (:data:`RULES`). The candidates of an attribute in a cluster are the records that
have a non-blank value for it (nulls and blank strings never win). Each rule ranks the candidates still
in play and keeps the best ones; a rule that cannot decide (a tie, or no data such as a missing
``updated_at``) passes them on to the next rule, and a final tie-break by ``rid`` makes the result
deterministic. Steward overrides beat every rule.

The lineage names, for every golden value, the record it came from and the rule that decided it: the
first rule after which every remaining candidate carries the same value (compared after trimming and
case-folding), ``tie_break`` when only the rid order separated them, or ``steward_override``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from mdm.survivorship_spec import (
    ATTRIBUTES,
    DEFAULT_SPEC,
    GOLDEN_COLUMNS,
    LINEAGE_COLUMNS,
    MOST_COMPLETE,
    MOST_FREQUENT,
    MOST_RECENT,
    OVERRIDE_COLUMNS,
    RECORD_COLUMNS,
    RULES,
    SOURCE_PRIORITY,
    STEWARD_OVERRIDE,
    TIE_BREAK,
    AttributeRule,
    SurvivorshipSpec,
    spec_from_config,
)

__all__ = [
    "ATTRIBUTES",
    "DEFAULT_SPEC",
    "GOLDEN_COLUMNS",
    "LINEAGE_COLUMNS",
    "MOST_COMPLETE",
    "MOST_FREQUENT",
    "MOST_RECENT",
    "OVERRIDE_COLUMNS",
    "RECORD_COLUMNS",
    "RULES",
    "SOURCE_PRIORITY",
    "STEWARD_OVERRIDE",
    "TIE_BREAK",
    "AttributeRule",
    "SurvivorshipSpec",
    "spec_from_config",
    "survive",
]


@dataclass
class _Column:
    """One attribute column as codes into its distinct values (-1: no value), with the trimmed,
    case-folded value codes used by most_frequent and by the decided-value check."""

    codes: np.ndarray  # per record: index into values, -1 when null or blank
    values: np.ndarray  # distinct values (object)
    text: np.ndarray  # str() of each distinct value, for the lineage
    norm: np.ndarray  # per distinct value: code of its normalised form

    @classmethod
    def of(cls, series: pd.Series) -> _Column:
        codes, uniques = pd.factorize(series)
        values = np.asarray(uniques, dtype=object)
        text = (
            values
            if pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty")
            else np.array([str(v) for v in values], dtype=object)
        )
        folded = np.array([t.strip().casefold() for t in text], dtype=object)
        blank = folded == ""
        if blank.any():
            codes = np.where((codes >= 0) & blank[np.maximum(codes, 0)], -1, codes)
        return cls(codes, values, text, pd.factorize(folded)[0])


def survive(
    records: pd.DataFrame,
    priority: Mapping[str, float],
    spec: SurvivorshipSpec = DEFAULT_SPEC,
    overrides: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Golden records and their lineage.

    records: standardised records with ``golden_id``. priority: source name -> rank (lower wins).
    overrides: steward decisions (golden_id, attribute, value, steward, decided_at) that beat every rule;
    the latest decision per golden_id and attribute counts, and decisions on golden ids absent from
    ``records`` are ignored.

    Returns (golden: one row per golden_id, columns :data:`GOLDEN_COLUMNS`, sorted by golden_id;
    lineage: one row per golden attribute that has a value, columns :data:`LINEAGE_COLUMNS`, sorted by
    golden_id and attribute; ``candidates`` is the number of the cluster's records with a value).
    """
    missing = [c for c in (*RECORD_COLUMNS, *ATTRIBUTES.values()) if c not in records.columns]
    if missing:
        raise ValueError(f"survive: records lack columns {missing}")
    n = len(records)
    gid_codes, gid_values = pd.factorize(records["golden_id"], sort=True)
    if (gid_codes < 0).any():
        raise ValueError("survive: records without a golden_id")
    gids = np.asarray(gid_values, dtype=object)
    n_golden = len(gids)
    rid_rank, _ = pd.factorize(records["rid"], sort=True)
    if (rid_rank < 0).any():
        raise ValueError("survive: records without a rid")
    src_codes, src_values = pd.factorize(records["source"].fillna(""), sort=True)
    sources = np.asarray(src_values, dtype=object)
    formats = records["source_format"].to_numpy(dtype=object)
    source_ids = records["source_id"].to_numpy(dtype=object)
    rids = records["rid"].to_numpy(dtype=object)
    columns = {attr: _Column.of(records[col]) for attr, col in ATTRIBUTES.items()}
    ctx = _Keys(src_codes, sources, formats, priority, columns, records["updated_at"])

    golden: dict[str, Any] = {"golden_id": gids}
    over = _latest_overrides(overrides, gids)
    # Lineage rows are kept as integer codes (into texts, names, records) until the final gather.
    attr_names = sorted(ATTRIBUTES)
    rule_names = [*RULES, TIE_BREAK, STEWARD_OVERRIDE]
    texts: list[np.ndarray] = []  # every attribute's distinct values as text, then the overrides' values
    names: list[np.ndarray] = [sources]  # source names, then the overriding stewards
    n_text, n_names = 0, len(sources)
    # per attribute: (cluster, attribute, text, name, record (n: none), rule, candidates) of each lineage row
    parts: list[tuple[np.ndarray, ...]] = []
    for attr in ATTRIBUTES:
        col, rule = columns[attr], spec.rule_for(attr)
        rows = np.flatnonzero(col.codes >= 0)
        win_g, win_row, decided_by, cand = _decide(rule, rows, gid_codes[rows], col, ctx, rid_rank[rows])
        out = np.full(n_golden, None, dtype=object)
        out[win_g] = col.values[col.codes[win_row]]
        rule_code = np.array([rule_names.index(r) for r in (*rule.rules, TIE_BREAK)])[decided_by]
        part = (win_g, n_text + col.codes[win_row], src_codes[win_row], win_row, rule_code, cand)
        texts.append(col.text)
        n_text += len(col.text)
        if attr in over:  # the steward's value replaces the rule's, with its own lineage row
            og, ovalue, osteward = over[attr]
            n_cand = np.zeros(n_golden, dtype=np.int64)
            n_cand[win_g] = cand
            keep = ~np.isin(win_g, og)
            seq = np.arange(len(og))
            extra = (
                og,
                n_text + seq,
                n_names + seq,
                np.full(len(og), n),
                np.full(len(og), len(rule_names) - 1),
                n_cand[og],
            )
            part = tuple(np.concatenate([p[keep], e]) for p, e in zip(part, extra))
            out[og] = ovalue
            texts.append(ovalue)
            names.append(osteward)
            n_text, n_names = n_text + len(og), n_names + len(og)
        golden[attr] = out
        parts.append((part[0], np.full(len(part[0]), attr_names.index(attr)), *part[1:]))

    golden["record_count"] = np.bincount(gid_codes, minlength=n_golden).astype(np.int64)
    golden["source_count"], golden["sources"] = _cluster_sources(gid_codes, n_golden, src_codes, sources)

    g, attr_code, text, name, row, rule_code, cand = (np.concatenate(c) for c in zip(*parts))
    order = np.lexsort((attr_code, g))
    none = np.array([None], dtype=object)
    lineage = pd.DataFrame(
        {
            "golden_id": gids[g[order]],
            "attribute": np.array(attr_names, dtype=object)[attr_code[order]],
            "value": np.concatenate(texts)[text[order]],
            "source": np.concatenate(names)[name[order]],
            "source_id": np.concatenate([source_ids, none])[row[order]],
            "rid": np.concatenate([rids, none])[row[order]],
            "rule": np.array(rule_names, dtype=object)[rule_code[order]],
            "candidates": cand[order].astype(np.int64),
        }
    )
    return pd.DataFrame(golden, columns=list(GOLDEN_COLUMNS)), lineage


def _cluster_sources(
    gid_codes: np.ndarray, n_golden: int, src_codes: np.ndarray, sources: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster: the number of distinct sources, and their names sorted and joined with commas."""
    pairs = np.unique(gid_codes.astype(np.int64) * len(sources) + src_codes)
    pair_g, pair_s = pairs // max(len(sources), 1), pairs % max(len(sources), 1)
    names = sources[pair_s].tolist()
    bounds = np.searchsorted(pair_g, np.arange(n_golden + 1)).tolist()
    joined = np.array([",".join(names[a:b]) for a, b in pairwise(bounds)], dtype=object)
    return np.bincount(pair_g, minlength=n_golden).astype(np.int64), joined


class _Keys:
    """Per-record sort keys of the rules (lower is better), computed once per run and shared by attributes."""

    def __init__(
        self,
        src_codes: np.ndarray,
        sources: np.ndarray,
        formats: np.ndarray,
        priority: Mapping[str, float],
        columns: Mapping[str, _Column],
        updated_at: pd.Series,
    ) -> None:
        self.src_codes, self.sources, self.formats, self.priority = src_codes, sources, formats, priority
        self._by_priority: dict[tuple[object, ...], list[np.ndarray]] = {}
        # most_recent: minus the instant of the update; records without a (parseable) one come last.
        codes, uniques = pd.factorize(updated_at)
        stamps = pd.to_datetime(
            pd.Index(np.asarray(uniques, dtype=object)), format="ISO8601", errors="coerce", utc=True
        )
        never = np.iinfo(np.int64).max
        per_value = np.where(stamps.isna(), never, -stamps.tz_localize(None).to_numpy().view(np.int64))
        self.recency = np.where(codes >= 0, per_value[np.maximum(codes, 0)] if len(per_value) else never, never)
        # most_complete: minus the number of golden attributes the record has a value for.
        self.completeness = np.asarray(-np.sum([c.codes >= 0 for c in columns.values()], axis=0, dtype=np.int64))

    def source_priority(self, rule: AttributeRule) -> list[np.ndarray]:
        """(not of a preferred format, source rank) per record, under the rule's priority override."""
        key = (tuple(sorted(rule.priority.items())), rule.prefer_formats)
        if key not in self._by_priority:
            prio = {**self.priority, **rule.priority}
            rank = np.array([float(prio.get(s, np.inf)) for s in self.sources], dtype=float)[self.src_codes]
            keys = [rank]
            if rule.prefer_formats:
                keys.insert(0, (~pd.Series(self.formats).isin(rule.prefer_formats).to_numpy()).astype(np.int8))
            self._by_priority[key] = keys
        return self._by_priority[key]


def _decide(
    rule: AttributeRule, rows: np.ndarray, g: np.ndarray, col: _Column, ctx: _Keys, rid_rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The winning record of each cluster among the candidate ``rows`` (records with a value).

    Returns (cluster code, winning record, deciding rule as an index into ``(*rule.rules, TIE_BREAK)``,
    number of candidates), one entry per cluster that has a candidate, in no particular order. A lone
    candidate wins without sorting (decided by the first rule).
    """
    single = np.bincount(g)[g] == 1
    win_g, win_row = [g[single]], [rows[single]]
    decided_by, candidates = [np.zeros(len(win_g[0]), dtype=np.int64)], [np.ones(len(win_g[0]), dtype=np.int64)]
    rows, g, rid_rank = rows[~single], g[~single], rid_rank[~single]
    if len(rows):
        norm = col.norm[col.codes[rows]]
        rule_keys: list[list[np.ndarray]] = []
        for kind in rule.rules:
            if kind == SOURCE_PRIORITY:
                rule_keys.append([k[rows] for k in ctx.source_priority(rule)])
            elif kind == MOST_RECENT:
                rule_keys.append([ctx.recency[rows]])
            elif kind == MOST_COMPLETE:
                rule_keys.append([ctx.completeness[rows]])
            else:  # MOST_FREQUENT: minus the number of the cluster's candidates sharing the normalised value
                pair = g.astype(np.int64) * (int(norm.max()) + 1) + norm
                _, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
                rule_keys.append([-np.asarray(counts)[inverse]])
        flat = [k for keys in rule_keys for k in keys]
        order = np.lexsort((rid_rank, *reversed(flat), g))
        g_sorted, norm_sorted = g[order], norm[order]
        new_group = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
        starts, group = np.flatnonzero(new_group), np.cumsum(new_group) - 1
        # The deciding rule: the first after which every candidate tied with the winner has the winner's value.
        tied = np.ones(len(order), dtype=bool)
        differs = norm_sorted != norm_sorted[starts][group]
        undecided = np.zeros(len(starts), dtype=np.int64)
        for keys in rule_keys:
            for k in keys:
                ks = k[order]
                tied &= ks == ks[starts][group]
            undecided += np.add.reduceat((tied & differs).astype(np.int64), starts) > 0
        win_g.append(g_sorted[starts])
        win_row.append(rows[order[starts]])
        decided_by.append(undecided)
        candidates.append(np.diff(np.r_[starts, len(order)]))
    out_g, out_row, out_rule, out_n = (
        np.concatenate(x).astype(np.int64) for x in (win_g, win_row, decided_by, candidates)
    )
    return out_g, out_row, out_rule, out_n


def _latest_overrides(
    overrides: pd.DataFrame | None, gids: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """attribute -> (cluster codes, values, stewards) of the latest steward decision per golden attribute."""
    if overrides is None or overrides.empty:
        return {}
    missing = [c for c in OVERRIDE_COLUMNS if c not in overrides.columns]
    if missing:
        raise ValueError(f"survive: overrides lack columns {missing}")
    ov = overrides[list(OVERRIDE_COLUMNS)]
    unknown = sorted(set(ov["attribute"]) - set(ATTRIBUTES), key=str)
    if unknown:
        raise ValueError(f"survive: overrides name unknown attributes {unknown}")
    blank = ov["value"].isna() | (ov["value"].astype(str).str.strip() == "")
    if blank.any():
        first = ov[blank].iloc[0]
        raise ValueError(
            f"survive: override of {first['attribute']!r} for {first['golden_id']!r} by "
            f"{first['steward']!r} has no value"
        )
    g = pd.Index(gids).get_indexer(pd.Index(ov["golden_id"]))
    ov = ov.assign(_g=g)[g >= 0].astype({"value": str, "steward": str, "decided_at": str})
    ov = ov.sort_values(["attribute", "_g", "decided_at", "steward", "value"]).drop_duplicates(
        ["attribute", "_g"], keep="last"
    )
    return {
        str(a): (f["_g"].to_numpy(np.int64), f["value"].to_numpy(object), f["steward"].to_numpy(object))
        for a, f in ov.groupby("attribute", sort=False)
    }
