"""The review queue (``review_item``, sql/review/review_item.sql): built by the run at publish, read by
``mdm review`` and the workbench.

:func:`build` is the run's hook. :func:`items` reads the published queue and leaves out the items
answered by a decision made since that run; when the published warehouse has no queue yet it computes
one in memory over the published tables (read-only).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from mdm import decisions as dm
from mdm.standardise import REGISTER_FORMATS
from pipelines.config import Config
from pipelines.review import inputs
from pipelines.review.store import DecisionError
from pipelines.sqlrow import one_row
from pipelines.warehouse import Warehouse, run_sql

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


def strong_level(config: Config) -> float:
    """A scored link at or above this probability holds a record in its cluster firmly: half-way from the
    match threshold to certainty (0.95 for the default 0.90)."""
    t = config.matching.match_threshold
    return t + (1.0 - t) / 2


def build(con: duckdb.DuckDBPyConnection, config: Config, live: pd.DataFrame | None = None) -> int:
    """(Re)create ``steward_decision_live`` and ``review_item`` in ``con`` (which holds match_pair, xref,
    organization_record, account and balance); returns the number of items. ``live``: the run's
    :func:`pipelines.review.inputs.live_decisions_frame` if it has it."""
    frame = inputs.live_decisions_frame(config) if live is None else live
    run_sql(con, "review/steward_decision_live")
    if len(frame):
        con.register("tmp_live", frame[list(inputs.LIVE_COLUMNS)])
        con.execute("INSERT INTO steward_decision_live SELECT * FROM tmp_live")
        con.unregister("tmp_live")
    run_sql(con, "review/review_item", {"register_formats": sorted(REGISTER_FORMATS), "strong": strong_level(config)})
    return int(one_row(con.execute("SELECT count(*) FROM review_item"))[0])


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
