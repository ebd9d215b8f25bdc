"""The validation outcome of a source whose landing an incremental run reuses (:mod:`pipelines.quality`):
its quarantine, quality metrics, identifier classes, load and suite results copied under this run's id."""

from __future__ import annotations

import duckdb
import pandas as pd


def carry_over(
    con: duckdb.DuckDBPyConnection,
    source: str,
    prev_run: str,
    run_id: str,
    quarantine: list[pd.DataFrame],
    metrics: list[pd.DataFrame],
    classes: list[pd.DataFrame],
    loads: list[tuple],
    results: list[tuple],
) -> int:
    """Copy a reused load's validation outcome under this run's id; returns its quarantined rows."""
    params = {"r": prev_run, "s": source}
    quarantined = 0
    for target, table in ((quarantine, "quarantine"), (metrics, "quality_metrics"), (classes, "identifier_quality")):
        # Table names are constants of this function.
        frame = con.execute(f"SELECT * FROM {table} WHERE run_id = $r AND source = $s", params).df()
        frame["run_id"] = run_id
        target.append(frame)
        if table == "quarantine":
            quarantined = len(frame[["file", "line"]].drop_duplicates())
    for row in con.execute(
        'SELECT source, format, "table", rows, populated, fingerprint, watermarks FROM source_load '
        "WHERE run_id = $r AND source = $s",
        params,
    ).fetchall():
        loads.append((run_id, *row))
    for row in con.execute(
        "SELECT suite, batch, success, evaluated, failed_rows, detail FROM validation_result "
        "WHERE run_id = $r AND batch = $s",
        params,
    ).fetchall():
        results.append((run_id, *row))
    return quarantined
