"""Completing a changes-only read of a database source from the source's last landing.

A changes-only read (:mod:`pipelines.landing`, mode ``changes``) lands the rows updated since the last load's
watermarks and, unless a count of distinct keys showed that nothing was deleted
(:mod:`pipelines.adapters.sql_deletions`), the keys of all rows under ``_keys/<table>/``. :class:`Merger`
turns that into a whole landing, table by table (:func:`merge_table`), in a background thread while the
adapter reads the next query; :func:`key_count` gives the adapter the distinct keys over the last landing
and the rows read so far. Parts of the last landing that lose no row are carried over by hard link.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from mdm.schema import TABLES, arrow_schema

# Where a changes-only read of a database source lands the keys of all its rows (removed after the merge).
KEYS_DIR = "_keys"
# Written into _keys/<table>/ when the adapter found, by a count, that no key of the table was deleted.
NO_DELETIONS = "_no_deletions"
PROVENANCE = ("src_file", "src_line")  # where a row was read: not part of its data


class Merger:
    """Completes a changes-only read of a database source into a whole landing, table by table (see
    :func:`merge_table`). A table is merged as soon as its rows and keys are landed (:meth:`table_done`), in
    a background thread (DuckDB and the Parquet writer release the GIL), while the adapter reads and counts
    the next query: the customers' merge overlaps the balances' count."""

    def __init__(self, since: dict[str, str], base: Path, target: Path, files: dict[str, list[str]]) -> None:
        from pipelines.adapters.sql import QUERIES

        # Rows read again replace the ones with the same natural key (constants of the adapter, never config).
        self.tables = {q.table: q.natural_key for q in QUERIES if q.key in since}
        self.base, self.target, self.files = base, target, files
        self.changed: dict[str, list[str]] = {}
        self.jobs: dict[str, Future[tuple[int, int]]] = {}
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mdm-merge")

    def merging(self, table: str) -> bool:
        return table in self.jobs

    def table_done(self, table: str) -> None:
        """Every row and key of ``table`` is landed: merge it (once)."""
        if table not in self.tables or table in self.jobs:
            return
        self.changed[table] = [f for f in self.files[table] if Path(f).is_relative_to(self.target)]
        self.jobs[table] = self.pool.submit(self._merge, table)

    def _merge(self, table: str) -> tuple[int, int]:
        con = duckdb.connect()
        try:
            return merge_table(con, table, self.tables[table], self.base, self.target, self.files, self.changed[table])
        finally:
            con.close()

    def abandon(self) -> None:
        """Wait for a merge under way and start no other (the landing failed)."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def finish(self) -> dict[str, Any]:
        """Merge the tables not merged yet and wait for all. Returns the organisation rows of the landing
        (``rows``), the organisation parts holding rows read again that differ from the last landing
        (``files``, for validation), the rows read again unchanged (``unchanged``), the parts carried over by
        hard link (``linked``) and the tables whose deletions a count ruled out (``counted``)."""
        counted = sorted(t for t in self.tables if (self.target / KEYS_DIR / t / NO_DELETIONS).exists())
        try:
            for table in sorted(self.tables):
                self.table_done(table)
            merged = [self.jobs[t].result() for t in sorted(self.jobs)]  # the first failure is raised
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.target / KEYS_DIR, ignore_errors=True)
        target = self.target
        rows = sum(
            pq.ParquetFile(f).metadata.num_rows for f in self.files["organization"] if Path(f).is_relative_to(target)
        )
        org = self.changed.get("organization")
        return {
            "rows": rows,
            "files": org
            if org is not None
            else [f for f in self.files["organization"] if Path(f).is_relative_to(target)],
            "unchanged": sum(same for same, _ in merged),
            "linked": sum(links for _, links in merged),
            "counted": counted,
        }


