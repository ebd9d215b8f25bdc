"""Every table, view and macro a run reads or writes, declared once.

Each relation has an owner (the stage that builds it, or ``schema`` for the published tables created
once by sql/schema/tables.sql), a kind and a lifetime:

- ``published``: part of the published warehouse, documented in docs/schema.md;
- ``run``: a hand-over between stages inside the run's staging database, dropped at publish;
- ``temp``: a TEMP table or view of one stage's connection (gone when the stage ends);
- ``control``: a table of the control store (pipelines/control.py), outside the warehouse.

The runner checks after every stage that no relation exists that is not declared here, and that every
relation the stage created is owned by it or one it may write (:func:`check_stage`); publish drops the
``run`` relations listed here; :mod:`pipelines.schema_doc` documents the ``published`` ones.
SQL files under ``sql/`` that start with a ``-- name:`` header (see sql/README.md) declare themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pipelines.warehouse import SQL_DIR

Lifetime = Literal["published", "run", "temp", "control"]
Kind = Literal["table", "view", "macro"]


@dataclass(frozen=True)
class Relation:
    name: str
    owner: str  # stage that builds it (or "schema": created once with the warehouse)
    lifetime: Lifetime
    kind: Kind = "table"
    sql: str | None = None  # the sql/ file that builds it, when one does
    writers: tuple[str, ...] = ()  # other stages that change it
    description: str = ""
    columns: tuple[tuple[str, str], ...] = ()  # (column, description) declared by a SQL header


def _r(
    name: str,
    owner: str,
    lifetime: Lifetime,
    sql: str | None = None,
    kind: Kind = "table",
    writers: tuple[str, ...] = (),
    description: str = "",
) -> Relation:
    return Relation(name, owner, lifetime, kind, sql, writers, description)


_DECLARED: tuple[Relation, ...] = (
    # -- published, created once and appended to by publish (sql/schema/tables.sql) ---------------------
    *(
        _r(t, "schema", "published", "schema/tables", writers=("publish",))
        for t in (
            "run_log",
            "golden_id_registry",
            "golden_id_redirect",
            "load_issue",
            "quarantine",
            "quality_metrics",
            "identifier_quality",
            "source_load",
            "validation_result",
            "run_state",
        )
    ),
    # -- the run's bookkeeping -------------------------------------------------------------------------
    _r("run_stage", "runner", "run", description="Completed stages of the run: result and observations."),
    # -- extract ---------------------------------------------------------------------------------------
    *(
        _r(f"raw_{t}", "extract", "run", writers=("validate",), description=f"Landed {t} rows of every source.")
        for t in ("organization", "financial_fact")
    ),
    *(
        _r(
            f"raw_{t}",
            "extract",
            "run",
            writers=("validate", "publish"),
            description=f"Landed {t} rows; renamed {t} at publish.",
        )
        for t in ("relationship", "account", "balance")
    ),
    _r("run_issue", "extract", "run", "staging/run_issue", writers=("validate",)),
    # -- validate --------------------------------------------------------------------------------------
    _r("stg_organization", "validate", "run", "staging/stg_organization"),
    *(
        _r(t, "validate", "run")
        for t in ("run_quarantine", "run_quality", "run_identifier_quality", "run_source_load", "run_validation")
    ),
    # -- standardise -----------------------------------------------------------------------------------
    _r("stg_hashed", "standardise", "temp"),
    _r("std_reused_keys", "standardise", "temp", "staging/reuse_standardised"),
    _r("std_new_keys", "standardise", "temp", "staging/std_new_keys"),
    _r("std_organization", "standardise", "run", "staging/std_organization"),
    _r("run_changed", "standardise", "run", "staging/run_changed"),
    # -- match -----------------------------------------------------------------------------------------
    _r("match_decided", "match", "temp", description="The steward's latest decision per pair of this run's records."),
    _r("tmp_scored", "match", "temp", description="This run's scored pairs, read back from the partitions."),
    _r("run_rescored", "match", "run"),
    _r("new_match_pair", "match", "run", "staging/match_pair_kept", writers=("publish",)),
    _r("new_match_model", "match", "run", writers=("publish",)),
    _r("new_match_token_frequency", "match", "run", "staging/new_match_token_frequency", writers=("publish",)),
    # -- cluster ---------------------------------------------------------------------------------------
    _r("cluster_scope", "cluster", "temp", "staging/cluster_scope"),
    _r("new_xref", "cluster", "run", "staging/new_xref", writers=("publish",)),
    _r("new_redirect", "cluster", "run", "staging/new_redirect"),
    # -- survive ---------------------------------------------------------------------------------------
    _r("affected", "survive", "temp", "golden/affected"),
    _r("new_golden_organization", "survive", "run", "golden/new_golden_full", writers=("publish",)),
    _r("new_golden_attribute_lineage", "survive", "run", "golden/new_golden_full", writers=("publish",)),
    _r("new_organization_record", "survive", "run", "golden/new_organization_record", writers=("publish",)),
    # -- published by publish (renamed from the run's new_* / raw_* tables, or built from them) ---------
    *(
        _r(t, "publish", "published", "golden/publish", writers=("match", "survive"))
        for t in (
            "organization_record",
            "xref",
            "golden_organization",
            "golden_attribute_lineage",
            "match_pair",
            "match_model",
            "match_token_frequency",
        )
    ),
    *(
        _r(t, "publish", "published", "golden/publish")
        for t in ("relationship", "financial_fact", "account", "balance")
    ),
    _r("_golden_hash", "publish", "temp", "golden/history"),
    _r("_golden_new_version", "publish", "temp", "golden/history"),
    _r("golden_organization_history", "publish", "published", "golden/history"),
    _r("golden_hierarchy", "publish", "published", "golden/hierarchy"),
    _r("financial_concept", "publish", "published", "golden/financials"),
    _r("golden_financial_fact", "publish", "published", "golden/financials"),
    *(
        _r(v, "publish", "published", "marts/views", kind="view")
        for v in (
            "v_xref",
            "v_financial_latest",
            "v_golden_financials_latest",
            "v_golden_organization",
            "v_hierarchy",
            "v_organization_group",
        )
    ),
    _r("golden_organization_as_of", "publish", "published", "marts/views", kind="macro"),
)

_HEADER = re.compile(r"^--\s*(name|kind|stage|lifetime|description|column\s+\w+):\s*(.+?)\s*$")


def _from_sql_headers() -> list[Relation]:
    """Relations declared by a ``-- name:`` header at the top of a SQL file."""
    found = []
    for path in sorted(SQL_DIR.rglob("*.sql")):
        head: dict[str, str] = {}
        columns: list[tuple[str, str]] = []
        last: str | None = None
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("--"):
                break
            m = _HEADER.match(line)
            if m and m.group(1).startswith("column"):
                columns.append((m.group(1).split()[1], m.group(2)))
                last = "column"
            elif m:
                head[m.group(1)] = m.group(2)
                last = m.group(1)
            elif last and line.startswith("--  ") and line[2:].strip():  # a continuation line
                more = line[2:].strip()
                if last == "column":
                    columns[-1] = (columns[-1][0], f"{columns[-1][1]} {more}")
                else:
                    head[last] = f"{head[last]} {more}"
            else:
                last = None
        if "name" in head:
            rel = str(path.relative_to(SQL_DIR).with_suffix(""))
            found.append(
                Relation(
                    head["name"],
                    head.get("stage", "publish"),
                    # lifetime and kind: header text of the project's own sql/ files, one of the Literals
                    head.get("lifetime", "published"),  # type: ignore[arg-type]
                    head.get("kind", "table"),  # type: ignore[arg-type]
                    rel,
                    (),
                    head.get("description", ""),
                    tuple(columns),
                )
            )
    return found


@cache
def catalog() -> dict[str, Relation]:
    """Every declared relation by name."""
    out: dict[str, Relation] = {}
    for rel in (*_DECLARED, *_from_sql_headers()):
        if rel.name in out and out[rel.name] != rel:
            raise ValueError(f"relation {rel.name!r} is declared twice")
        out[rel.name] = rel
    return out


def run_relations() -> list[str]:
    """The hand-over tables of a run, dropped at publish."""
    return [r.name for r in catalog().values() if r.lifetime == "run"]


def published() -> list[Relation]:
    return [r for r in catalog().values() if r.lifetime == "published"]


# Stages that stand in for others (an apply run's reuse builds what extract .. match would).
STANDS_IN_FOR: dict[str, tuple[str, ...]] = {"reuse": ("extract", "validate", "standardise", "match")}


def check_stage(stage: str, before: set[str], after: set[str]) -> list[str]:
    """What a stage did wrong to the catalog: relations that exist but are not declared, and relations it
    created that another stage owns. ``before``/``after``: relation names at its start and end."""
    cat = catalog()

    def declared(name: str) -> Relation | None:  # schema.name is declared by its schema's declaration
        return cat.get(name) or cat.get(name.split(".", 1)[0]) if "." in name else cat.get(name)

    problems = [f"{name}: not declared in pipelines/catalog.py" for name in sorted(after) if declared(name) is None]
    for name in sorted(after - before):
        rel = declared(name)
        if rel is None:
            continue
        owners = {rel.owner, *rel.writers}
        if stage not in owners and not owners & set(STANDS_IN_FOR.get(stage, ())):
            problems.append(f"{name}: created by stage {stage!r}, but owned by {rel.owner!r}")
    return problems


def sql_files_declared() -> set[str]:
    """The sql/ files named by some declaration (a test checks every producing SQL file is one of them)."""
    return {r.sql for r in catalog().values() if r.sql}


def path_of(rel: Relation) -> Path | None:
    return SQL_DIR / f"{rel.sql}.sql" if rel.sql else None
