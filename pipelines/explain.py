"""Why two source records were or were not matched: ``mdm explain``.

Reads the published warehouse (the records, the stored model ``match_model`` and name-token frequencies
``match_token_frequency``, the scored pair, the clusters) and decides the pair again with the code the run
decided it with (:func:`mdm.matching.decide_pair`), so the explanation is the run's own reasoning; steward
decisions (``matching.decisions``) that changed the outcome are named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from mdm import matching, name_tokens
from mdm.scoring import LEVELS, FellegiSunter
from mdm.standardise import ID_COLUMNS, IDENTITY_COLUMNS, identity_keys
from pipelines.config import Config
from pipelines.errors import MdmError
from pipelines.sandbox import open_readonly
from pipelines.warehouse import Warehouse

SHOWN = (
    "source",
    "source_id",
    "name",
    "name_en",
    "lei",
    "uscc",
    "registration_number",
    "country_iso",
    "city",
    "postal_code",
    "address",
    "legal_form_norm",
    "branch_flag",
    "invalid_ids",
    "golden_id",
)


@dataclass
class Explanation:
    rid_a: str
    rid_b: str
    records: pd.DataFrame  # the two records (SHOWN columns), indexed by rid
    candidate: bool  # compared by the run (blocking, a shared identifier, a steward)
    rule: str | None  # id:<scheme>, score, or None when never compared
    features: list[dict[str, Any]]  # feature, value, level, lower bound, weight
    prior: float
    score: float
    band: str
    thresholds: tuple[float, float]
    shared_keys: dict[str, str] = field(default_factory=dict)
    conflicting_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    same_cluster: bool = False
    steward: bool | None = None  # the steward's decision on the pair (True: match, False: no_match)
    steward_changed: bool = False  # it turned the outcome the model or identifiers gave
    stored: dict[str, Any] | None = None  # the pair's match_pair row (rule, score, band, run_id)
    verdict: str = ""


def parse_ref(ref: str) -> str:
    """'SOURCE:ID' -> rid (the id may itself contain colons)."""
    if ":" not in ref or ref.startswith(":") or ref.endswith(":"):
        raise MdmError(f"record reference {ref!r} must be SOURCE:ID, e.g. gleif:5493001KJTIIGC8Y1R12")
    return ref


def _identifier_rule(con: duckdb.DuckDBPyConnection, recs: pd.DataFrame, a: str, b: str) -> str | None:
    """The pair's identifier rule as the run's :func:`mdm.matching.deterministic_pairs` gives it, computed
    over every record sharing an identifier value with either record (the groups its links are drawn in)."""
    values = {c: [v for v in recs[c].tolist() if isinstance(v, str) and v] for c in ID_COLUMNS}
    values = {c: v for c, v in values.items() if v}
    if not values:
        return None
    # Column names are constants of mdm.standardise; the values are bound parameters.
    where = " OR ".join(f"list_contains(${c}, {c})" for c in values)
    ids = con.execute(
        f"SELECT {', '.join(IDENTITY_COLUMNS)} FROM organization_record WHERE {where} ORDER BY rid", values
    ).df()
    det = matching.deterministic_pairs(ids)
    hit = det[(det.rid_a == a) & (det.rid_b == b)]
    return str(hit["rule"].iloc[0]) if len(hit) else None


def explain(config: Config, ref_a: str, ref_b: str) -> Explanation:
    a, b = sorted((parse_ref(ref_a), parse_ref(ref_b)))
    if a == b:
        raise MdmError("give two different records")
    wh = Warehouse(config.warehouse)
    if not wh.exists():
        raise MdmError(f"no warehouse at {wh.db_path}: run `mdm run --config {config.config_path}` first")
    from pipelines.review.inputs import decision_inputs

    decisions = decision_inputs(config).pairs
    con = open_readonly(wh.db_path)
    try:
        recs = con.execute(
            "SELECT * FROM organization_record WHERE rid IN ($a, $b) ORDER BY rid", {"a": a, "b": b}
        ).df()
        missing = {a, b} - set(recs["rid"])
        if missing:
            raise MdmError(
                f"no loaded record {', '.join(sorted(missing))} (use the source name of the config and "
                "the record's natural key; see the xref table)"
            )
        pair = con.execute(
            "SELECT rule, score, band, run_id FROM match_pair WHERE rid_a = $a AND rid_b = $b", {"a": a, "b": b}
        ).df()
        model = FellegiSunter.from_parameters(con.execute("SELECT * FROM match_model").df())
        counts = dict(con.execute("SELECT token, records FROM match_token_frequency").fetchall())
        records = con.execute("SELECT count(*) FROM organization_record").fetchall()[0][0]
        rule = _identifier_rule(con, recs, a, b)
        members = con.execute(
            "SELECT * FROM organization_record WHERE golden_id IN (SELECT golden_id FROM organization_record "
            "WHERE rid IN ($a, $b))",
            {"a": a, "b": b},
        ).df()
    finally:
        con.close()
    settings = config.matching.settings()
    d = matching.decide_pair(
        model, name_tokens.idf_weights(counts, records), recs, settings, rule=rule or "score", decisions=decisions
    )
    stored = {str(k): v for k, v in pair.iloc[0].items()} if len(pair) else None
    feats = [
        {
            "feature": f,
            "value": d.vector[f],
            "level": d.levels[f],
            "lower_bound": None if d.levels[f] < 0 else (0.0, *LEVELS[f])[d.levels[f]],
            "weight": d.weights[f],
        }
        for f in model.features
    ]
    recs = recs.set_index("rid", drop=False)
    keys = identity_keys(recs.reset_index(drop=True))
    ka, kb = keys[a], keys[b]
    shared = {k: ka[k] for k in ka.keys() & kb.keys() if ka[k] == kb[k]}
    conflict = {k: (ka[k], kb[k]) for k in ka.keys() & kb.keys() if ka[k] != kb[k]}
    same = bool(recs.at[a, "golden_id"] == recs.at[b, "golden_id"])
    e = Explanation(
        a,
        b,
        recs[[c for c in SHOWN if c in recs.columns]],
        stored is not None,
        d.rule if stored is not None else None,
        feats,
        d.prior,
        d.score,
        d.band,
        (settings.match_threshold, settings.review_threshold),
        shared,
        conflict,
        same,
        d.steward,
        d.steward_changed,
        stored,
    )
    e.verdict = _verdict(e, d, members, recs)
    return e


def _verdict(e: Explanation, d: matching.PairDecision, members: pd.DataFrame, recs: pd.DataFrame) -> str:
    a, b = e.rid_a, e.rid_b
    steward = None if d.steward is None else ("match" if d.steward else "no_match")
    if e.rule and e.rule.startswith("id:"):
        how = f"matched deterministically: both carry {e.rule[3:]} {e.shared_keys.get(e.rule[3:], '')}".rstrip()
    elif e.rule is None:
        how = (
            "never compared: no blocking key in common (name cores: "
            + f"{recs.at[a, 'name_core']!r} vs {recs.at[b, 'name_core']!r}); scored here for information"
        )
    else:
        how = f"scored by the model: {e.band}"
    if e.stored is not None and (e.stored["rule"], e.stored["band"], e.stored["score"]) != (e.rule, e.band, e.score):
        how += (
            f"; stored as {e.stored['band']} ({e.stored['score']}) by run {e.stored['run_id']}, which scored it "
            "with that run's token frequencies (an incremental run keeps pairs of unchanged records)"
        )
    if e.steward_changed:
        how += f"; a steward decided {steward} (matching.decisions), which overrides this: the pair is a " + (
            "must-link" if d.steward else "cannot-link, so clustering keeps the two apart"
        )
    elif steward is not None:
        how += f"; a steward decided {steward} as well (matching.decisions)"
    if e.conflicting_keys:
        schemes = ", ".join(f"{k} {v[0]} vs {v[1]}" for k, v in sorted(e.conflicting_keys.items()))
        how += f"; they can never be merged: different identifiers ({schemes})"
    if d.vector.get("branch") is not None and (d.vector["branch"] or 0) < 1:
        how += "; one is a branch and the other is not, so the pair is at most a review"
    if e.same_cluster:
        return how + ". They share golden id " + str(recs.at[a, "golden_id"]) + "."
    if d.linked and not e.conflicting_keys:
        # A link that was refused: their clusters carry conflicting identifiers.
        ga = members[members.golden_id == recs.at[a, "golden_id"]]
        gb = members[members.golden_id == recs.at[b, "golden_id"]]
        ka = {k: v for keys in identity_keys(ga).values() for k, v in keys.items()}
        kb = {k: v for keys in identity_keys(gb).values() for k, v in keys.items()}
        clash = sorted(k for k in ka.keys() & kb.keys() if ka[k] != kb[k])
        if clash:
            return (
                how + f"; their clusters hold different {', '.join(clash)}, so the merge was refused. "
                f"Golden ids: {recs.at[a, 'golden_id']} and {recs.at[b, 'golden_id']}."
            )
    return how + f". Golden ids: {recs.at[a, 'golden_id']} and {recs.at[b, 'golden_id']}."


def as_dict(e: Explanation) -> dict[str, Any]:
    return {
        "records": json.loads(e.records.to_json(orient="index", force_ascii=False)),
        "rule": e.rule,
        "features": e.features,
        "prior": e.prior,
        "score": e.score,
        "band": e.band,
        "shared_keys": e.shared_keys,
        "conflicting_keys": e.conflicting_keys,
        "same_cluster": e.same_cluster,
        "steward": e.steward,
        "steward_changed": e.steward_changed,
        "stored": e.stored,
        "verdict": e.verdict,
    }
