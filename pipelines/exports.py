"""The Parquet exports of a published run (``snapshots/<run_id>/parquet/<table>.parquet``), written only for
the tables whose content changed.

:func:`record_state` runs inside the publish transaction, after the last table is built: it fingerprints
every exported table (sql/publish/fingerprint.sql: columns, types and every row) and records in
``export_state`` whether the fingerprint differs from the last published run's. The tables an incremental
extract kept whole from the last published run (:data:`KEPT`, not named by ``run_reloaded``) keep their
fingerprint without being read. A table with a ``run_id`` column that holds a row of this run changed (no
earlier run wrote that id: sql/publish/export_by_run.sql) and is not fingerprinted either: it records
``run:<run id>`` instead, which no fingerprint equals. A later run that finds such a token computes the
table's fingerprint and, to tell whether it still holds the rows of that run, the fingerprint of the file the
last published snapshot holds for it (written by that run, or carried over since: the same rows); when they
are equal the table keeps the token and its export is carried over. So golden_financial_fact and
golden_hierarchy, which keep the run id of unchanged rows, are written by a run that changed a row of them
(such as the first run), and not again by the next one.
A view is never computed for a fingerprint when what it reads is known (its SQL names tables, found through
other views with sqlglot): its fingerprint is derived from its SQL and its tables' fingerprints, so it is
unchanged exactly when they are; when a table it reads changed, it is written again (at worst needlessly: a
view may not use the columns that changed), never carried over stale.
The ``row_count`` of a view written again is the count of the COPY that writes it, recorded at the switch
(:func:`export` records that count for every table it writes).
:func:`export` then, at the switch, writes the changed tables and carries the others over from the last
run's snapshot with a hard link (a copy where links are not possible): the same bytes, so the same content. The snapshot is still made
whole before ``current`` switches to it, so the publish stays atomic.

How the changed tables are written (measured at 100k and 1M entities, see docs/benchmarks.md): with
DuckDB's ``COPY ... TO`` at zstd level 1 (level 3, the default, spends more CPU for files about 6% smaller),
without preserving insertion order (the export's rows are a set: a carried-over file already holds the rows
in the order of the run that wrote it, and the exported views have no order), and :data:`EXPORT_WRITERS`
tables at a time, each on its own cursor of the finish connection (DuckDB releases the GIL; small tables and
views are written by one thread each, so two of them side by side use both cores). The content, rows and
column types, is what ``write_parquet`` wrote; only the bytes of the file differ.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from pipelines.plan import has_table
from pipelines.warehouse import PARQUET_TABLES, Warehouse, query_sql, run_sql, unordered

# Tables written side by side at the switch (each one also uses DuckDB's threads where it can).
EXPORT_WRITERS = 2
# Exported tables an incremental extract may keep whole from the last published run (pipelines.stages.extract,
# listed by run_reloaded when it does not): their fingerprint is carried over instead of computed again.
KEPT = ("account", "balance", "financial_fact")


# export_state.row_count of a view marked changed at publish without being read, until export counts it.
UNCOUNTED = -1


def write_table(con: duckdb.DuckDBPyConnection, table: str, dest: Path) -> int:
    """Write one exported table or view (a name of pipelines.warehouse.PARQUET_TABLES) to ``dest``; returns
    the rows written."""
    return int(query_sql(con, "publish/export_write", {"table": table, "path": str(dest)}).fetchall()[0][0])


def record_state(con: duckdb.DuckDBPyConnection, run_id: str, base: Path | None = None) -> dict[str, bool]:
    """Fingerprint every exported table and record this run's export state; returns table -> changed.
    ``base`` is the export folder of the last published snapshot (None when there is none)."""
    run_sql(con, "publish/export_state")
    state = query_sql(con, "publish/export_state_read").fetchall()
    previous = {name: fp for name, fp, _, _ in state}
    counts = {name: n for name, _, _, n in state}
    kept = set()
    if has_table(con, "run_reloaded"):  # made by extract (or reuse) in this run: see sql/publish/export_kept.sql
        kept = {r[0] for r in query_sql(con, "publish/export_kept", {"tables": list(KEPT)}).fetchall()}
    changed: dict[str, bool] = {}
    prints: dict[str, str] = {}
    for table in PARQUET_TABLES:
        reads = _view_reads(con, table)
        if table in kept:  # the published table itself, renamed to raw_<table> and back: the same content
            rows, fingerprint = counts[table], previous[table]
        elif reads is not None and any(changed.get(t) for t in reads.tables):  # counted when written (export)
            rows, fingerprint = UNCOUNTED, _derived_print(con, reads, prints) or f"run:{run_id}"
        elif reads is not None and (derived := _derived_print(con, reads, prints)) is not None:
            rows, fingerprint = (counts[table] if previous.get(table) == derived else UNCOUNTED), derived
        elif (stamped := _stamped_by(con, table, run_id)) is not None:
            rows, fingerprint = stamped, f"run:{run_id}"
        else:
            rows, fingerprint = query_sql(con, "publish/fingerprint", {"table": table}).fetchall()[0]
            last = previous.get(table) or ""
            if (
                last.startswith("run:")
                and base is not None
                and _export_print(con, base / f"{table}.parquet") == fingerprint
            ):
                fingerprint = last  # the rows that run published: its file is carried over
        prints[table] = fingerprint
        changed[table] = previous.get(table) != fingerprint
        run_sql(
            con,
            "publish/export_state_set",
            {"table": table, "rows": rows, "fingerprint": fingerprint, "changed": changed[table], "run": run_id},
        )
    return changed


@dataclass(frozen=True)
class ViewReads:
    """What a view's rows are a function of: the tables it reads, directly or through other views, and the SQL
    of every view on the way (its own first)."""

    tables: frozenset[str]
    sql: tuple[str, ...]


def _view_reads(con: duckdb.DuckDBPyConnection, name: str) -> ViewReads | None:
    """What view ``name`` reads; None for a table, and for a view whose SQL does not parse or that reads another
    schema (then nothing is inferred: the view is fingerprinted by its rows)."""
    tables: set[str] = set()
    sql: list[str] = []
    seen: set[str] = set()
    todo = [name]
    while todo:
        view = todo.pop(0)
        seen.add(view)
        row = query_sql(con, "publish/view_sql", {"view": view}).fetchone()
        if row is None:
            if view == name:
                return None  # a table
            tables.add(view)
            continue
        sql.append(row[0])
        try:
            tree = sqlglot.parse_one(row[0], dialect="duckdb")
        except SqlglotError:
            return None
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        for t in tree.find_all(exp.Table):
            if not t.name or t.name in ctes or t.name in seen or t.name in todo:
                continue
            if t.db and t.db != "main":
                return None
            todo.append(t.name)
    return ViewReads(frozenset(tables), tuple(sql))


def _derived_print(con: duckdb.DuckDBPyConnection, reads: ViewReads, prints: dict[str, str]) -> str | None:
    """A view's fingerprint derived from what it reads, without computing it: its SQL and the fingerprints of
    its tables (an exported one as recorded before it in this run; any other, such as financial_concept,
    fingerprinted here). Equal prints mean the same SQL over the same rows, so the same rows: the exported
    views read no clock, setting or random value. None when a table it names is not one (a table function)
    or is exported but not recorded yet: then the view is fingerprinted by its rows."""
    parts = []
    for table in sorted(reads.tables):
        if table in prints:
            parts.append((table, prints[table]))
        elif table in PARQUET_TABLES or not query_sql(con, "publish/columns_of", {"table": table}).fetchall()[0][0]:
            return None
        else:
            parts.append((table, query_sql(con, "publish/fingerprint", {"table": table}).fetchall()[0][1]))
    digest = hashlib.md5(json.dumps([list(reads.sql), parts]).encode(), usedforsecurity=False).hexdigest()
    return f"view:{digest}"


def _export_print(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """The fingerprint of the content of export file ``path`` (as sql/publish/fingerprint.sql computes a
    table's), None when there is no such file or it cannot be read (then the table is written again)."""
    if not path.is_file():
        return None
    try:
        described = query_sql(con, "publish/export_columns", {"path": str(path)}).fetchall()
        columns = ",".join(f"{name} {kind}" for name, kind, *_ in described)
        row = query_sql(con, "publish/fingerprint_export", {"path": str(path), "columns": columns}).fetchall()
    except duckdb.Error:  # a damaged file of the last snapshot: not this run's failure
        return None
    return str(row[0][1])


def _stamped_by(con: duckdb.DuckDBPyConnection, table: str, run_id: str) -> int | None:
    """The row count of ``table`` if it has a ``run_id`` column and a row of run ``run_id``, else None."""
    names = [c.split(" ", 1)[0] for c in query_sql(con, "publish/columns_of", {"table": table}).fetchall()[0][0] or []]
    if "run_id" not in names:
        return None
    rows, by_run = query_sql(con, "publish/export_by_run", {"table": table, "run": run_id}).fetchall()[0]
    return int(rows) if by_run else None


def export_dir(wh: Warehouse, run_id: str) -> Path:
    """The folder of run ``run_id``'s exports in its snapshot."""
    return wh.root / "snapshots" / run_id / "parquet"


def export(con: duckdb.DuckDBPyConnection, wh: Warehouse, run_id: str, base_run: str | None) -> tuple[Path, list[str]]:
    """Write the run's exports into its (not yet visible) snapshot folder; returns the folder and the tables
    carried over from ``base_run``'s snapshot. Safe to run again (a retried publish)."""
    out = export_dir(wh, run_id)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    state: dict[str, bool] = {}
    rows: dict[str, int] = {}
    for name, _, changed, row_count in query_sql(con, "publish/export_state_read").fetchall():
        state[name], rows[name] = changed, row_count
    base = export_dir(wh, base_run) if base_run else None
    carried, written = [], []
    for table in PARQUET_TABLES:
        dest = out / f"{table}.parquet"
        src = base / f"{table}.parquet" if base is not None else None
        if state.get(table) is False and src is not None and src.is_file():
            dest.unlink(missing_ok=True)
            try:
                os.link(src, dest)
            except OSError:
                shutil.copy2(src, dest)
            carried.append(table)
        else:
            written.append(table)
    # The rows of an export are a set (see above): DuckDB may write them in any order, without buffering.
    written.sort(key=lambda t: -rows.get(t, 0))  # the largest first, so the writers end together
    cursors: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
    opened = [con.cursor() for _ in range(min(EXPORT_WRITERS, len(written)))]
    for cursor in opened:
        cursors.put(cursor)

    def write(table: str) -> int:
        cursor = cursors.get()
        try:
            return write_table(cursor, table, out / f"{table}.parquet")
        finally:
            cursors.put(cursor)

    try:
        with unordered(con), ThreadPoolExecutor(max_workers=max(len(opened), 1)) as pool:
            counted = list(pool.map(write, written))  # re-raises the first failure
    finally:
        for cursor in opened:
            cursor.close()
    for table, n in zip(written, counted):  # views marked changed unread are counted here (record_state)
        if rows.get(table) != n:
            run_sql(con, "publish/export_rows", {"table": table, "rows": n})
    return out, carried
