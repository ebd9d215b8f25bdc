"""Standardise: names, legal forms, identifiers and addresses of the staged records (mdm.standardise).

When the plan's standardise step is incremental, a record whose content (every canonical attribute but
its lineage) equals the one it had in the last published run, and whose standardised form was made by
the same STANDARDISE_VERSION, keeps that form (and content hash); only new or changed records are
standardised again, and only their content is hashed.
The records standardised now are listed in ``run_changed`` and counted as the observation
``changed_records``. An incremental run makes ``std_organization`` from the published ``organization_record``
in place (sql/staging/std_organization_in_place.sql: the run works on its own copy of the published database),
so it costs what the change costs, not what all records cost; what the match stage reads of the last run's
changed or removed records is kept in ``std_replaced``, and survive makes new_organization_record from
std_organization in place too (sql/golden/new_organization_record_in_place.sql).

Memory is bounded by the batch size, not by the data: the records to standardise are read from DuckDB in
batches of ``performance.batch_rows`` (ranges of the staged table's row ids, which DuckDB reads without
scanning the rest), standardised in ``performance.workers`` processes (:func:`standardise_batch`, no I/O)
and appended to ``std_organization`` as Arrow, batch after batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from mdm.schema import TABLES
from mdm.standardise import STANDARDISE_VERSION
from pipelines.parallel import map_batches
from pipelines.stages.base import StageContext, StageResult
from pipelines.stages.standardise_worker import standardise_batch
from pipelines.warehouse import run_sql, run_sql_over

ROW_GROUP_ROWS = 122_880  # DuckDB's row group
BATCH = "std_batch"  # the name one standardised batch has while it is appended (sql/staging/std_*.sql)


def _bounds(con: duckdb.DuckDBPyConnection, batch_rows: int) -> list[tuple[int, int]]:
    """Row-id ranges of stg_organization holding ``batch_rows`` records of std_new_keys each (the last one
    fewer); one empty range when there is nothing to standardise (its empty batch still gives
    std_organization its columns)."""
    starts = [
        r[0]
        for r in con.execute(
            "SELECT pos FROM (SELECT pos, row_number() OVER (ORDER BY pos) - 1 AS n FROM std_new_keys) "
            "WHERE n % $rows = 0 ORDER BY pos",
            {"rows": batch_rows},
        ).fetchall()
    ]
    end = con.execute("SELECT coalesce(max(pos) + 1, 0) FROM std_new_keys").fetchall()[0][0]
    return list(zip(starts, [*starts[1:], end])) or [(0, 0)]


# The canonical attributes of a record (its content), all but its lineage; names from mdm.schema, never input.
CONTENT = [c for c in TABLES["organization"] if c not in ("src_file", "src_line")]


def _content(alias: str) -> str:
    """The content of the records of table ``alias`` as one struct (the fields in schema order)."""
    return "struct_pack(" + ", ".join(f"{c} := {alias}.{c}" for c in CONTENT) + ")"


def _batches(con: duckdb.DuckDBPyConnection, bounds: list[tuple[int, int]]) -> Iterator[pa.Table]:
    """The records of std_new_keys with their content hash (computed for these records only), one row-id
    range at a time, in staging order. Each batch is read whole before it is handed on, so the stage may
    write between two batches."""
    for lo, hi in bounds:
        yield con.sql(
            f"SELECT s.*, md5(to_json({_content('s')})) AS content_hash "
            "FROM stg_organization AS s JOIN std_new_keys AS k ON k.pos = s.rowid "
            "WHERE s.rowid >= $lo AND s.rowid < $hi AND k.pos >= $lo AND k.pos < $hi ORDER BY s.rowid",
            params={"lo": lo, "hi": hi},
        ).to_arrow_table()


def _write(con: duckdb.DuckDBPyConnection, tables: list[pa.Table], first: bool, reuse: bool) -> None:
    """Add standardised batches to std_organization in one statement; the first write makes the table, with
    the reused records in an incremental run: organization_record itself when its columns allow, else a copy
    (a full run reuses nothing: a first run has no organization_record to reuse from)."""
    batch = pa.concat_tables(tables)
    if not first:
        run_sql_over(con, batch, BATCH, "staging/std_append")
    elif reuse and _fits_in_place(con, batch):
        run_sql_over(con, batch, BATCH, "staging/std_organization_in_place")
    elif reuse:
        run_sql_over(con, batch, BATCH, "staging/std_organization")
    else:
        con.from_arrow(batch).query(BATCH, f"CREATE OR REPLACE TABLE std_organization AS SELECT * FROM {BATCH}")


def _carry(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> None:
    """std_carried: the staged records whose landed row is, unchanged, the one their published record was
    made from (sql/staging/std_carried.sql says why that is exact): the records of sources whose landing is
    the last load's (mode reuse) or completes it (mode changes), but for the keys read again or repeated
    (std_unsure). Sources read again (mode read) have none: their records are compared."""
    changes = ctx.observed.get("changes", {})
    carried: list[str] = []
    files: list[str] = []
    for sp in ctx.plan.sources:
        read_again = changes.get(sp.name, {}).get("files")
        if sp.mode == "reuse":
            carried.append(sp.name)
        elif sp.mode == "changes" and read_again is not None and all(Path(f).is_file() for f in read_again):
            # (a change-captured landing that does not say which rows it read again is compared whole)
            carried.append(sp.name)
            files += read_again
    run_sql(con, "staging/std_unsure")
    if files:
        run_sql(con, "staging/std_unsure_changed", {"files": files})
    run_sql(con, "staging/std_carried", {"carried": carried, "version": STANDARDISE_VERSION})


def _fits_in_place(con: duckdb.DuckDBPyConnection, batch: pa.Table) -> bool:
    """Whether organization_record without its golden id has the columns of a standardised batch (names and
    types, in order): then std_organization is made from it in place; otherwise (a new standardised column,
    a changed type) by copying the reused records into the batch's columns."""
    published = con.sql("SELECT * EXCLUDE (golden_id) FROM organization_record LIMIT 0")
    now = con.from_arrow(batch.slice(0, 0))
    return list(zip(published.columns, map(str, published.types))) == list(zip(now.columns, map(str, now.types)))


