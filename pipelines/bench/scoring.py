"""Accuracy of a clustering against the sample's truth: pairwise, B-cubed and blocking recall."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.bench.evaluation import bcubed, pairwise


@dataclass
class Scores:
    """Accuracy of one clustering against the truth."""

    pairwise: dict[str, float]
    bcubed: dict[str, float]
    blocking_recall: float
    clusters: int


def load_truth(path: Path) -> dict[str, str]:
    """``truth.csv`` (source, source_id, entity_id) as rid (``source:source_id``) -> entity id."""
    with path.open(encoding="utf-8", newline="") as f:
        return {f"{r['source']}:{r['source_id']}": r["entity_id"] for r in csv.DictReader(f)}


def blocking_recall(con: duckdb.DuckDBPyConnection, clusters: Mapping[str, str], compared_sql: str) -> float:
    """Share of true matching pairs (same entity id in the ``truth`` table of ``con``, over records that
    were clustered) that were compared (a row of ``compared_sql`` with columns a, b, in either order) or
    ended up in the same cluster."""
    con.register("clu", pd.DataFrame({"rid": list(clusters), "cid": list(clusters.values())}))
    try:
        total, found = con.execute(f"""
            WITH t AS (SELECT t.rid, t.entity_id, c.cid FROM truth t JOIN clu c USING (rid)),
            tp AS (SELECT a.rid AS a, b.rid AS b, a.cid = b.cid AS same
                   FROM t a JOIN t b ON a.entity_id = b.entity_id AND a.rid < b.rid),
            cmp AS (SELECT DISTINCT least(a, b) AS a, greatest(a, b) AS b FROM ({compared_sql}))
            SELECT count(*), count(*) FILTER (WHERE tp.same OR cmp.a IS NOT NULL)
            FROM tp LEFT JOIN cmp ON tp.a = cmp.a AND tp.b = cmp.b""").fetchall()[0]
    finally:
        con.unregister("clu")
    return found / total if total else 1.0


def score(
    con: duckdb.DuckDBPyConnection, truth: Mapping[str, str], clusters: Mapping[str, str], compared_sql: str
) -> Scores:
    """Pairwise and B-cubed scores of ``clusters`` against ``truth``, and blocking recall."""
    return Scores(
        pairwise(clusters, truth),
        bcubed(clusters, truth),
        blocking_recall(con, clusters, compared_sql),
        len(set(clusters.values())),
    )


def read_clusters(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, str]:
    """rid -> cluster id from a query returning those two columns (values as bound ``params``)."""
    return {str(r): str(c) for r, c in con.execute(sql, params).fetchall()}
