"""What every stage gets and gives: the run context and the stage result."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.config import Config
from pipelines.errors import MdmError
from pipelines.plan import RunPlan
from pipelines.warehouse import Warehouse

Progress = Callable[[str, int, int | None], None]  # (message, done, total)
# List columns of the standardised records, typed list<string> whatever their first rows hold.
LIST_COLUMNS = ("aliases", "qualifiers", "qualifiers_en", "invalid_ids")


class RunError(MdmError):
    """A stage failed; the message says which and why."""


@dataclass
class StageResult:
    stage: str
    rows_in: int
    rows_out: int
    status: str = "success"
    started_at: str = ""
    finished_at: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StageResult:
        return cls(
            d["stage"],
            d["rows_in"],
            d["rows_out"],
            d.get("status", "success"),
            d.get("started_at", ""),
            d.get("finished_at", ""),
            d.get("detail", {}),
        )


@dataclass
class StageContext:
    """A stage's view of its run: the config, the plan, the staging folder and what earlier stages observed."""

    config: Config
    plan: RunPlan
    dir: Path
    observed: dict[str, Any]  # facts earlier stages learned from the data (see pipelines.plan)
    progress: Progress | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # facts this stage learns, stored with its result

    @property
    def run_id(self) -> str:
        return self.plan.run_id

    @property
    def wh(self) -> Warehouse:
        return Warehouse(self.config.warehouse)

    def observe(self, key: str, value: Any) -> None:
        """Record a fact later stages read (JSON-serialisable)."""
        json.dumps(value)
        self.notes[key] = value


def arrow_with_lists(frame: pd.DataFrame) -> pa.Table:
    """A frame as Arrow with list columns typed list<string>: DuckDB would guess their type from a
    sample of rows and fail on a later non-empty list when the sampled ones are all empty."""
    fields = [pa.field(c, pa.list_(pa.string())) for c in LIST_COLUMNS if c in frame.columns]
    table = pa.Table.from_pandas(frame.drop(columns=[f.name for f in fields]), preserve_index=False)
    for f in fields:
        values = [None if not isinstance(v, list | tuple) else [str(x) for x in v] for v in frame[f.name]]
        table = table.append_column(f, pa.array(values, type=f.type))
    return table


def typed_strings(frame: pd.DataFrame, columns: Any) -> pa.Table:
    """A frame as Arrow with the given columns typed string, so a column with no value yet is VARCHAR
    (not DuckDB's NULL type, which a later run could not append to)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in columns:
        if name in table.column_names and table.schema.field(name).type != pa.string():
            i = table.column_names.index(name)
            values = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in frame[name]]
            table = table.set_column(i, pa.field(name, pa.string()), pa.array(values, type=pa.string()))
    return table


def frame_table(
    con: duckdb.DuckDBPyConnection, name: str, data: Any, sql: str, params: dict[str, Any] | None = None
) -> None:
    """Run ``sql`` with ``data`` (a frame or Arrow table) visible as ``name`` for that statement only."""
    con.register(name, data)
    try:
        con.execute(sql, params)
    finally:
        con.unregister(name)


DECISIONS_DIR = "decisions"  # the run's snapshot of the live steward decisions, taken at start


def snapshot_decisions(config: Config, folder: Path) -> Any:
    """Take the steward decisions live now (control store, plus legacy CSVs not imported yet) into the run's
    staging folder, so every stage of the run honours the same ones whatever a steward decides meanwhile.
    Returns the inputs (with their fingerprints, for the plan)."""
    from pipelines.crypto import cipher_for, protect_overrides
    from pipelines.review.inputs import decision_inputs

    inputs = decision_inputs(config)
    if inputs.overrides is not None:  # sensitive values are never written in clear, not even to staging
        inputs.overrides = protect_overrides(inputs.overrides, cipher_for(config))
    out = folder / DECISIONS_DIR
    out.mkdir(exist_ok=True, mode=0o700)
    inputs.pairs.to_parquet(out / "pairs.parquet", index=False)
    if inputs.overrides is not None:
        inputs.overrides.to_parquet(out / "overrides.parquet", index=False)
    return inputs


def steward_decisions(ctx: StageContext) -> pd.DataFrame:
    """The steward decisions this run honours: (rid_a, rid_b, is_match), one row per pair (splits are
    cannot-links)."""
    return pd.read_parquet(ctx.dir / DECISIONS_DIR / "pairs.parquet")


def steward_overrides(ctx: StageContext) -> pd.DataFrame | None:
    """Steward overrides of golden attributes this run honours, or None."""
    path = ctx.dir / DECISIONS_DIR / "overrides.parquet"
    return pd.read_parquet(path) if path.exists() else None
