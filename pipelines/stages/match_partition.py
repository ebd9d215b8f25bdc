"""Partitions of the match stage: the pairs to compare, cut into ranges of their blocking key.

The coordinator (:func:`write_inputs`, in the stage's process) writes each partition's pairs and the
records they need as Parquet into the run's staging folder (``match/``), with the name-token weights
once (``idf.parquet``). A partition (:func:`run_partition`) then needs nothing else: no database, no
state of the run. It compares its pairs and labels them (``compare``), or, given the trained model,
also decides them (``decide`` / ``score``), and writes its result next to its inputs. So partitions run
in the stage's process, in worker processes (pipelines.parallel), or as Airflow mapped tasks on other
workers sharing the staging folder, and give the same pairs: each pair is compared and decided on its
own, with the same weights and the same model (tests/pipelines/stages/test_match_partitions.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mdm import matching
from mdm.scoring import FellegiSunter
from pipelines.fileperms import owner_only

Step = Literal["compare", "decide", "score"]  # score = compare and decide in one pass (model given)

VECTOR_COLUMNS = ("rid_a", "rid_b", "rule", *matching.FEATURES, "branch", "label")


@dataclass(frozen=True)
class Partition:
    """One partition's work: ``step`` over partition ``part`` of the folder ``work``."""

    work: Path
    part: int
    step: Step
    settings: matching.MatchSettings
    model: tuple[tuple[str, int, float | None, float, float, float], ...] = ()  # FellegiSunter.parameters rows

    def path(self, kind: str) -> Path:
        return partition_path(self.work, kind, self.part)


def partition_path(work: Path, kind: str, part: int) -> Path:
    return work / f"{kind}-{part:05d}.parquet"


def model_rows(model: FellegiSunter) -> tuple[tuple[str, int, float | None, float, float, float], ...]:
    """The model as plain rows, cheap to hand to another process."""
    p = model.parameters()
    return tuple(
        (str(f), int(lv), None if pd.isna(lb) else float(lb), float(m), float(u), float(w))
        for f, lv, lb, m, u, w in p[["feature", "level", "lower_bound", "m", "u", "weight"]].itertuples(index=False)
    )


def _model(rows: tuple[tuple[str, int, float | None, float, float, float], ...]) -> FellegiSunter:
    frame = pd.DataFrame(list(rows), columns=["feature", "level", "lower_bound", "m", "u", "weight"])
    return FellegiSunter.from_parameters(frame)


def _write(table: pa.Table, path: Path) -> None:
    """Write ``path`` whole or not at all (a partition killed half way leaves no half file to read)."""
    owner_only()  # a worker process or task writes owner-only files too (customer data)
    part = path.with_name(path.name + ".part")
    pq.write_table(table, part)
    os.replace(part, path)


def write_inputs(con: duckdb.DuckDBPyConnection, work: Path, columns: tuple[str, ...], idf: dict[str, float]) -> int:
    """Write every partition's pairs (``match_todo``: rid_a, rid_b, rule, steward, part) and records (the
    ``columns`` of std_organization) and the token weights; returns the number of partitions."""
    _write(pa.table({"token": list(idf), "weight": list(idf.values())}), work / "idf.parquet")
    parts = con.execute("SELECT coalesce(max(part) + 1, 0) FROM match_todo").fetchall()[0][0]
    cols = ", ".join(f"s.{c}" for c in columns)  # constants of mdm.matching, never input
    for k in range(parts):
        pairs = con.sql(
            "SELECT rid_a, rid_b, rule, steward FROM match_todo WHERE part = $k ORDER BY rid_a, rid_b", params={"k": k}
        ).to_arrow_table()
        _write(pairs, partition_path(work, "pairs", k))
        records = con.sql(
            f"SELECT {cols} FROM std_organization s SEMI JOIN ("
            "SELECT rid_a AS rid FROM match_todo WHERE part = $k UNION SELECT rid_b FROM match_todo WHERE part = $k"
            ") USING (rid) ORDER BY s.rid",
            params={"k": k},
        ).to_arrow_table()
        _write(records, partition_path(work, "records", k))
    return int(parts)


@lru_cache(maxsize=2)
def _idf(path: Path) -> dict[str, float]:
    t = pq.read_table(path)
    return dict(zip(t.column("token").to_pylist(), t.column("weight").to_pylist(), strict=True))


def run_partition(p: Partition) -> dict[str, int]:
    """Run one step of one partition; returns counts (pairs, and labelled pairs of each class)."""
    if p.step == "decide":
        vectors = pq.read_table(p.path("vectors")).to_pandas()
    else:
        pairs = pq.read_table(p.path("pairs")).to_pandas()
        records = pq.read_table(p.path("records")).to_pandas()
        vectors = matching.compare(records, pairs[["rid_a", "rid_b"]], _idf(p.work / "idf.parquet"))
        vectors["rule"] = pairs["rule"].to_numpy()
        vectors["label"] = matching.label_pairs(records, vectors, pairs["steward"].tolist())
        vectors = vectors[list(VECTOR_COLUMNS)]
    if p.step == "compare":
        _write(pa.Table.from_pandas(vectors, preserve_index=False), p.path("vectors"))
    else:
        decided = matching.decide(vectors, _model(p.model), p.settings, vectors["rule"].tolist())
        out = decided[list(matching.PAIR_COLUMNS)].copy()
        out["label"] = out["label"].astype("int8")
        _write(pa.Table.from_pandas(out, preserve_index=False), p.path("scored"))
    labels = vectors["label"].to_numpy()
    return {"pairs": len(vectors), "match": int((labels == 1).sum()), "non_match": int((labels == 0).sum())}