def run(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
    reuse = ctx.plan.standardise.incremental
    rid = "s.source || ':' || s.source_id"
    if reuse:
        _carry(con, ctx)
        # Whether each staged record may keep its published form: the records of std_carried may (their
        # landed row is the one the published record was made from, see sql/staging/std_carried.sql); the
        # others when their content equals the record published under their rid (whose content_hash is the
        # hash of that content), made by this version. Comparing the attributes gives the verdict comparing
        # content hashes gave, without hashing every record.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE stg_hashed AS SELECT s.rowid AS pos, {rid} AS rid, s.src_file, "
            "s.src_line, true AS reusable FROM stg_organization AS s SEMI JOIN std_carried AS c ON c.pos = s.rowid "
            f"UNION ALL SELECT s.rowid AS pos, {rid} AS rid, s.src_file, s.src_line, "
            f"coalesce(o.std_version = $version AND {_content('s')} = {_content('o')}, false) AS reusable "
            "FROM stg_organization AS s ANTI JOIN std_carried AS c ON c.pos = s.rowid "
            f"LEFT JOIN organization_record AS o ON o.rid = {rid}",
            {"version": STANDARDISE_VERSION},
        )
        run_sql(con, "staging/reuse_standardised", {"version": STANDARDISE_VERSION})
        run_sql(con, "staging/std_replaced")
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE stg_hashed AS SELECT s.rowid AS pos, {rid} AS rid, s.src_file, "
            "s.src_line, false AS reusable FROM stg_organization AS s"
        )
        run_sql(con, "staging/std_reused_none")
    run_sql(con, "staging/std_new_keys")
    todo = con.execute("SELECT count(*) FROM std_new_keys").fetchall()[0][0]
    perf = ctx.config.performance
    bounds = _bounds(con, perf.batch_rows)
    # Worker processes only when there is more than one batch: a small (incremental) run is done in this
    # process, without the start-up of the workers.
    workers = min(perf.worker_count(), len(bounds))
    done, pending, written = 0, [], False
    for table in map_batches(standardise_batch, _batches(con, bounds), workers):
        pending.append(table)
        done += table.num_rows
        # DuckDB keeps the rows of small appends in memory until the stage's transaction commits; an append
        # of a whole row group or more goes to the database file. So batches are written a row group at a time.
        if sum(t.num_rows for t in pending) >= ROW_GROUP_ROWS:
            _write(con, pending, not written, reuse)
            pending, written = [], True
        if ctx.progress:
            ctx.progress("standardise", done, todo)
    if pending or not written:
        _write(con, pending, not written, reuse)
    run_sql(con, "staging/run_changed")
    total = con.execute("SELECT count(*) FROM std_organization").fetchall()[0][0]
    ctx.observe("records", total)
    ctx.observe("changed_records", done)
    return StageResult(
        "standardise", total, total, detail={"standardised": done, "reused": total - done, "incremental": reuse}
    )