def key_count(base: Path, target: Path, files: dict[str, list[str]], table: str) -> int:
    """:attr:`ExtractContext.key_count` of a changes-only read: the distinct natural keys of ``table`` over
    the last landing (``base``) and the parts of this read landed so far under ``target`` (|K_O u K_C|).
    NULLs count as one value in a key column, as in the database's ``SELECT DISTINCT``."""
    from pipelines.adapters.sql import QUERIES

    key = next(q.natural_key for q in QUERIES if q.table == table)
    parts = sorted(str(p) for p in (base / table).glob("*.parquet"))
    parts += [f for f in files[table] if Path(f).is_relative_to(target)]
    if not parts:
        return 0
    cols = ", ".join(_q(k) for k in key)  # constants of the adapter's contract; paths are bound
    con = duckdb.connect()
    try:
        sql = f"SELECT count(*) FROM (SELECT DISTINCT {cols} FROM read_parquet($parts, hive_partitioning = false))"
        return int(con.execute(sql, {"parts": parts}).fetchall()[0][0])
    finally:
        con.close()


def merge_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: tuple[str, ...],
    base: Path,
    target: Path,
    files: dict[str, list[str]],
    changed: list[str],
) -> tuple[int, int]:
    """One table of a changes-only read (:class:`Merger`): the rows of the last landing (``base``) whose key is still in
    the source and was not read again with other data are kept beside the rows read again that differ.

    The changes query includes its watermark (rows committed at the same time must not be missed), so rows
    are read again that did not change: a row read again whose data columns (all but the provenance
    ``src_file``/``src_line``) equal those of the one kept row of its key is dropped, and the kept row stays
    as it was. A part of the last landing none of whose rows is removed or replaced is carried over by hard
    link; the others are written again without those rows, in their order. ``changed`` (the parts read
    again) is updated in place. Returns the rows read again unchanged and the parts linked.

    When the adapter found by a count that no key was deleted (``_keys/<table>/_no_deletions``), the keys
    of the source are those of the last landing and of the rows read again, and no keys were read: an old
    row is kept unless its key was read again with other data or holds a NULL, exactly the rows the
    semi-join with all keys keeps (a NULL never equals a key read)."""
    old = sorted(str(p) for p in (base / table).glob("*.parquet"))
    keys = sorted(str(p) for p in (target / KEYS_DIR / table).glob("*.parquet"))
    counted = (target / KEYS_DIR / table / NO_DELETIONS).exists()
    if not old or not (keys or counted):
        return 0, 0  # nothing to keep: no earlier rows, or no rows left in the source
    # Column names are constants of mdm.schema and the adapter's contract; paths are bound parameters.
    using = ", ".join(_q(k) for k in key)
    data = [c for c in TABLES[table] if c not in PROVENANCE]
    same_sql = " AND ".join(f"c.{_q(c)} IS NOT DISTINCT FROM o.{_q(c)}" for c in data)
    con.execute("DROP TABLE IF EXISTS cdc_changed")
    con.execute("DROP TABLE IF EXISTS cdc_replaced")
    if changed:
        # The rows read again, with their part and position, and whether they equal the one old row of their key.
        con.execute(
            "CREATE TEMP TABLE cdc_changed AS SELECT c.*, count(*) OVER (PARTITION BY "
            + using
            + ") AS cdc_n FROM read_parquet($changed, hive_partitioning = false, filename = true, file_row_number = true) c",
            {"changed": changed},
        )
        con.execute(
            "CREATE TEMP TABLE cdc_old AS SELECT o.*, count(*) OVER (PARTITION BY "
            + using
            + ") AS cdc_n FROM read_parquet($old, hive_partitioning = false) o "
            + f"SEMI JOIN cdc_changed c USING ({using})",
            {"old": old},
        )
        con.execute(
            "CREATE TEMP TABLE cdc_same AS SELECT c.filename, c.file_row_number FROM cdc_changed c "
            f"JOIN cdc_old o USING ({using}) WHERE c.cdc_n = 1 AND o.cdc_n = 1 AND {same_sql}"
        )
        con.execute(
            f"CREATE TEMP TABLE cdc_replaced AS SELECT DISTINCT {using} FROM cdc_changed c "
            "ANTI JOIN cdc_same s USING (filename, file_row_number)"
        )
        same = con.execute("SELECT count(*) FROM cdc_same").fetchall()[0][0]
    else:
        con.execute(
            f"CREATE TEMP TABLE cdc_replaced AS SELECT {using} FROM read_parquet($old, hive_partitioning = false) LIMIT 0",
            {"old": old},
        )
        same = 0
    keys_param: dict[str, Any] = {}
    if counted:  # every key of the last landing is still in the source (see the docstring)
        gone = " OR ".join(f"o.{_q(k)} IS NULL" for k in key)
        still = "WHERE " + " AND ".join(f"o.{_q(k)} IS NOT NULL" for k in key)
        in_source = ""
    else:
        gone = f"NOT EXISTS (SELECT 1 FROM read_parquet($keys, hive_partitioning = false) k WHERE {_match('k', key)})"
        still = ""
        in_source = f"SEMI JOIN read_parquet($keys, hive_partitioning = false) k USING ({using}) "
        keys_param = {"keys": keys}
    # The parts of the last landing with a row whose key is gone from the source or read again with other data.
    touched = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT o.filename FROM read_parquet($old, hive_partitioning = false, filename = true) o "
            f"WHERE {gone} OR EXISTS (SELECT 1 FROM cdc_replaced r WHERE {_match('r', key)})",
            {"old": old} | keys_param,
        ).fetchall()
    }
    out_dir = target / table
    out_dir.mkdir(parents=True, exist_ok=True)
    kept: list[str] = []
    linked = 0
    for i, part in enumerate(old):
        out = out_dir / f"kept-{i:05d}.parquet"  # named before the parts read again, in the old order
        if part not in touched:
            link(Path(part), out)
            linked += 1
        elif not _write(
            con,
            table,
            "SELECT o.* EXCLUDE (file_row_number) "
            "FROM read_parquet($part, hive_partitioning = false, file_row_number = true) o "
            f"{in_source}ANTI JOIN cdc_replaced r USING ({using}) {still} "
            "ORDER BY o.file_row_number",
            {"part": part} | keys_param,
            out,
        ):
            continue
        kept.append(str(out))
    if same:
        # The parts read again lose their unchanged rows (a part left without rows is removed).
        for part in list(changed):
            rest = out_dir / (Path(part).stem + ".rest.parquet")
            if _write(
                con,
                table,
                "SELECT c.* EXCLUDE (file_row_number) "
                "FROM read_parquet($part, hive_partitioning = false, file_row_number = true) c "
                "WHERE c.file_row_number NOT IN (SELECT file_row_number FROM cdc_same WHERE filename = $part) "
                "ORDER BY c.file_row_number",
                {"part": part},
                rest,
            ):
                rest.replace(part)
            else:
                Path(part).unlink()
                changed.remove(part)
                files[table].remove(part)
    for name in ("cdc_changed", "cdc_old", "cdc_same", "cdc_replaced"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    files[table][:0] = kept
    return same, linked


def _q(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def _match(alias: str, key: tuple[str, ...]) -> str:
    """``<alias>.k = o.k AND ...`` over the key columns."""
    return " AND ".join(f"{alias}.{_q(k)} = o.{_q(k)}" for k in key)


def _write(con: duckdb.DuckDBPyConnection, table: str, sql: str, params: dict[str, Any], out: Path) -> bool:
    """Write the rows of ``sql`` as a part of ``table`` at ``out``; False (nothing written) when there are none."""
    rows = con.sql(sql, params=params).to_arrow_table()
    if not rows.num_rows:
        return False
    pq.write_table(rows.cast(arrow_schema(table)), out, compression="zstd")
    return True


def link(part: Path, dest: Path) -> None:
    """Hard-link a Parquet part of an earlier landing (a copy where the file system has no hard links)."""
    try:
        os.link(part, dest)
    except OSError:
        shutil.copy2(part, dest)
