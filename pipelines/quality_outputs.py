"""The run's standardised and golden records checked by their suites before publishing (:mod:`pipelines.quality`).

The suites read a few columns of each table (:func:`pipelines.suite_sql.read_columns`): only those are staged,
for the rows checked, with their position ``_row`` in table order (an incremental run checks the rows it
computed again; the others passed when they were made). The whole rows are read only for the bounded
sample Great Expectations validates for the Data Docs. A table scan reads only the columns a query names,
so the check costs a few narrow scans, not a copy of the table.
"""

from __future__ import annotations

from typing import Any

import duckdb

from pipelines import staged_rows as staged
from pipelines.quality_docs import DocsJob, Sample
from pipelines.suite_files import load_suites
from pipelines.suite_sql import evaluate, read_columns
from pipelines.suites import SUITES_DIR

_KEYS = "tmp_validate_keys"

# Output tables checked before publishing: (suite, staging table, its key, the rows an incremental run
# computed again). Names are constants, never input.
OUTPUTS = (
    (
        "organization_record",
        "new_organization_record",
        "rid",
        "rid IN (SELECT rid FROM run_changed) OR golden_id IN (SELECT golden_id FROM affected)",
    ),
    ("golden_organization", "new_golden_organization", "golden_id", "golden_id IN (SELECT golden_id FROM affected)"),
)


def describe(source: str, f: dict[str, Any], where: str | None = None) -> str:
    col = f" on column {f['column']!r}" if f.get("column") else ""
    origin = f" ({where})" if where else ""
    return f"source '{source}'{origin}: expectation {f['expectation']}{col} failed: observed {f['observed']!r}" + (
        f" ({f['detail']})" if f.get("detail") else ""
    )


def check_outputs(con: duckdb.DuckDBPyConnection, run_id: str, job: DocsJob, incremental: bool) -> list[str]:
    """The failures of the output suites (none: all passed); each table's sample goes to ``job``."""
    suites = load_suites(SUITES_DIR)
    failures: list[str] = []
    for suite, table, key, recomputed in OUTPUTS:
        # List columns are not checked by the suites (and make GX's batch hashing slow): leave them out.
        columns = [
            c
            for c, t in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $t "
                "ORDER BY ordinal_position",
                {"t": table},
            ).fetchall()
            if not t.endswith("[]")
        ]
        read = [c for c in columns if c in read_columns(suites[suite])]
        where = f" WHERE {recomputed}" if incremental else ""
        # The rows checked, by their place in the table (narrow scans: the key and the filter's columns).
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_KEYS} AS SELECT rowid AS _src, "
            f"(row_number() OVER (ORDER BY rowid) - 1)::BIGINT AS _row FROM {table}{where}"
        )
        picked = ", ".join(f't."{c}"' for c in read)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {staged.STAGED} AS SELECT {picked}{', ' if picked else ''}k._row, "
            f"false AS _checked FROM {table} t JOIN {_KEYS} k ON t.rowid = k._src ORDER BY k._row"
        )
        params = {"min_rows": 0} if incremental else None
        outcome = evaluate(
            con, suites[suite], staged.STAGED, batch=suite, run_id=run_id, params=params, columns=columns
        )
        failures += [describe(suite, f) for f in outcome.batch_failures]
        if len(outcome.row_failures):
            rf = outcome.row_failures.head(5)
            failures += [f"{suite}: rule {r.rule} failed on row {r.row} (value {r.value!r})" for r in rf.itertuples()]
        job.add(
            Sample(
                suite,
                suite,
                _sample(con, table, columns, set(outcome.failed_rows())),
                params or {},
                outcome.statistics["rows"],
            )
        )
        staged.drop(con)
        con.execute(f"DROP TABLE {_KEYS}")
        if incremental:
            rows, distinct = con.execute(f"SELECT count(*), count(DISTINCT {key}) FROM {table}").fetchall()[0]
            if rows == 0 or rows != distinct:
                failures.append(
                    f"{suite}: {rows} rows, {distinct} distinct {key} values (expected at least one "
                    "row and unique keys)"
                )
    return failures


def _sample(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], bad: set[int]):
    """:func:`pipelines.staged_rows.sample` of the checked rows: their whole rows (but list columns) read
    for the sampled positions only."""
    bads = staged.bad_table(con, bad)
    picked = ", ".join(f't."{c}"' for c in columns)
    frame = con.execute(
        f"SELECT {picked} FROM {table} t JOIN {_KEYS} k ON t.rowid = k._src WHERE k._row < {staged.SAMPLE_ROWS} "
        f"OR k._row IN (SELECT _row FROM {bads} ORDER BY _row LIMIT {staged.SAMPLE_ROWS}) ORDER BY k._row"
    ).df()
    return frame.astype(object).mask(frame.isna(), None)
