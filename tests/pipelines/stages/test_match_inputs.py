"""The match stage writes every partition's inputs in one pass over the pairs and one over the records
(pipelines.stages.match_partition.write_inputs): each file must hold exactly the rows a query of that
partition alone gives, in the same order, however the stream's batches fall across partitions."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from mdm import matching
from pipelines.stages.match_partition import _write_parts, partition_path, read_manifest, write_inputs


def _todo(con: duckdb.DuckDBPyConnection) -> None:
    cols = ", ".join(f"NULL::VARCHAR AS {c}" for c in matching.MATCH_COLUMNS if c != "rid")
    con.execute(
        f"CREATE TABLE std_organization AS SELECT 'r' || lpad(i::VARCHAR, 3, '0') AS rid, {cols} FROM range(40) t(i)"
    )
    # 7 partitions of uneven size; records shared between partitions; one partition of a single pair.
    con.execute(
        "CREATE TEMP TABLE match_todo AS SELECT 'r' || lpad((i % 30)::VARCHAR, 3, '0') AS rid_a, "
        "'r' || lpad((i % 30 + 1 + i // 30)::VARCHAR, 3, '0') AS rid_b, "
        "CASE WHEN i % 5 = 0 THEN 'id:lei' ELSE 'score' END AS rule, "
        "CASE WHEN i % 7 = 0 THEN i % 2 = 0 END AS steward, "
        "CASE WHEN i < 3 THEN 0 WHEN i < 4 THEN 1 WHEN i < 30 THEN 2 WHEN i < 31 THEN 3 ELSE 4 + (i - 31) // 9 END "
        "AS part FROM range(57) t(i)"
    )


def test_one_pass_writes_each_partition_as_its_own_query(tmp_path: Path) -> None:
    con = duckdb.connect()
    _todo(con)
    parts = write_inputs(con, tmp_path, {"a": 1}, {"a": 1.0}, {"run_id": "x"}, None)
    assert parts == 7 == read_manifest(tmp_path)["parts"]
    cols = ", ".join(f"s.{c}" for c in matching.MATCH_COLUMNS)
    total = 0
    for k in range(parts):
        pairs = con.sql(
            "SELECT rid_a, rid_b, rule, steward FROM match_todo WHERE part = $k ORDER BY rid_a, rid_b", params={"k": k}
        ).to_arrow_table()
        records = con.sql(
            f"SELECT {cols} FROM std_organization s WHERE rid IN "
            "(SELECT rid_a FROM match_todo WHERE part = $k UNION SELECT rid_b FROM match_todo WHERE part = $k) "
            "ORDER BY s.rid",
            params={"k": k},
        ).to_arrow_table()
        assert pq.read_table(partition_path(tmp_path, "pairs", k)).equals(pairs)
        assert pq.read_table(partition_path(tmp_path, "records", k)).equals(records)
        assert pairs.num_rows > 0 and records.num_rows > 1
        total += pairs.num_rows
    assert total == 57
    assert not partition_path(tmp_path, "pairs", parts).exists()


def test_batches_that_cut_across_partitions(tmp_path: Path) -> None:
    con = duckdb.connect()
    _todo(con)
    rel = con.sql("SELECT part, rid_a, rid_b FROM match_todo ORDER BY part, rid_a, rid_b")
    for rows in (1, 2, 5, 1000):
        out = tmp_path / str(rows)
        out.mkdir()
        _write_parts(rel, out, "pairs", 9, rows)  # two more partitions than the pairs have: written empty
        sizes = [pq.read_table(partition_path(out, "pairs", k)).num_rows for k in range(9)]
        assert sizes == [3, 1, 26, 1, 9, 9, 8, 0, 0]
        first = pq.read_table(partition_path(out, "pairs", 4)).to_pylist()
        assert (
            first
            == con.sql("SELECT rid_a, rid_b FROM match_todo WHERE part = 4 ORDER BY rid_a, rid_b")
            .to_arrow_table()
            .to_pylist()
        )
