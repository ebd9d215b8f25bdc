"""Survivorship of one batch of whole clusters, the unit the survive stage spreads over worker processes.

Kept apart from the stage (and light to import: pandas, pyarrow and :mod:`mdm.survivorship` only) because
every worker process imports it. The result has fixed Arrow schemas, so a batch in which an attribute has
no value gives that column the same type as every other batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from mdm import survivorship

GOLDEN_SCHEMA = pa.schema(
    [
        ("golden_id", pa.string()),
        *((a, pa.string()) for a in survivorship.ATTRIBUTES),
        ("record_count", pa.int64()),
        ("source_count", pa.int64()),
        ("sources", pa.string()),
        ("run_id", pa.string()),
    ]
)
LINEAGE_SCHEMA = pa.schema(
    [(c, pa.int64() if c == "candidates" else pa.string()) for c in survivorship.LINEAGE_COLUMNS]
    + [("run_id", pa.string())]
)
# The record columns survivorship reads.
INPUT_COLUMNS = sorted({*survivorship.RECORD_COLUMNS, *survivorship.ATTRIBUTES.values()})


@dataclass(frozen=True)
class Rules:
    """What every batch is survived by (sent to the worker processes with each batch)."""

    priority: Mapping[str, float]
    spec: survivorship.SurvivorshipSpec
    overrides: pd.DataFrame | None
    run_id: str


def _as_text(values: pd.Series) -> pa.Array:
    """A column as Arrow strings: None and NaN stay null, anything else is its str()."""
    return pa.array(
        [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values], type=pa.string()
    )


def _table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """``frame`` as an Arrow table of ``schema``: string columns as text, the others cast."""
    arrays = []
    for f in schema:
        col = frame[f.name]
        if f.type == pa.string():
            if pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"):
                arrays.append(pa.array(col, type=pa.string(), from_pandas=True))
            else:
                arrays.append(_as_text(col))
        else:
            arrays.append(pa.array(col, type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def survive_batch(job: tuple[pa.Table | pd.DataFrame, Rules]) -> tuple[pa.Table, pa.Table]:
    """Golden records and lineage of one batch of whole clusters (records with their golden_id). The stage hands
    the records over as an Arrow table, which costs far less to send to a worker process than a pandas frame of
    Python strings: the frame is made here."""
    batch, rules = job
    records = batch.to_pandas() if isinstance(batch, pa.Table) else batch
    golden, lineage = survivorship.survive(records, rules.priority, rules.spec, rules.overrides)
    golden["run_id"] = rules.run_id
    lineage["run_id"] = rules.run_id
    return _table(golden, GOLDEN_SCHEMA), _table(lineage, LINEAGE_SCHEMA)
