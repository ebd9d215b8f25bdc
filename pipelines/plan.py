"""The run plan: what one run will do, decided once when it starts.

Every incremental shortcut of a run depends on what the last published run left behind: a source's
landing can be reused when its fingerprint is unchanged, a database source read by change-data capture
from its watermarks, standardised records reused when their content hash and the standardisation
version are unchanged, the matching model reused when thresholds, features and steward decisions are
unchanged, golden records carried over when survivorship rules and overrides are unchanged. All of that
policy is computed here, in one place, from the config and the published warehouse (read-only), and
written to the run's staging folder as ``plan.json``; ``mdm run --plan-only`` prints it. Stages read the
plan and never re-derive policy of their own.

Some facts are only known once the data is read (how many records changed, hence whether the model may
really be reused; how large the cluster scope is). The stage that learns such a fact records it as an
*observation* of the run (see :mod:`pipelines.stages.base`), stored with that stage's result; later
stages read the observation, not the data again.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict

from mdm import survivorship
from mdm.features import FEATURES
from mdm.schema import arrow_schema
from mdm.standardise import STANDARDISE_VERSION
from pipelines.config import Config, SourceConfig
from pipelines.file_digest import DigestCache
from pipelines.suites import SUITES, SUITES_DIR
from pipelines.warehouse import Warehouse

PLAN_FILE = "plan.json"
# An incremental run re-matches at most this share of the records; beyond it the model is retrained.
INCREMENTAL_MAX_SHARE = 0.2
ADAPTERS_DIR = Path(__file__).resolve().parent / "adapters"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourcePlan(_Frozen):
    """How one source is loaded in this run."""

    name: str
    format: str
    # read: parse the whole source; reuse: link the last load's landing (same fingerprint, a file source);
    # changes: a database source read by change-data capture since the watermarks of its last load.
    mode: Literal["read", "reuse", "changes"]
    fingerprint: str
    base_load: str | None = None  # run id of the load whose landing is reused or completed
    since: dict[str, str] = {}  # query key -> watermark token (mode changes)
    reason: str


class StepPlan(_Frozen):
    """Whether a stage may build on the last published run instead of recomputing everything."""

    incremental: bool
    reason: str
    fingerprint: str | None = None  # recorded in run_state at publish for the next run's plan


class RunPlan(_Frozen):
    run_id: str
    config: str | None
    base_run: str | None  # the published run this run starts from (publish refuses if another came since)
    created_at: str
    # run: every stage; apply: steward decisions applied on the last run's records and pairs (no extract).
    mode: Literal["run", "apply"] = "run"
    full: bool  # a full (reconciliation) run was requested or the config turns incremental runs off
    sources: list[SourcePlan]
    standardise: StepPlan
    match: StepPlan
    survive: StepPlan
    max_changed_share: float = INCREMENTAL_MAX_SHARE

    @property
    def stages(self) -> tuple[str, ...]:
        from pipelines.stages import APPLY_STAGES, STAGES

        return APPLY_STAGES if self.mode == "apply" else STAGES

    def source(self, name: str) -> SourcePlan:
        return next(s for s in self.sources if s.name == name)

    def summary(self) -> str:
        """A few lines a person reads before a run starts."""
        lines = [
            f"run {self.run_id} from {self.base_run or 'an empty warehouse'}" + (" (full run)" if self.full else "")
        ]
        for s in self.sources:
            lines.append(f"  source {s.name:<16} {s.mode:<8} {s.reason}")
        for step in ("standardise", "match", "survive"):
            p: StepPlan = getattr(self, step)
            lines.append(f"  {step:<23} {'incremental' if p.incremental else 'full':<12}{p.reason}")
        return "\n".join(lines)


def now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


# -- fingerprints: what each reusable result depends on besides the data ------------------------------


def source_fingerprint(src: SourceConfig, suites_dir: Path | None = None, digests: DigestCache | None = None) -> str:
    """A digest of everything a source's landing and its validation depend on besides the data of a
    database: format, encoding, the adapters' code and the format's GX suite; for a file source the
    SHA-256 of its bytes (every file of a folder), for a database source its URL (password hidden), queries
    and change columns. ``digests``: where a file's digest may be taken from when its stat is unchanged
    since it was last read (:mod:`pipelines.file_digest`); without it every file is read."""
    h = hashlib.sha256()
    h.update(json.dumps({"format": src.format, "encoding": src.encoding}, sort_keys=True).encode())
    code = sorted(ADAPTERS_DIR.glob("*.py"))
    suite = (suites_dir or SUITES_DIR) / f"{SUITES[src.format][0]}.json"
    for module_file in [*code, Path(inspect.getsourcefile(arrow_schema) or ""), suite]:
        h.update(module_file.read_bytes())
    if src.path is None:
        from sqlalchemy.engine import make_url

        url = make_url(src.url or "").render_as_string(hide_password=True)
        h.update(json.dumps({"url": url, "queries": src.queries, "changes": src.changes}, sort_keys=True).encode())
        return h.hexdigest()
    paths = sorted(p for p in src.path.rglob("*") if p.is_file()) if src.path.is_dir() else [src.path]
    digests = digests if digests is not None else DigestCache(None)
    for p in paths:
        name = str(p.relative_to(src.path) if src.path.is_dir() else p.name)
        h.update(json.dumps([name, digests.digest(p)]).encode())
    return h.hexdigest()


def match_fingerprint(config: Config, decisions: str) -> str:
    """What scored pairs depend on besides the two records: thresholds, features, steward decisions (the
    digest of the live match/no-match/split decisions)."""
    m = config.matching
    return json.dumps(
        {
            "match": m.match_threshold,
            "review": m.review_threshold,
            "block": m.max_block_size,
            "features": list(FEATURES),
            "std": STANDARDISE_VERSION,
            "decisions": decisions,
        },
        sort_keys=True,
    )


def survive_fingerprint(config: Config, overrides: str) -> str:
    """What golden values depend on besides the records: rules, source ranks, overrides (the digest of the
    live steward overrides), versions."""
    sv = config.survivorship
    return json.dumps(
        {
            "rules": sv.rules,
            "priority": {s.name: config.priority(s.name) for s in config.sources},
            "overrides": overrides,
            "std": STANDARDISE_VERSION,
            "attributes": list(survivorship.ATTRIBUTES),
        },
        sort_keys=True,
        default=str,
    )


# -- what the published warehouse holds ---------------------------------------------------------------


class Published:
    """Read-only facts about the published warehouse that the plan depends on."""

    def __init__(self, wh: Warehouse) -> None:
        self.tables: set[str] = set()
        self.columns: dict[str, set[str]] = {}
        self.state: dict[str, str] = {}
        self.loads: dict[str, tuple[str, str, dict[str, str]]] = {}
        self.run: str | None = None
        if not wh.exists():
            return
        con = wh.connect(read_only=True)
        try:
            for table, column in con.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
            ).fetchall():
                self.tables.add(table)
                self.columns.setdefault(table, set()).add(column)
            if "run_state" in self.tables:
                self.state = {k: v for k, v in con.execute("SELECT key, value FROM run_state").fetchall()}
            if "fingerprint" in self.columns.get("source_load", set()):
                rows = con.execute(
                    "SELECT source, fingerprint, run_id, watermarks FROM (SELECT *, row_number() OVER "
                    "(PARTITION BY source ORDER BY run_id DESC) AS rn FROM source_load) "
                    "WHERE rn = 1 AND fingerprint IS NOT NULL"
                ).fetchall()
                self.loads = {s: (fp, r, json.loads(w) if w else {}) for s, fp, r, w in rows}
        finally:
            con.close()
        self.run = wh.latest_run()

    def has(self, *tables: str) -> bool:
        return all(t in self.tables for t in tables)


def _source_plan(
    src: SourceConfig, wh: Warehouse, pub: Published, incremental: bool, digests: DigestCache
) -> SourcePlan:
    fp = source_fingerprint(src, digests=digests)
    base = dict(name=src.name, format=src.format, fingerprint=fp)
    if not incremental:
        return SourcePlan(mode="read", reason="full run: read everything", **base)
    prev = pub.loads.get(src.name)
    if prev is None:
        return SourcePlan(mode="read", reason="no earlier load", **base)
    if prev[0] != fp:
        what = "query config" if src.path is None else "bytes, adapter code or suite"
        return SourcePlan(mode="read", reason=f"{what} changed since load {prev[1]}", **base)
    if not (wh.root / "raw" / src.name / f"load={prev[1]}").is_dir():
        return SourcePlan(mode="read", reason=f"landing of load {prev[1]} is gone", **base)
    if src.path is not None:
        return SourcePlan(mode="reuse", base_load=prev[1], reason=f"unchanged since load {prev[1]}", **base)
    if prev[2]:
        return SourcePlan(
            mode="changes",
            base_load=prev[1],
            since=dict(prev[2]),
            reason=f"rows changed since the watermarks of load {prev[1]}",
            **base,
        )
    return SourcePlan(mode="read", reason="database without change columns", **base)


def make_plan(
    config: Config, run_id: str, full: bool = False, mode: Literal["run", "apply"] = "run", decisions: Any = None
) -> RunPlan:
    """The plan of a run of ``config`` starting now from the published warehouse (read, never written).
    ``decisions``: the run's snapshot of steward decisions (pipelines.review.inputs.DecisionInputs); by
    default the ones live now."""
    if decisions is None:
        from pipelines.review.inputs import decision_inputs

        decisions = decision_inputs(config)
    wh = Warehouse(config.warehouse)
    pub = Published(wh)
    incremental = config.incremental and not full
    off = "full run requested" if full else "incremental runs are off in the config"
    # A full run reads every byte of every file source; an incremental one trusts a file's remembered digest
    # when its stat (device, inode, size, mtime, ctime) is unchanged (pipelines.file_digest says why).
    digests = DigestCache(wh.root if wh.root.is_dir() else None, trust=incremental)
    sources = [_source_plan(s, wh, pub, incremental, digests) for s in config.sources]
    digests.save()

    if not incremental:
        std = StepPlan(incremental=False, reason=off)
    elif "content_hash" not in pub.columns.get("organization_record", set()):
        std = StepPlan(incremental=False, reason="no standardised records with content hashes yet")
    else:
        std = StepPlan(
            incremental=True,
            reason=f"records with an unchanged content hash keep their standardised form ({STANDARDISE_VERSION})",
        )

    mfp = match_fingerprint(config, decisions.pairs_fingerprint)
    if not incremental:
        match = StepPlan(incremental=False, reason=off, fingerprint=mfp)
    elif pub.state.get("match_fingerprint") != mfp:
        match = StepPlan(
            incremental=False,
            fingerprint=mfp,
            reason="thresholds, features, standardisation or steward decisions changed"
            if "match_fingerprint" in pub.state
            else "no earlier model",
        )
    elif not pub.has("match_model", "match_pair", "match_token_frequency", "organization_record"):
        match = StepPlan(incremental=False, reason="earlier model or pairs missing", fingerprint=mfp)
    else:
        match = StepPlan(
            incremental=True,
            fingerprint=mfp,
            reason=f"reuse the last model and pairs if at most {INCREMENTAL_MAX_SHARE:.0%} of the records changed",
        )

    sfp = survive_fingerprint(config, decisions.overrides_fingerprint)
    if not incremental:
        survive = StepPlan(incremental=False, reason=off, fingerprint=sfp)
    elif pub.state.get("survive_fingerprint") != sfp:
        survive = StepPlan(
            incremental=False,
            fingerprint=sfp,
            reason="rules, source ranks or overrides changed"
            if "survive_fingerprint" in pub.state
            else "no earlier golden records",
        )
    elif not pub.has("golden_organization", "xref"):
        survive = StepPlan(incremental=False, reason="earlier golden records missing", fingerprint=sfp)
    else:
        survive = StepPlan(
            incremental=True, fingerprint=sfp, reason="recompute only the golden records whose clusters changed"
        )

    if mode == "apply":  # the published pairs stay those of the published model
        match = StepPlan(
            incremental=False,
            fingerprint=pub.state.get("match_fingerprint"),
            reason="apply run: the published pairs and model are reused as they are",
        )
    return RunPlan(
        run_id=run_id,
        config=str(config.config_path) if config.config_path else None,
        base_run=pub.run,
        created_at=now(),
        mode=mode,
        full=not incremental,
        sources=sources,
        standardise=std,
        match=match,
        survive=survive,
    )


def write_plan(plan: RunPlan, folder: Path) -> None:
    tmp = folder / (PLAN_FILE + ".tmp")
    tmp.write_text(plan.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(folder / PLAN_FILE)


def read_plan(folder: Path) -> RunPlan:
    return RunPlan.model_validate_json((folder / PLAN_FILE).read_text(encoding="utf-8"))


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a table or view of that name exists (any schema, temporary ones included)."""
    return bool(
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = $t", {"t": name}).fetchall()[0][
            0
        ]
    )


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
