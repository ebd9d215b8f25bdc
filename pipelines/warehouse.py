"""The DuckDB/Parquet warehouse: SQL files, staging copies and the atomic publish.

Layout of ``<warehouse>/``:
    current -> snapshots/<run_id>          the published state: ONE symlink, switched by one atomic rename
    snapshots/<run_id>/mdm.duckdb          the database of that run
    snapshots/<run_id>/parquet/            its tables as Parquet
    snapshots/<run_id>/docs/               Great Expectations Data Docs (index.html)
    mdm.duckdb -> current/mdm.duckdb       fixed links readers use (they never change)
    parquet -> current/parquet, docs -> current/docs
    raw/<source>/load=<run_id>/<table>/part-*.parquet   raw landings of every load, with lineage
    .runs/<run_id>/            private staging folder of a run in progress (gone after it ends)

The database and its exports of one run are published together: a reader sees the old run's or the new
run's, never a mix, even when the publishing process is killed at any point.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.sqlrow import one_row

if TYPE_CHECKING:
    import pyarrow as pa

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
DB_NAME = "mdm.duckdb"
PARQUET_TABLES = (
    "golden_organization",
    "xref",
    "golden_attribute_lineage",
    "golden_id_redirect",
    "organization_record",
    "financial_fact",
    "relationship",
    "golden_organization_history",
    "golden_hierarchy",
    "golden_financial_fact",
    "account",
    "balance",
    # views, exported as their result
    "v_golden_organization",
    "v_xref",
    "v_financial_latest",
    "v_golden_financials_latest",
    "v_hierarchy",
    "v_organization_group",
    "v_financial_yoy",
    # marts and their reference tables
    "customer_360",
    "customer_month",
    "segment",
    "customer_tier",
    "financial_risk",
    "churn_watchlist",
    "fx_rate",
    "industry_isic",
    "tier_rule",
)
# Published states kept: the current one and the one before (a reader may still hold it open).
KEEP_SNAPSHOTS = 2
FIXED_LINKS = {"mdm.duckdb": "current/mdm.duckdb", "parquet": "current/parquet", "docs": "current/docs"}
# Runs whose validation results the Data Docs site shows; run ids sort in start order.
KEEP_DOCS_RUNS = 20
RUN_ID = re.compile(r"^\d{8}T\d{12}-[0-9a-f]{6}$")


def sql_text(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    path = SQL_DIR / f"{name}.sql"
    return path.read_text(encoding="utf-8")


def _bound(stmt: Any, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The parameters one parsed statement names (DuckDB rejects unused named parameters)."""
    names = stmt.named_parameters
    missing = names - set(params or {})
    if missing:
        raise KeyError(f"SQL statement needs parameters {sorted(missing)}")
    return {k: params[k] for k in names} if names else None  # type: ignore[index]


def _execute(con: duckdb.DuckDBPyConnection, stmt: Any, params: Mapping[str, Any] | None) -> duckdb.DuckDBPyConnection:
    """Execute one parsed statement with the parameters it names."""
    return con.execute(stmt.query, _bound(stmt, params))


def run_sql(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None) -> None:
    """Execute every statement of ``sql/<name>.sql`` (DuckDB splits them; values only as bound parameters)."""
    for stmt in con.extract_statements(sql_text(name)):
        _execute(con, stmt, params)


def run_sql_over(con: duckdb.DuckDBPyConnection, data: Any, alias: str, name: str) -> None:
    """Execute every statement of ``sql/<name>.sql`` with ``data`` (an Arrow table) visible as ``alias``.

    Through the relational API rather than ``con.register``: a view registered and dropped inside a
    transaction stays in the transaction, with the table it scans, until the transaction ends, so a stage
    writing batch after batch in its one transaction would keep every batch in memory. The statements take no
    parameters (a relation's query cannot bind them)."""
    rel = con.from_arrow(data)
    for stmt in con.extract_statements(sql_text(name)):
        if stmt.named_parameters:
            raise ValueError(f"sql/{name}.sql: run_sql_over binds no parameters")
        rel.query(alias, stmt.query)


def _single(con: duckdb.DuckDBPyConnection, name: str) -> Any:
    """The one statement of ``sql/<name>.sql``."""
    stmts = con.extract_statements(sql_text(name))
    if len(stmts) != 1:
        raise ValueError(f"sql/{name}.sql must hold exactly one statement, it has {len(stmts)}")
    return stmts[0]


def query_sql(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None):
    """Run the single query of ``sql/<name>.sql`` (values only as bound parameters); returns the cursor."""
    return _execute(con, _single(con, name), params)


