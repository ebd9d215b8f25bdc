"""The review queue (``review_item``, sql/review/review_item.sql): built by the run at publish, read by
``mdm review`` and the workbench.

:func:`build` is the run's hook. An incremental run recomputes only the items of the golden records it
recomputed (survive gives them the run's id) and keeps the others' (:func:`scoped`): an item's inputs are
its golden records' records, pairs, links, accounts and balances, plus global ones - the SQL, the
parameters and the live steward decisions, recorded in ``review_state`` - so it is rebuilt whole when a
global input changed, when the run matched or clustered in full (no ``run_reclustered``), when accounts or
balances were loaded again (``run_reloaded``) or when the scope is over :data:`MAX_SCOPE_SHARE` of the
golden records. :func:`items` reads the published queue and leaves out the items
answered by a decision made since that run; when the published warehouse has no queue yet it computes
one in memory over the published tables (read-only).
"""

from __future__ import annotations

import hashlib
import json

import duckdb
import pandas as pd

from mdm import decisions as dm
from mdm.standardise import REGISTER_FORMATS
from pipelines.config import Config
from pipelines.plan import has_table
from pipelines.review import inputs
from pipelines.review.store import DecisionError
from pipelines.sqlrow import one_row
from pipelines.warehouse import SQL_DIR, Warehouse, query_sql, run_sql

COLUMNS = (
    "item_id",
    "kind",
    "subject",
    "priority",
    "golden_id",
    "other_golden_id",
    "rid_a",
    "rid_b",
    "attribute",
    "score",
    "uncertainty",
    "accounts",
    "balance",
    "detail",
)
# The size of the queue, for the run summary and `mdm quality`.
QUEUE_SIZE_SQL = "SELECT count(*) AS review_items FROM review_item"
# Above this share of the golden records an incremental build is no cheaper than a full one.
MAX_SCOPE_SHARE = 0.5
# The SQL the queue is built by: a change to either rebuilds it whole.
_SQL_FILES = ("review/review_item.sql", "review/review_scope.sql")
_DECISIONS_DIGEST = (
    "SELECT md5(coalesce(string_agg(d::VARCHAR, chr(10) ORDER BY d::VARCHAR), '')) FROM steward_decision_live AS d"
)


def strong_level(config: Config) -> float:
    """A scored link at or above this probability holds a record in its cluster firmly: half-way from the
    match threshold to certainty (0.95 for the default 0.90)."""
    t = config.matching.match_threshold
    return t + (1.0 - t) / 2


def build(
    con: duckdb.DuckDBPyConnection, config: Config, live: pd.DataFrame | None = None, run_id: str | None = None
) -> int:
    """(Re)create ``steward_decision_live`` and ``review_item`` in ``con`` (which holds match_pair, xref,
    organization_record, account and balance); returns the number of items. ``live``: the run's
    :func:`pipelines.review.inputs.live_decisions_frame` if it has it. ``run_id``: the publishing run, which
    may build incrementally (see the module) and records ``review_state``; without it a full build."""
    frame = inputs.live_decisions_frame(config) if live is None else live
    run_sql(con, "review/steward_decision_live")
    if len(frame):
        con.register("tmp_live", frame[list(inputs.LIVE_COLUMNS)])
        con.execute("INSERT INTO steward_decision_live SELECT * FROM tmp_live")
        con.unregister("tmp_live")
    params = {"register_formats": sorted(REGISTER_FORMATS), "strong": strong_level(config)}
    state = global_inputs(con, params)
    is_scoped = run_id is not None and scoped(con, run_id, state)
    run_sql(con, "review/review_item", {**params, "scoped": is_scoped})
    if run_id is not None:
        names = sorted(state)
        run_sql(con, "review/review_state")
        run_sql(con, "review/review_state_set", {"inputs": names, "values": [state[n] for n in names], "run": run_id})
    return int(one_row(con.execute("SELECT count(*) FROM review_item"))[0])


def global_inputs(con: duckdb.DuckDBPyConnection, params: dict[str, object]) -> dict[str, str]:
    """What every item may depend on that is not its golden records': input name -> digest."""
    sql = hashlib.sha256()
    for name in _SQL_FILES:
        sql.update(name.encode() + b"\0" + (SQL_DIR / name).read_bytes() + b"\0")
    return {
        "sql": sql.hexdigest(),
        "params": hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest(),
        "decisions": str(one_row(con.execute(_DECISIONS_DIGEST))[0]),
    }


def scoped(con: duckdb.DuckDBPyConnection, run_id: str, state: dict[str, str]) -> bool:
    """Whether this run's queue can be built incrementally; if so, fills ``_review_scope`` and ``_review_kept``
    (sql/review/review_scope.sql). Needs the run's tables, before ``review_item`` is replaced."""
    if not all(has_table(con, t) for t in ("review_item", "review_state", "run_reclustered", "run_reloaded")):
        return False
    last = dict(con.execute("SELECT input, value FROM review_state").fetchall())
    if last != state or query_sql(con, "publish/mart_reloaded").fetchall()[0][0]:
        return False
    run_sql(con, "review/review_scope", {"run": run_id})
    scope, kept = one_row(
        con.execute("SELECT (SELECT count(*) FROM _review_scope), (SELECT count(*) FROM _review_kept)")
    )
    return bool(scope <= MAX_SCOPE_SHARE * (scope + kept))


def _published(config: Config) -> duckdb.DuckDBPyConnection:
    wh = Warehouse(config.warehouse)
    if not wh.exists():
        raise DecisionError(
            f"no published warehouse at {wh.db_path}: run `mdm run --config {config.config_path}` first"
        )
    return wh.connect(read_only=True)


def has_queue(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        one_row(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'review_item'"))[0]
    )


def compute(config: Config) -> pd.DataFrame:
    """The queue computed now over the published tables, in memory (the published file is not written)."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH $path AS wh (READ_ONLY)", {"path": str(Warehouse(config.warehouse).db_path)})
        con.execute("SET search_path = 'memory.main,wh.main'")
        build(con, config)
        return con.execute("SELECT * FROM memory.main.review_item ORDER BY priority").df()
    finally:
        con.close()


def items(config: Config, kind: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """The open review items, most important first (the published queue minus the items answered since)."""
    con = _published(config)
    try:
        published = con.execute("SELECT * FROM review_item ORDER BY priority").df() if has_queue(con) else None
    finally:
        con.close()
    if published is None:
        published = compute(config)
    answered = set()
    for d in dm.resolve(inputs.all_decisions(config)).live:
        answered |= d.answered_items()
    out = published[~published["item_id"].isin(answered)]
    if kind:
        out = out[out["kind"] == kind]
    return (out.head(limit) if limit else out).reset_index(drop=True)


def item(config: Config, item_id: str) -> pd.Series:
    """One open item by id, or a DecisionError naming it."""
    found = items(config)
    row = found[found["item_id"] == item_id.strip()]
    if row.empty:
        raise DecisionError(f"no open review item {item_id!r} (decided, resolved by a later run, or never queued)")
    return row.iloc[0]
