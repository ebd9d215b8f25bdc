"""The match stage writes every partition's inputs in one pass over the pairs and one over the records
(pipelines.stages.match_partition.write_inputs): each file must hold exactly the rows a query of that
partition alone gives, in the same order, however the stream's batches fall across partitions."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mdm import matching
from mdm.scoring import discretise
from pipelines.stages.match_partition import (
    VECTOR_COLUMNS,
    _write_parts,
    partition_path,
    read_manifest,
    read_model,
    train,
    write_inputs,
)


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


def _vectors(work: Path, parts: int, labelled: int, seed: int) -> pd.DataFrame:
    """Random vectors in ``parts`` partitions, each in (rid_a, rid_b) order but interleaved across
    partitions (as blocking keys cut them); ``labelled`` pairs of each class carry a label."""
    rng = np.random.default_rng(seed)
    n = 3000
    frame = pd.DataFrame({"rid_a": [f"crm:{i:05d}" for i in rng.permutation(n)]})
    frame["rid_b"] = [f"gleif:{i}" for i in rng.integers(0, 10**6, n)]
    for f in matching.FEATURES:
        frame[f] = np.where(rng.random(n) < 0.1, np.nan, rng.random(n))
    frame["branch"] = 1.0
    frame["rule"] = "score"
    label = np.full(n, -1, dtype=np.int8)
    label[:labelled], label[labelled : 2 * labelled] = 1, 0
    frame["label"] = label
    part = rng.integers(0, parts, n)
    work.mkdir()
    (work / "manifest.json").write_text(json.dumps({"parts": parts, "incremental": False}), encoding="utf-8")
    for k in range(parts):
        chunk = frame[part == k].sort_values(["rid_a", "rid_b"])[list(VECTOR_COLUMNS)]
        pq.write_table(pa.Table.from_pandas(chunk, preserve_index=False), partition_path(work, "vectors", k))
    return frame


def test_train_reads_partitions_lean_and_gives_the_model_of_all_pairs_in_pair_order(tmp_path: Path) -> None:
    for labelled, trained_on in ((400, "labelled_pairs"), (10, "unsupervised")):
        frame = _vectors(tmp_path / trained_on, 7, labelled, seed=labelled)
        model = train(tmp_path / trained_on)
        assert model.trained_on == trained_on
        # The model of the whole frame in (rid_a, rid_b) order, the labelled pairs only when there are enough.
        whole = frame.sort_values(["rid_a", "rid_b"], ignore_index=True)
        if trained_on == "labelled_pairs":
            whole = whole[whole.label >= 0]
        expected = matching.train(whole, discretise(whole, matching.FEATURES))
        assert model.lam == expected.lam and model.iterations == expected.iterations
        for f in matching.FEATURES:
            assert model.m[f].tobytes() == expected.m[f].tobytes()
            assert model.u[f].tobytes() == expected.u[f].tobytes()
        assert read_model(tmp_path / trained_on).parameters().equals(expected.parameters())