def arrow_sql(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None) -> pa.Table:
    """The result of the single query of ``sql/<name>.sql`` (values only as bound parameters) as an Arrow table:
    no Python object per value, so it is cheap to hand to another process (which makes its own pandas frame)."""
    stmt = _single(con, name)
    return con.sql(stmt.query, params=_bound(stmt, params)).to_arrow_table()


@contextmanager
def unordered(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Statements run inside may write their rows in any order (DuckDB's ``preserve_insertion_order`` off): an
    insert or a COPY then writes from every thread without buffering to keep the order of its input. Only for
    rows that are a set, whose readers order what they read. The setting is global to the database, so it
    is put back on after."""
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute("RESET preserve_insertion_order")


class Warehouse:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def runs_dir(self) -> Path:
        return self.root / ".runs"

    def staging(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def exists(self) -> bool:
        return self.db_path.exists()

    def latest_run(self) -> str | None:
        """The run id of the last published run, or None for an empty warehouse."""
        if not self.exists():
            return None
        con = duckdb.connect(str(self.db_path), read_only=True)
        try:
            if not one_row(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'run_log'"))[
                0
            ]:
                return None
            row = con.execute(
                "SELECT run_id FROM run_log WHERE stage = 'publish' AND status = 'success' "
                "ORDER BY finished_at DESC, run_id DESC LIMIT 1"
            ).fetchone()
            return row[0] if row else None
        finally:
            con.close()

    def connect(self, read_only: bool = True) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.db_path), read_only=read_only)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock on the warehouse for the publish step (one publisher at a time)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def seed_docs(self, docs: Path) -> None:
        """Start a run's Data Docs from the published site: the validation results and rendered pages of the
        last KEEP_DOCS_RUNS runs, and everything that belongs to no run (index, suite pages, assets). The
        run then renders only its own results (rendering every run ever would grow each run's cost without
        bound; every result stays in the validation_result table)."""
        published = self.root / "docs"
        if not (published / "_results").is_dir():
            return
        files = [p for p in published.rglob("*") if p.is_file()]
        runs = {p: next((part for part in p.relative_to(published).parts if RUN_ID.match(part)), None) for p in files}
        kept = set(sorted({r for r in runs.values() if r is not None})[-KEEP_DOCS_RUNS:])
        for p, run in runs.items():
            if run is None or run in kept:
                dest = docs / p.relative_to(published)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(p, dest)

    def _link(self, name: str, target: str, run_id: str) -> None:
        """Point ``<warehouse>/<name>`` at ``target`` (relative) with one atomic rename of a fresh symlink."""
        tmp = self.root / f".{name}-{run_id}"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(target)
        os.replace(tmp, self.root / name)

    def swap_in(
        self, staged_db: Path, snapshot: Path, raw_staging: Path, run_id: str, docs: Path | None = None
    ) -> None:
        """Make a run's results the published state. Everything goes into the run's snapshot folder first
        (database, Parquet, Data Docs; the raw landings to raw/), then one atomic rename of ``current``
        publishes them all at once. The fixed links (mdm.duckdb, parquet, docs) point through ``current``."""
        folder = snapshot.parent
        if docs is not None and docs.is_dir():
            shutil.move(str(docs), str(folder / "docs"))
        (folder / "docs").mkdir(exist_ok=True, mode=0o700)
        published_db = folder / DB_NAME
        if published_db.exists():  # a retried publish
            published_db.unlink()
        try:  # a hard link keeps the staged file until the switch, so a publish killed before it can run again
            os.link(staged_db, published_db)
        except OSError:
            shutil.copy2(staged_db, published_db)
        if raw_staging.exists():  # landings of an unpublished run are never read: moving them first is safe
            for src_dir in sorted(p for p in raw_staging.iterdir() if p.is_dir()):
                dest = self.root / "raw" / src_dir.name / f"load={run_id}"
                dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                shutil.move(str(src_dir), str(dest))
        self._link("current", str(folder.relative_to(self.root)), run_id)  # the one atomic switch
        for name, target in FIXED_LINKS.items():
            path = self.root / name
            if not (path.is_symlink() and os.readlink(path) == target):
                self._link(name, target, run_id)  # once per warehouse (or when migrating an older layout)
        self._prune_snapshots(keep=run_id)

    def _prune_snapshots(self, keep: str) -> None:
        snaps = sorted(p for p in (self.root / "snapshots").iterdir() if p.is_dir())
        for old in snaps[:-KEEP_SNAPSHOTS]:
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)
