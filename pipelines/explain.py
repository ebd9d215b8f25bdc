"""Why two source records were or were not matched: ``mdm explain``.

Reads the published warehouse (standardised records, the scored pair if the two were compared, the
trained model, the clusters) and recomputes the comparison when the pair was never a candidate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mdm import matching
from mdm.scoring import LEVELS, FellegiSunter, discretise
from mdm.standardise import identity_keys
from pipelines.config import Config
from pipelines.errors import MdmError
from pipelines.sandbox import open_readonly
from pipelines.warehouse import Warehouse

SHOWN = ("source", "source_id", "name", "name_en", "lei", "uscc", "registration_number", "country_iso", "city",
         "postal_code", "address", "legal_form_norm", "branch_flag", "invalid_ids", "golden_id")


@dataclass
class Explanation:
    rid_a: str
    rid_b: str
    records: pd.DataFrame                       # the two records (SHOWN columns), indexed by rid
    candidate: bool                             # found by blocking (or a shared identifier)
    rule: str | None                            # id:<scheme>, score, or None when never compared
    features: list[dict[str, Any]]              # feature, value, level, lower bound, weight
    prior: float
    score: float
    band: str
    thresholds: tuple[float, float]
    shared_keys: dict[str, str] = field(default_factory=dict)
    conflicting_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    same_cluster: bool = False
    verdict: str = ""


def parse_ref(ref: str) -> str:
    """'SOURCE:ID' -> rid (the id may itself contain colons)."""
    if ":" not in ref or ref.startswith(":") or ref.endswith(":"):
        raise MdmError(f"record reference {ref!r} must be SOURCE:ID, e.g. gleif:5493001KJTIIGC8Y1R12")
    return ref


def explain(config: Config, ref_a: str, ref_b: str) -> Explanation:
    a, b = sorted((parse_ref(ref_a), parse_ref(ref_b)))
    if a == b:
        raise MdmError("give two different records")
    wh = Warehouse(config.warehouse)
    if not wh.exists():
        raise MdmError(f"no warehouse at {wh.db_path}: run `mdm run --config {config.config_path}` first")
    con = open_readonly(wh.db_path)
    try:
        recs = con.execute("SELECT * FROM organization_record WHERE rid IN ($a, $b)", {"a": a, "b": b}).df()
        missing = {a, b} - set(recs["rid"])
        if missing:
            raise MdmError(f"no loaded record {', '.join(sorted(missing))} (use the source name of the config and "
                           "the record's natural key; see the xref table)")
        pair = con.execute("SELECT * FROM match_pair WHERE rid_a = $a AND rid_b = $b ORDER BY rule LIMIT 1",
                           {"a": a, "b": b}).df()
        model = FellegiSunter.from_parameters(con.execute("SELECT * FROM match_model").df())
        members = con.execute(
            "SELECT * FROM organization_record WHERE golden_id IN (SELECT golden_id FROM organization_record "
            "WHERE rid IN ($a, $b))", {"a": a, "b": b}).df()
        all_aliases = None if len(pair) else con.execute("SELECT aliases FROM organization_record").df()
    finally:
        con.close()
    recs = recs.set_index("rid", drop=False)
    settings = config.matching
    if len(pair):
        vec = pair.iloc[[0]].reset_index(drop=True)
        rule = str(vec.at[0, "rule"])
    else:
        idf_source = all_aliases.assign(rid=range(len(all_aliases)))
        vec = matching.compare(recs.reset_index(drop=True), pd.DataFrame({"rid_a": [a], "rid_b": [b]}),
                               idf=matching.token_weights(idf_source))
        rule = None
    levels = discretise(vec, model.features)
    weights = model.weights(levels)[0]
    feats = []
    for j, f in enumerate(model.features):
        value = vec.at[0, f]
        lvl = int(levels[0, j])
        feats.append({"feature": f, "value": None if pd.isna(value) else float(value), "level": lvl,
                      "lower_bound": None if lvl < 0 else (0.0, *LEVELS[f])[lvl], "weight": float(weights[j])})
    prob = float(model.probability(levels)[0])
    branch_mismatch = bool(vec.at[0, "branch"] < 1)
    if branch_mismatch:
        prob = min(prob, settings.match_threshold - 1e-6)
    band = "match" if prob >= settings.match_threshold else "review" if prob >= settings.review_threshold else "non-match"
    keys = identity_keys(recs.reset_index(drop=True))
    ka, kb = keys[a], keys[b]
    shared = {k: ka[k] for k in ka.keys() & kb.keys() if ka[k] == kb[k]}
    conflict = {k: (ka[k], kb[k]) for k in ka.keys() & kb.keys() if ka[k] != kb[k]}
    same = recs.at[a, "golden_id"] == recs.at[b, "golden_id"]
    if rule and rule.startswith("id:"):
        band = "match"
    verdict = _verdict(rule, band, same, shared, conflict, branch_mismatch, members, recs, a, b)
    return Explanation(a, b, recs[[c for c in SHOWN if c in recs.columns]], rule is not None, rule, feats,
                       model.prior_weight(), prob, band, (settings.match_threshold, settings.review_threshold),
                       shared, conflict, bool(same), verdict)


def _verdict(rule: str | None, band: str, same: bool, shared: dict, conflict: dict, branch_mismatch: bool,
             members: pd.DataFrame, recs: pd.DataFrame, a: str, b: str) -> str:
    if shared and rule and rule.startswith("id:"):
        how = f"matched deterministically: both carry {rule[3:]} {shared.get(rule[3:], '')}".rstrip()
    elif rule is None:
        how = "never compared: no blocking key in common (name cores: " + \
              f"{recs.at[a, 'name_core']!r} vs {recs.at[b, 'name_core']!r}); scored here for information"
    else:
        how = f"scored by the model: {band}"
    if conflict:
        schemes = ", ".join(f"{k} {v[0]} vs {v[1]}" for k, v in sorted(conflict.items()))
        how += f"; they can never be merged: different identifiers ({schemes})"
    if branch_mismatch:
        how += "; one is a branch and the other is not, so the pair is at most a review"
    if same:
        return how + ". They share golden id " + str(recs.at[a, "golden_id"]) + "."
    if band == "match" and not conflict:
        # A match that was refused: their clusters carry conflicting identifiers.
        ga = members[members.golden_id == recs.at[a, "golden_id"]]
        gb = members[members.golden_id == recs.at[b, "golden_id"]]
        ka = {k: v for d in identity_keys(ga).values() for k, v in d.items()}
        kb = {k: v for d in identity_keys(gb).values() for k, v in d.items()}
        clash = sorted(k for k in ka.keys() & kb.keys() if ka[k] != kb[k])
        if clash:
            return how + f"; their clusters hold different {', '.join(clash)}, so the merge was refused. " \
                         f"Golden ids: {recs.at[a, 'golden_id']} and {recs.at[b, 'golden_id']}."
    return how + f". Golden ids: {recs.at[a, 'golden_id']} and {recs.at[b, 'golden_id']}."


def as_dict(e: Explanation) -> dict[str, Any]:
    return {"records": json.loads(e.records.to_json(orient="index", force_ascii=False)), "rule": e.rule,
            "features": e.features, "prior": e.prior, "score": e.score, "band": e.band,
            "shared_keys": e.shared_keys, "conflicting_keys": e.conflicting_keys, "same_cluster": e.same_cluster,
            "verdict": e.verdict}
