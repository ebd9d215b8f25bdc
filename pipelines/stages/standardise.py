"""Standardise: names, legal forms, identifiers and addresses of the staged records (mdm.standardise).

When the plan's standardise step is incremental, a record whose content hash (every canonical attribute
but its lineage) equals the one it had in the last published run, and whose standardised form was made
by the same STANDARDISE_VERSION, keeps that form; only new or changed records are standardised again.
The records standardised now are listed in ``run_changed`` and counted as the observation
``changed_records``.
"""

from __future__ import annotations

import duckdb

from mdm.schema import TABLES
from mdm.standardise import STANDARDISE_VERSION, standardise_records
from pipelines.stages.base import StageContext, StageResult, arrow_with_lists
from pipelines.warehouse import run_sql


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    cols = [c for c in TABLES["organization"] if c not in ("src_file", "src_line")]
    # Column names come from mdm.schema, never from input.
    packed = ", ".join(f"{c} := {c}" for c in cols)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_hashed AS SELECT source || ':' || source_id AS rid, "
        f"md5(to_json(struct_pack({packed}))) AS content_hash, src_file, src_line FROM stg_organization"
    )
    reuse = ctx.plan.standardise.incremental
    if reuse:
        run_sql(con, "staging/reuse_standardised", {"version": STANDARDISE_VERSION})
    else:
        run_sql(con, "staging/std_reused_none")
    run_sql(con, "staging/std_new_keys")
    df = con.execute(
        "SELECT s.* FROM stg_organization s SEMI JOIN std_new_keys k "
        "ON k.rid = s.source || ':' || s.source_id ORDER BY s.source, s.source_id"
    ).df()
    hashes = con.execute("SELECT rid, content_hash FROM std_new_keys").df()
    std = standardise_records(df.astype(object).where(df.notna(), None))  # type: ignore[call-overload]  # stubs lack other=None
    std = std.merge(hashes, on="rid", how="left")
    con.register("std_df", arrow_with_lists(std))
    try:
        if reuse:
            run_sql(con, "staging/std_organization")
        else:  # nothing reused (a first run has no organization_record to reuse from)
            con.execute("CREATE OR REPLACE TABLE std_organization AS SELECT * FROM std_df")
    finally:
        con.unregister("std_df")
    run_sql(con, "staging/run_changed")
    total = con.execute("SELECT count(*) FROM std_organization").fetchall()[0][0]
    ctx.observe("records", total)
    ctx.observe("changed_records", len(std))
    return StageResult(
        "standardise", total, total, detail={"standardised": len(std), "reused": total - len(std), "incremental": reuse}
    )
