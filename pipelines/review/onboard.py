"""Match API for onboarding: "do we already know this company?"

A candidate record (name, identifiers, country, address) is standardised like a source record, meets
the published records through the run's blocking keys (exact name core, sorted neighbourhoods over the
core and the reversed core), a shared identifier or a rare name token, and is scored by the run's own
code (:func:`mdm.matching.compare` and :func:`mdm.matching.score`) with the stored model
(``match_model``) and name-token frequencies (``match_token_frequency``). The answer is the best golden
records with their probability and the explanation ``mdm explain`` gives.

:class:`MatchIndex` is built once from the published warehouse (a few seconds at 100k entities) and
reused by every query while that warehouse stays the same (:func:`index_for`).
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections import defaultdict
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from mdm import matching, name_tokens
from mdm.schema import ORGANIZATION
from mdm.scoring import LEVELS, FellegiSunter, discretise
from mdm.standardise import ID_COLUMNS, identity_keys, standardise_records, tokens
from pipelines.config import Config
from pipelines.errors import MdmError
from pipelines.warehouse import Warehouse

QUERY_RID = "query:candidate"
TOKEN_CAP = 100  # a name token held by more records than this does not propose candidates
RARE_TOKENS = 2  # the rarest tokens of the candidate's names that propose candidates
SCORED = 60  # records scored per query besides identifier hits: those with the closest names
GOLDEN_COLUMNS = ("golden_id", "legal_name", "country", "lei", "uscc", "gb_company_number", "city", "record_count")


class MatchRequest(BaseModel):
    """A prospective customer as a relationship manager knows it."""

    name: str = Field(min_length=1, max_length=500, description="Legal name in any script")
    name_en: str | None = Field(None, max_length=500, description="English or transliterated name")
    lei: str | None = Field(None, max_length=40)
    uscc: str | None = Field(None, max_length=40, description="Chinese Unified Social Credit Code")
    registration_number: str | None = Field(None, max_length=40, description="e.g. Companies House number")
    country: str | None = Field(None, max_length=60, description="ISO 3166 code or name")
    city: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=500)
    postal_code: str | None = Field(None, max_length=20)
    limit: int = Field(5, ge=1, le=50, description="Golden records returned at most")


class MatchCandidate(BaseModel):
    golden_id: str
    legal_name: str | None
    country: str | None
    lei: str | None
    record: str = Field(description="The published record that matched best (SOURCE:ID)")
    probability: float
    band: str = Field(description="match, review or non-match")
    rule: str = Field(description="id:<scheme> for a shared identifier, else score")
    explanation: dict[str, Any]


class MatchResponse(BaseModel):
    candidates: list[MatchCandidate]
    compared: int = Field(description="Published records scored for this query")
    thresholds: tuple[float, float]
    elapsed_ms: float


def _sorted_keys(values: pd.Series, rids: pd.Series) -> tuple[list[str], dict[str, list[str]]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for k, r in zip(values, rids):
        groups[k].append(r)
    return sorted(groups), dict(groups)


class MatchIndex:
    """Every published record, ready for single-candidate queries."""

    def __init__(self, config: Config) -> None:
        self.config = config
        m = config.matching
        self.settings = matching.MatchSettings(m.match_threshold, m.review_threshold, m.max_block_size)
        wh = Warehouse(config.warehouse)
        if not wh.exists():
            raise MdmError(f"no published warehouse at {wh.db_path}: run `mdm run --config {config.config_path}` first")
        self.stamp = _stamp(wh)
        con = wh.connect(read_only=True)
        try:
            cols = ", ".join(dict.fromkeys((*matching.MATCH_COLUMNS, "name", "golden_id")))  # constants
            std = con.execute(f"SELECT {cols} FROM organization_record ORDER BY rid").df()
            self.model = FellegiSunter.from_parameters(con.execute("SELECT * EXCLUDE (run_id) FROM match_model").df())
            counts = dict(con.execute("SELECT token, records FROM match_token_frequency").fetchall())
            golden = con.execute(f"SELECT {', '.join(GOLDEN_COLUMNS)} FROM golden_organization").df()
        finally:
            con.close()
        self.idf = name_tokens.idf_weights(counts, len(std))
        self.std = std.set_index("rid", drop=False)
        self.golden = golden.set_index("golden_id", drop=False)
        alias = std[["rid", "aliases"]].explode("aliases").dropna(subset=["aliases"])
        alias = alias[alias["aliases"].str.len() > 0]
        self.cores, self.by_core = _sorted_keys(alias["aliases"], alias["rid"])
        self.revs, self.by_rev = _sorted_keys(alias["aliases"].str[::-1], alias["rid"])
        self.by_id: dict[tuple[str, str], list[str]] = defaultdict(list)
        for col in ID_COLUMNS:
            sub = std.loc[std[col].notna(), ["rid", col]]
            for r, v in zip(sub["rid"], sub[col]):
                self.by_id[(col, v)].append(r)
        self.by_token: dict[str, list[str]] = defaultdict(list)
        for r, als in zip(std["rid"], std["aliases"]):
            seen = {t for al in (als if als is not None else []) for t in tokens(al)}
            for t in seen:
                if counts.get(t, 0) <= TOKEN_CAP:
                    self.by_token[t].append(r)
        self.counts = counts
        self.columns = list(matching.MATCH_COLUMNS)
        # Row lookups by rid in a dict: a .loc over 200k rows costs tens of ms per query.
        self.rows: dict[str, tuple] = dict(zip(std["rid"], std[self.columns].itertuples(index=False, name=None)))
        self.golden_of: dict[str, str] = dict(zip(std["rid"], std["golden_id"]))
        self.aliases: dict[str, list[str]] = {
            r: list(a) if a is not None else [] for r, a in zip(std["rid"], std["aliases"])
        }

    # -- candidates ----------------------------------------------------------------------------------
    def _near(self, keys: list[str], groups: dict[str, list[str]], key: str) -> list[str]:
        """Records whose key is the same or within the run's window in sorted order (blocks larger than
        max_block_size are skipped, as in the run)."""
        i = bisect.bisect_left(keys, key)
        w = self.settings.window
        out: list[str] = []
        for k in keys[max(0, i - w) : i + w + (1 if i < len(keys) and keys[i] == key else 0)]:
            rids = groups[k]
            if len(rids) <= self.settings.max_block_size:
                out.extend(rids)
        return out

    def candidates(self, std: pd.Series) -> list[str]:
        """Records sharing an identifier with the candidate, then the SCORED records of the run's blocking
        keys and the rarest name tokens whose names come closest (rapidfuzz, any alias pair)."""
        ids: dict[str, None] = {}
        for col in ID_COLUMNS:
            v = std.get(col)
            if isinstance(v, str) and v:
                ids.update(dict.fromkeys(self.by_id.get((col, v), [])))
        found: dict[str, None] = {}
        aliases = list(std["aliases"] or [])
        for al in aliases:
            found.update(dict.fromkeys(self._near(self.cores, self.by_core, al)))
            found.update(dict.fromkeys(self._near(self.revs, self.by_rev, al[::-1])))
        toks = {t for al in aliases for t in tokens(al) if t in self.by_token}
        for t in sorted(toks, key=lambda t: (self.counts.get(t, 0), t))[:RARE_TOKENS]:
            found.update(dict.fromkeys(self.by_token[t]))
        rest = [r for r in found if r not in ids]
        if len(rest) > SCORED:
            al = self.aliases
            best = [max((fuzz.token_sort_ratio(a, b) for a in aliases for b in al[r]), default=0.0) for r in rest]
            order = np.argsort(-np.asarray(best, dtype=float), kind="stable")[:SCORED]
            rest = [rest[i] for i in sorted(order)]
        return [*ids, *rest]

    # -- query ---------------------------------------------------------------------------------------
    def standardise(self, req: MatchRequest) -> pd.Series:
        row: dict[str, Any] = {c: None for c in ORGANIZATION}
        row.update(
            {
                "source": "query",
                "source_id": "candidate",
                "source_format": "query",
                "name": req.name.strip(),
                "name_en": req.name_en,
                "lei": req.lei,
                "uscc": req.uscc,
                "registration_number": req.registration_number,
                "country": req.country,
                "city": req.city,
                "address": req.address,
                "postal_code": req.postal_code,
            }
        )
        return standardise_records(pd.DataFrame([row]).astype(object)).iloc[0]

    def match(self, req: MatchRequest) -> MatchResponse:
        t0 = time.perf_counter()
        cand = self.standardise(req)
        rids = self.candidates(cand)
        thresholds = (self.settings.match_threshold, self.settings.review_threshold)
        if not rids:
            return MatchResponse(
                candidates=[], compared=0, thresholds=thresholds, elapsed_ms=round(1000 * (time.perf_counter() - t0), 2)
            )
        frame = pd.DataFrame(
            [tuple(cand[c] for c in self.columns), *(self.rows[r] for r in rids)], columns=self.columns
        )
        pairs = pd.DataFrame({"rid_a": QUERY_RID, "rid_b": rids})
        vectors = matching.compare(frame, pairs, self.idf)
        scored, _ = matching.score(vectors, self.settings, self.model)
        feats = self.model.features
        levels = discretise(scored, feats)
        weights = self.model.weights(levels)
        values = scored[list(feats)].to_numpy(dtype=float)
        probs = scored["score"].to_numpy(dtype=float)
        bands = scored["band"].to_numpy(dtype=object)
        branch = scored["branch"].to_numpy(dtype=float) < 1
        keys = identity_keys(frame)
        mine = keys.get(QUERY_RID, {})
        ranked = []
        for i, rid in enumerate(scored["rid_b"].tolist()):
            theirs = keys.get(rid, {})
            shared = {k: v for k, v in mine.items() if theirs.get(k) == v}
            conflict = {k: (v, theirs[k]) for k, v in mine.items() if k in theirs and theirs[k] != v}
            rule, band = "score", str(bands[i])
            if shared and not conflict:
                rule, band = "id:" + sorted(shared)[0], "match"
            elif conflict:
                band = "non-match"
            ranked.append(
                (rule == "score", -(1.0 if rule != "score" else probs[i]), rid, i, rule, band, shared, conflict)
            )
        ranked.sort(key=lambda x: x[:3])
        out: list[MatchCandidate] = []
        seen: set[str] = set()
        for _, _, rid, i, rule, band, shared, conflict in ranked:
            gid = str(self.golden_of[rid])
            if gid in seen:
                continue
            seen.add(gid)
            # golden_id is the golden table's key: .loc of one id is its row
            g = cast(pd.Series, self.golden.loc[gid]) if gid in self.golden.index else None
            prob = float(probs[i])
            features = [
                {
                    "feature": f,
                    "value": None if np.isnan(values[i, j]) else float(values[i, j]),
                    "level": int(levels[i, j]),
                    "lower_bound": None if levels[i, j] < 0 else (0.0, *LEVELS[f])[levels[i, j]],
                    "weight": float(weights[i, j]),
                }
                for j, f in enumerate(feats)
            ]
            out.append(
                MatchCandidate(
                    golden_id=gid,
                    legal_name=_text(g, "legal_name"),
                    country=_text(g, "country"),
                    lei=_text(g, "lei"),
                    record=rid,
                    probability=1.0 if rule != "score" else round(prob, 6),
                    band=band,
                    rule=rule,
                    explanation={
                        "features": features,
                        "prior": self.model.prior_weight(),
                        "score": prob,
                        "band": band,
                        "rule": rule,
                        "shared_keys": shared,
                        "conflicting_keys": {k: list(v) for k, v in conflict.items()},
                        "verdict": _verdict(rule, band, shared, conflict, bool(branch[i]), gid),
                    },
                )
            )
            if len(out) >= req.limit:
                break
        return MatchResponse(
            candidates=out,
            compared=len(rids),
            thresholds=thresholds,
            elapsed_ms=round(1000 * (time.perf_counter() - t0), 2),
        )


def _text(g: pd.Series | None, col: str) -> str | None:
    if g is None:
        return None
    v = g[col]
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _verdict(rule: str, band: str, shared: dict, conflict: dict, branch: bool, gid: str) -> str:
    """The wording of ``mdm explain`` (pipelines/explain.py) for a candidate and a published record."""
    if rule.startswith("id:"):
        how = f"matched deterministically: both carry {rule[3:]} {shared.get(rule[3:], '')}".rstrip()
    else:
        how = f"scored by the model: {band}"
    if conflict:
        schemes = ", ".join(f"{k} {v[0]} vs {v[1]}" for k, v in sorted(conflict.items()))
        how += f"; they can never be merged: different identifiers ({schemes})"
    if branch:
        how += "; one is a branch and the other is not, so the pair is at most a review"
    return how + f". Golden id: {gid}."


def _stamp(wh: Warehouse) -> tuple[int, int]:
    st = os.stat(wh.db_path)
    return st.st_ino, st.st_mtime_ns


_CACHE: dict[str, MatchIndex] = {}
_LOCK = threading.Lock()


def index_for(config: Config) -> MatchIndex:
    """The index of the published warehouse, built once and rebuilt after a new run is published."""
    wh = Warehouse(config.warehouse)
    key = str(wh.db_path.resolve())
    with _LOCK:
        idx = _CACHE.get(key)
        if idx is None or not wh.exists() or idx.stamp != _stamp(wh):
            idx = _CACHE[key] = MatchIndex(config)
        return idx


def api_match(config: Config, request: MatchRequest) -> MatchResponse:
    """``POST /api/match``: mount as ``app.post("/api/match", response_model=MatchResponse)`` with the
    served config bound (``lambda request: api_match(config, request)``)."""
    return index_for(config).match(request)


def measure_latency(config: Config, queries: int = 200, seed: int = 7) -> dict[str, float]:
    """Time ``queries`` onboarding queries against the published warehouse (for ``make bench``): names of
    published records drawn at random, half of them with one character dropped (a typo), with their
    country, and the LEI for one in four. Returns index build seconds and p50/p95/max query ms."""
    t0 = time.perf_counter()
    idx = index_for(config)
    built = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    rows = idx.std.iloc[rng.choice(len(idx.std), size=min(queries, len(idx.std)), replace=False)]
    times = []
    for n, (name, country, lei) in enumerate(zip(rows["name"], rows["country_iso"], rows["id_LEI"])):
        name = str(name or "x")
        if n % 2 and len(name) > 4:
            cut = int(rng.integers(1, len(name) - 1))
            name = name[:cut] + name[cut + 1 :]
        req = MatchRequest(
            name=name[:500],
            country=country if isinstance(country, str) else None,
            lei=lei if n % 4 == 0 and isinstance(lei, str) else None,
        )
        t = time.perf_counter()
        idx.match(req)
        times.append(1000 * (time.perf_counter() - t))
    arr = np.asarray(times)
    return {
        "records": float(len(idx.std)),
        "index_seconds": round(built, 2),
        "queries": float(len(arr)),
        "p50_ms": round(float(np.percentile(arr, 50)), 1),
        "p95_ms": round(float(np.percentile(arr, 95)), 1),
        "max_ms": round(float(arr.max()), 1),
    }
