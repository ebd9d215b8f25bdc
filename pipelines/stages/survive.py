"""Survive: golden records by the survivorship rules (config ``survivorship``), with lineage.

When the plan's survive step is incremental only the golden records whose clusters changed
(sql/golden/affected.sql) are computed again; the others are carried over from the published tables.
The standardised and golden records are then checked by their GX suites before anything is published.
"""

from __future__ import annotations

import duckdb

from mdm import survivorship
from pipelines import quality
from pipelines.plan import has_table
from pipelines.stages.base import StageContext, StageResult, steward_overrides, typed_strings
from pipelines.warehouse import run_sql


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    sv = ctx.config.survivorship
    spec = survivorship.spec_from_config(sv.rules) if sv.rules else survivorship.DEFAULT_SPEC
    overrides = steward_overrides(ctx)
    prio = {s.name: ctx.config.priority(s.name) for s in ctx.config.sources}
    incremental = ctx.plan.survive.incremental
    if incremental:
        run_sql(con, "golden/affected")
        where = "WHERE x.golden_id IN (SELECT golden_id FROM affected)"
    else:
        where = ""
    rec = con.execute(
        f"SELECT s.*, x.golden_id FROM std_organization s JOIN new_xref x USING (rid) {where} ORDER BY rid"
    ).df()
    golden, lineage = survivorship.survive(rec, prio, spec, overrides)
    golden["run_id"] = ctx.run_id
    lineage["run_id"] = ctx.run_id
    con.register("tmp_golden", typed_strings(golden, survivorship.ATTRIBUTES))
    con.register("tmp_lineage", lineage)
    try:
        if incremental and _fits_in_place(con):
            # Golden records of this run's clusters that nothing touched are carried over in place.
            run_sql(con, "golden/carry_over")
        elif incremental:  # the computed tables gained columns: carried-over rows are copied instead
            run_sql(con, "golden/new_golden_copied")
        else:
            run_sql(con, "golden/new_golden_full")
    finally:
        con.unregister("tmp_golden")
        con.unregister("tmp_lineage")
    run_sql(con, "golden/new_organization_record")
    n_golden = con.execute("SELECT count(*) FROM new_golden_organization").fetchall()[0][0]
    quality.validate_outputs(con, ctx.run_id, ctx.dir / "docs", incremental=incremental)
    return StageResult(
        "survive",
        len(rec),
        n_golden,
        detail={"incremental": incremental, "computed": len(golden), "carried_over": n_golden - len(golden)},
    )


def _fits_in_place(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this run's computed golden rows and standardised records have no column the published
    tables lack (then golden/carry_over.sql can update those tables in place)."""

    def columns(relation: str) -> set[str]:
        return {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}  # constants

    return (
        has_table(con, "organization_record")
        and columns("tmp_golden") <= columns("golden_organization")
        and columns("tmp_lineage") <= columns("golden_attribute_lineage")
        and columns("std_organization") <= columns("organization_record")
    )
