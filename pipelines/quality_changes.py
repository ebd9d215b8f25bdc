"""The validation of a change-captured load (:mod:`pipelines.quality`): the suite's row rules over the rows
read again, its batch rules over the whole landing, the base load's quarantine of the rows kept from it."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from pipelines import staged_rows as staged
from pipelines.suite_files import Outcome, Suite
from pipelines.suite_sql import evaluate


def validate_changes(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    source: str,
    run_id: str,
    params: dict[str, Any],
    cdc: dict[str, Any],
) -> tuple[Outcome, pd.DataFrame, set[int]]:
    """Validate a change-captured load (the staged rows: the whole landing, ordered by file and line):
    the suite's row rules over the rows read again (``cdc['files']``, this run's parts, marked
    ``_checked``), its batch rules over the whole landing. The base load's quarantine entries of the
    rows kept from it are carried over. Returns an outcome whose row failures are positions in the
    landing, the carried quarantine entries and the positions of their rows."""
    rel = staged.STAGED
    batch = evaluate(con, suite, rel, batch=source, run_id=run_id, params=params, level="batch")
    n_checked = con.execute(f"SELECT count(*) FILTER (WHERE _checked) FROM {rel}").fetchall()[0][0]
    failures = batch.row_failures
    evaluated = batch.statistics["evaluated_expectations"]
    if n_checked:
        checked = evaluate(con, suite, rel, batch=source, run_id=run_id, params=params, level="row", checked="_checked")
        failures = checked.row_failures
        evaluated += checked.statistics["evaluated_expectations"]
    # Rows read again replace their old selves, whose old quarantine entries do not apply.
    base = {"base": cdc["base_load"], "s": source}
    carried = con.execute(
        f"SELECT q.* REPLACE ($run AS run_id) FROM quarantine q WHERE q.run_id = $base AND q.source = $s "
        f"AND EXISTS (SELECT 1 FROM {rel} l WHERE l.src_file = q.file AND l.src_line = q.line AND NOT l._checked)",
        {"run": run_id, **base},
    ).df()
    kept_bad = {
        int(r[0])
        for r in con.execute(
            f"SELECT l._row FROM {rel} l WHERE NOT l._checked AND EXISTS (SELECT 1 FROM quarantine q "
            "WHERE q.run_id = $base AND q.source = $s AND q.file = l.src_file AND q.line = l.src_line)",
            base,
        ).fetchall()
    }
    outcome = Outcome(
        suite=suite.name,
        batch=source,
        run_id=run_id,
        success=batch.success,
        row_failures=failures.reset_index(drop=True),
        batch_failures=batch.batch_failures,
        statistics={"evaluated_expectations": evaluated, "rows_checked": n_checked, "rows": batch.statistics["rows"]},
    )
    return outcome, carried, kept_bad
