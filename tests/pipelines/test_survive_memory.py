"""The survive stage's appends (pipelines.stages.survive._append) do not keep a batch's Arrow tables alive
for the rest of the stage's transaction: memory stays bounded by the batch, not by all golden records."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from pipelines.stages import survive
from pipelines.survive_batch import GOLDEN_SCHEMA, LINEAGE_SCHEMA

ROWS = 20_000


def _batch(schema: pa.Schema, start: int) -> pa.Table:
    """``ROWS`` rows of ``schema`` (each string distinct, ~40 bytes), allocated from Arrow's memory pool."""
    arrays = [
        pa.array(range(start, start + ROWS), type=pa.int64())
        if f.type == pa.int64()
        else pa.array([f"{f.name}-{i:012d}-padding-padding" for i in range(start, start + ROWS)], type=pa.string())
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def test_appended_batches_are_released_inside_the_transaction() -> None:
    con = duckdb.connect()
    con.begin()  # the runner runs every stage inside one transaction
    survive._create_computed(con)
    before = pa.total_allocated_bytes()
    one_batch = 0
    for k in range(4):
        golden, lineage = _batch(GOLDEN_SCHEMA, k * ROWS), _batch(LINEAGE_SCHEMA, k * ROWS)
        one_batch = max(one_batch, golden.nbytes + lineage.nbytes)
        survive._append(con, golden, lineage)
        del golden, lineage
    # The four batches' tables are gone from Arrow's pool while the transaction is still open (a view
    # registered and dropped in the transaction would keep each of them until commit).
    assert one_batch > 1_000_000
    assert pa.total_allocated_bytes() - before < one_batch // 10
    got = con.execute("SELECT count(*), count(DISTINCT golden_id), min(golden_id), max(golden_id) FROM tmp_golden")
    assert got.fetchall()[0] == (
        4 * ROWS,
        4 * ROWS,
        "golden_id-000000000000-padding-padding",
        f"golden_id-{4 * ROWS - 1:012d}-padding-padding",
    )
    assert con.execute("SELECT count(*) FROM tmp_lineage").fetchall()[0][0] == 4 * ROWS
    # Columns land by position: every column of every row holds its own name.
    for f in GOLDEN_SCHEMA:
        if f.type == pa.string():
            bad = con.execute(f'SELECT count(*) FROM tmp_golden WHERE NOT starts_with("{f.name}", $p)', {"p": f.name})
            assert bad.fetchall()[0][0] == 0
    con.commit()


def test_a_registered_view_would_keep_the_batches() -> None:
    """The cause the test above guards against, observed: DuckDB keeps a view dropped inside a transaction,
    with the Arrow table it scans, until the transaction ends."""
    con = duckdb.connect()
    con.begin()
    survive._create_computed(con)
    before = pa.total_allocated_bytes()
    golden = _batch(GOLDEN_SCHEMA, 0)
    size = golden.nbytes
    con.register("survived_golden", golden)
    con.execute("INSERT INTO tmp_golden SELECT * FROM survived_golden")
    con.unregister("survived_golden")
    del golden
    assert pa.total_allocated_bytes() - before >= size
    con.commit()


def test_standardise_writes_release_their_batches_inside_the_transaction() -> None:
    """The standardise stage appends its batches with pipelines.warehouse.run_sql_over (sql/staging/
    std_append.sql, by column name): the same guarantee as survive's appends."""
    from pipelines.stages import standardise

    schema = pa.schema([("rid", pa.string()), ("name", pa.string()), ("aliases", pa.string())])
    con = duckdb.connect()
    con.begin()
    before = pa.total_allocated_bytes()
    one_batch = 0
    for k in range(4):
        batch = _batch(schema, k * ROWS)
        one_batch = max(one_batch, batch.nbytes)
        standardise._write(con, [batch.select(["name", "aliases", "rid"])] if k else [batch], k == 0, False)
        del batch
    assert one_batch > 1_000_000
    assert pa.total_allocated_bytes() - before < one_batch // 10
    got = con.execute(
        "SELECT count(*), count(DISTINCT rid), count(*) FILTER (NOT starts_with(name, 'name-')) FROM std_organization"
    )
    assert got.fetchall()[0] == (4 * ROWS, 4 * ROWS, 0)  # appended by name, whatever the column order
    con.commit()
