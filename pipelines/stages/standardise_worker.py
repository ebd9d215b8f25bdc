"""The worker side of the standardise stage: one batch of staged records (Arrow) -> its standardised form.

Kept apart from pipelines.stages.standardise so that a worker process imports only pyarrow and
mdm.standardise (the stage module's imports reach the run plan and recordlinkage, seconds per worker).
"""

from __future__ import annotations

import pyarrow as pa

from mdm.standardise import FLAG_COLUMNS, LIST_COLUMNS, STANDARD_COLUMNS, standardise_columns


def _arrow_type(column: str) -> pa.DataType:
    if column in LIST_COLUMNS:
        return pa.list_(pa.string())
    return pa.bool_() if column in FLAG_COLUMNS else pa.string()


# Types of the standardised columns: fixed, so every batch appends to the same table whatever its values
# (a batch without any legacy Chinese registration number still has a VARCHAR id_CN_REG).
STANDARD_SCHEMA = pa.schema([pa.field(c, _arrow_type(c)) for c in STANDARD_COLUMNS])


def standardise_batch(batch: pa.Table) -> pa.Table:
    """One batch of staged records (the columns of stg_organization, then content_hash) -> the same rows
    with the standardised columns (:data:`mdm.standardise.STANDARD_COLUMNS`): the scalar ones, then
    content_hash, then the list ones (the column order std_organization always had). Pure, no I/O: it runs
    in a worker process."""
    std = standardise_columns({name: batch.column(name).to_pylist() for name in batch.column_names})
    hashes = batch.column("content_hash")
    table = batch.drop_columns(["content_hash"])
    for f in STANDARD_SCHEMA:
        if f.name not in LIST_COLUMNS:
            table = table.append_column(f, pa.array(std[f.name], type=f.type))
    table = table.append_column("content_hash", hashes)
    for f in STANDARD_SCHEMA:
        if f.name in LIST_COLUMNS:
            table = table.append_column(f, pa.array(std[f.name], type=f.type))
    return table
