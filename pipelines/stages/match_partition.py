"""Partitions of the match stage: the pairs to compare, cut into ranges of their blocking key.

The work folder (``<staging>/match/``) holds everything a partition needs, so that a partition needs no
database and no state of the run:

- ``manifest.json``: the run, whether it is incremental, the number of partitions, the match settings and
  the blocking figures (written last by :func:`write_inputs`: its presence means the inputs are complete);
- ``idf.parquet``: the name-token document frequencies and weights (an incremental run's: of the tokens of
  the records it compares, and of a rarest token);
- ``frequency.parquet`` (incremental runs): the document frequencies of every token, for
  new_match_token_frequency;
- ``pairs-<k>.parquet`` / ``records-<k>.parquet``: partition ``k``'s pairs (rid_a, rid_b, rule, steward) and
  the standardised records they need;
- ``model.parquet``: the model that decides the pairs (the last run's in an incremental run, written with
  the inputs; else trained from the vectors by :func:`train`).

:func:`run_partition` compares a partition's pairs and labels them (``vectors-<k>``), or decides them with
the model (``scored-<k>``; an incremental run does both in one pass). It runs in the stage's process, in
worker processes (pipelines.parallel) or as an Airflow mapped task on another worker that shares the
staging folder, with the same result: each pair is compared and decided on its own, with the same weights
and the same model (tests/pipelines/stages/test_match_partitions.py). Every file is written under a
temporary name and renamed, so a partition killed half way leaves nothing half written.
"""

from __future__ import annotations

import itertools
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mdm import matching
from mdm.scoring import FellegiSunter, discretise
from pipelines.fileperms import owner_only
from pipelines.parallel import collector_paused

Step = Literal["compare", "decide"]
MANIFEST = "manifest.json"
FREQUENCY = "frequency.parquet"
VECTOR_COLUMNS = ("rid_a", "rid_b", "rule", *matching.FEATURES, "branch", "label")


def partition_path(work: Path, kind: str, part: int) -> Path:
    return work / f"{kind}-{part:05d}.parquet"


def _write(table: pa.Table, path: Path) -> None:
    """Write ``path`` whole or not at all."""
    owner_only()  # a worker process or task writes owner-only files too (customer data)
    part = path.with_name(path.name + ".part")
    pq.write_table(table, part)
    os.replace(part, path)


def write_model(work: Path, model: FellegiSunter) -> None:
    """The model's parameters, and how it was trained (model.json first: the Parquet file marks it done)."""
    owner_only()
    (work / "model.json").write_text(json.dumps({"trained_on": model.trained_on, "iterations": model.iterations}))
    _write(pa.Table.from_pandas(model.parameters(), preserve_index=False), work / "model.parquet")


def read_model(work: Path) -> FellegiSunter:
    model = FellegiSunter.from_parameters(pq.read_table(work / "model.parquet").to_pandas())
    how = json.loads((work / "model.json").read_text(encoding="utf-8"))
    model.trained_on, model.iterations = how["trained_on"], how["iterations"]
    return model


