"""Churn watchlist against the generator's churn truth: precision and recall per golden record.

A golden record is truly declining when a CRM record of it is in ``churn_truth.csv`` with a decline
that starts inside the two windows the watchlist compares (the last 2 x ``window_months`` months up to the
latest balance month: a decline in the earlier window lowers the recent window against it); the
watchlist predicts the golden records in ``churn_watchlist``. A hit has the right reason when one of the
truth's reasons is among the watchlist's, where an account closed before the recent window shows as
falling balances or products (``balance_decline``, ``product_decline``, ``transaction_decline``).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb

from pipelines.sqlrow import one_row


def read_churn_truth(path: Path) -> list[tuple[str, str, str, str]]:
    """Rows (source, source_id, reason, from_month) of a churn truth file."""
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return [(r["source"], r["source_id"], r["reason"], r["from_month"]) for r in csv.DictReader(fh)]


def watchlist_quality(db_path: Path, truth_path: Path, window_months: int) -> dict[str, Any]:
    """Precision, recall and right-reason share of ``churn_watchlist`` in the warehouse ``db_path``
    against the churn truth at ``truth_path`` (read-only)."""
    truth = read_churn_truth(truth_path)
    con = duckdb.connect()
    try:
        con.execute("ATTACH $db AS wh (READ_ONLY)", {"db": str(db_path)})
        con.execute("CREATE TEMP TABLE truth (source VARCHAR, source_id VARCHAR, reason VARCHAR, from_month VARCHAR)")
        con.executemany("INSERT INTO truth VALUES (?, ?, ?, ?)", truth)
        row = one_row(
            con.execute(
                """
            WITH ref AS (SELECT CAST(max(month) || '-01' AS DATE) AS m FROM wh.balance),
            positives AS (
                SELECT x.golden_id, list(DISTINCT t.reason) AS reasons
                FROM truth AS t
                JOIN wh.xref AS x ON x.source = t.source AND x.source_id = t.source_id, ref
                WHERE CAST(t.from_month || '-01' AS DATE) > ref.m - to_months(2 * $w)
                GROUP BY x.golden_id
            ),
            predicted AS (SELECT golden_id, reasons FROM wh.churn_watchlist)
            SELECT (SELECT count(*) FROM positives),
                   (SELECT count(*) FROM predicted),
                   count(*) FILTER (WHERE p.golden_id IS NOT NULL AND w.golden_id IS NOT NULL),
                   count(*) FILTER (WHERE p.golden_id IS NOT NULL AND w.golden_id IS NOT NULL
                                    AND list_has_any(w.reasons, list_concat(p.reasons,
                                        CASE WHEN list_contains(p.reasons, 'account_closed')
                                             THEN ['balance_decline', 'product_decline', 'transaction_decline']
                                             ELSE [] END)))
            FROM positives AS p FULL JOIN predicted AS w USING (golden_id)
        """,
                {"w": window_months},
            )
        )
    finally:
        con.close()
    positives, predicted, hits, right_reason = row
    return {
        "positives": positives,
        "predicted": predicted,
        "true_positives": hits,
        "precision": hits / predicted if predicted else 0.0,
        "recall": hits / positives if positives else 0.0,
        "right_reason": right_reason / hits if hits else 0.0,
    }