def read_manifest(work: Path) -> dict[str, Any] | None:
    """The manifest of complete inputs, or None when there are none yet."""
    try:
        return dict(json.loads((work / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def write_frequencies(work: Path, counts: pa.Table) -> None:
    """Every name token's document frequency (token, records), for new_match_token_frequency."""
    _write(counts, work / FREQUENCY)


def write_inputs(
    con: duckdb.DuckDBPyConnection,
    work: Path,
    counts: dict[str, int],
    idf: dict[str, float],
    manifest: dict[str, Any],
    model: FellegiSunter | None,
) -> int:
    """Write every partition's pairs (temp table ``match_todo``) and records (std_organization), the
    token frequencies and weights, the model when there is one, and last the manifest; returns the
    number of partitions."""
    tokens = list(idf)
    _write(
        pa.table({"token": tokens, "records": [counts[t] for t in tokens], "weight": [idf[t] for t in tokens]}),
        work / "idf.parquet",
    )
    if model is not None:
        write_model(work, model)
    parts = int(con.execute("SELECT coalesce(max(part) + 1, 0) FROM match_todo").fetchall()[0][0])
    # One pass over the pairs and one over the records (a scan per partition would cost partitions x
    # records): each streamed in (part, rid) order and cut into the partitions' files.
    pairs = con.sql("SELECT part, rid_a, rid_b, rule, steward FROM match_todo ORDER BY part, rid_a, rid_b")
    _write_parts(pairs, work, "pairs", parts)
    # The records in rid order, once; each partition's records are taken from them by position.
    cols = ", ".join(f"s.{c}" for c in matching.MATCH_COLUMNS)  # constants of mdm.matching, never input
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE tmp_match_records AS SELECT row_number() OVER (ORDER BY s.rid) - 1 AS pos, "
        f"{cols} FROM std_organization s SEMI JOIN (SELECT rid_a AS rid FROM match_todo UNION SELECT rid_b "
        "FROM match_todo) USING (rid)"
    )
    table = con.sql(f"SELECT {', '.join(matching.MATCH_COLUMNS)} FROM tmp_match_records ORDER BY pos").to_arrow_table()
    positions = con.sql(
        "SELECT r.part, s.pos FROM tmp_match_records s JOIN ("
        "SELECT part, rid_a AS rid FROM match_todo UNION SELECT part, rid_b FROM match_todo"
        ") r USING (rid) ORDER BY r.part, s.pos"
    )
    _write_parts(positions, work, "records", parts, taken=table)
    con.execute("DROP TABLE tmp_match_records")
    owner_only()
    tmp = work / (MANIFEST + ".part")
    tmp.write_text(json.dumps(manifest | {"parts": parts}), encoding="utf-8")
    os.replace(tmp, work / MANIFEST)
    return parts


def _write_parts(
    rel: duckdb.DuckDBPyRelation, work: Path, kind: str, parts: int, rows: int = 65536, taken: pa.Table | None = None
) -> None:
    """Write ``kind-<k>`` of every partition ``k`` < ``parts`` from ``rel``, whose first column is the
    partition and whose rows come in partition order (the partition column is not written); a partition
    with no row gets an empty file. With ``taken``, ``rel``'s second column holds row positions in ``taken``
    and a partition's file holds those rows of ``taken``. Holds one partition at a time."""
    reader = rel.to_arrow_reader(rows)
    assert reader is not None  # a SELECT always has a result
    schema = reader.schema.remove(0)
    done = 0  # the next partition to write
    batches: list[pa.RecordBatch] = []  # the rows of partition ``done`` so far

    def flush(upto: int) -> None:
        nonlocal done, batches
        while done < upto:
            table = pa.Table.from_batches(batches, schema=schema).combine_chunks()
            if taken is not None:  # the rows of ``taken`` at the positions in ``rel``'s second column
                table = taken.take(table.column(0)).combine_chunks()
            _write(table, partition_path(work, kind, done))
            done, batches = done + 1, []

    for batch in reader:
        part = batch.column(0).to_numpy()
        cuts = [0, *(np.flatnonzero(part[1:] != part[:-1]) + 1).tolist(), len(part)]
        for start, end in itertools.pairwise(cuts):
            if end > start:
                flush(int(part[start]))
                batches.append(pa.RecordBatch.from_arrays(batch.columns[1:], schema=schema).slice(start, end - start))
    flush(parts)


def settings_of(manifest: dict[str, Any]) -> matching.MatchSettings:
    return matching.MatchSettings(*manifest["settings"])


@lru_cache(maxsize=2)
def _idf(path: Path, mtime: float) -> dict[str, float]:
    t = pq.read_table(path, columns=["token", "weight"])
    return dict(zip(t.column("token").to_pylist(), t.column("weight").to_pylist(), strict=True))


def run_partition(work: Path, part: int, step: Step) -> int:
    """Compare (``compare``) or decide (``decide``) partition ``part`` of ``work``; an incremental run's
    ``compare`` decides in the same pass with the run's model. Returns the number of pairs."""
    with collector_paused():  # a partition's comparisons: millions of small objects, no cycles
        return _run_partition(work, part, step)


def _run_partition(work: Path, part: int, step: Step) -> int:
    manifest = read_manifest(work)
    if manifest is None:
        raise FileNotFoundError(f"{work}: the match inputs are not complete (no {MANIFEST})")
    if step == "decide" and manifest["incremental"]:
        return 0  # decided with the comparison
    if step == "decide":
        vectors = pq.read_table(partition_path(work, "vectors", part)).to_pandas()
    else:
        pairs = pq.read_table(partition_path(work, "pairs", part)).to_pandas()
        records = pq.read_table(partition_path(work, "records", part)).to_pandas()
        idf_path = work / "idf.parquet"
        vectors = matching.compare(records, pairs[["rid_a", "rid_b"]], _idf(idf_path, idf_path.stat().st_mtime))
        vectors["rule"] = pairs["rule"].to_numpy()
        vectors["label"] = matching.label_pairs(records, vectors, pairs["steward"].tolist())
        vectors = vectors[list(VECTOR_COLUMNS)]
        if not manifest["incremental"]:
            _write(pa.Table.from_pandas(vectors, preserve_index=False), partition_path(work, "vectors", part))
            return len(vectors)
    decided = matching.decide(vectors, read_model(work), settings_of(manifest), vectors["rule"].tolist())
    out = decided[list(matching.PAIR_COLUMNS)].copy()
    out["label"] = out["label"].astype("int8")
    _write(pa.Table.from_pandas(out, preserve_index=False), partition_path(work, "scored", part))
    return len(out)


def run_partition_job(job: tuple[Path, int, Step]) -> int:
    """:func:`run_partition` of one (work, part, step), for pipelines.parallel.map_batches."""
    return run_partition(*job)


def train(work: Path) -> FellegiSunter:
    """Train the model on the labelled pairs of every partition's vectors (on all pairs when either class
    has fewer than :data:`mdm.matching.MIN_LABELS`), so the model does not depend on the partitioning;
    writes it to the work folder.

    Read partition by partition, each pair kept as its feature levels only (int8: 8 bytes a pair). Training
    on all pairs (EM) sums floating-point weights, so the pairs are put in (rid_a, rid_b) order first; from
    labelled pairs the model is integer counts per level, the same in any order, so no pair id is read."""
    manifest = read_manifest(work)
    if manifest is None:
        raise FileNotFoundError(f"{work}: the match inputs are not complete (no {MANIFEST})")
    files = [partition_path(work, "vectors", k) for k in range(manifest["parts"])]
    labels = [pq.read_table(f, columns=["label"]).column("label").to_numpy() for f in files]
    label = np.concatenate(labels) if labels else np.zeros(0, dtype=np.int8)
    enough = min((label == 1).sum(), (label == 0).sum()) >= matching.MIN_LABELS
    levels, ids = [], []
    for f, lab in zip(files, labels, strict=True):
        keep = lab >= 0 if enough else np.ones(len(lab), dtype=bool)
        table = pq.read_table(f, columns=[*matching.FEATURES] if enough else ["rid_a", "rid_b", *matching.FEATURES])
        table = table.filter(pa.array(keep))
        levels.append(discretise(table.select(list(matching.FEATURES)).to_pandas(), matching.FEATURES).astype(np.int8))
        if not enough:
            ids.append(table.select(["rid_a", "rid_b"]))
    label = label[label >= 0] if enough else label
    if not levels or not len(label):
        model = FellegiSunter.untrained()
    else:
        level = np.concatenate(levels)
        if not enough:
            keys = pa.concat_tables(ids)
            order = pc.sort_indices(keys, sort_keys=[("rid_a", "ascending"), ("rid_b", "ascending")]).to_numpy()
            del keys
            level, label = level[order], label[order]
        model = matching.train(pd.DataFrame({"label": label}), level)
    write_model(work, model)
    return model
