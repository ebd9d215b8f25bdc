"""The rows of one source as the validate stage checks them, staged in DuckDB (never in pandas).

:func:`stage_rows` copies a source's landed rows into the temporary table ``tmp_validate`` with their
position ``_row`` in file-and-line order (the positions the suites' row failures name) and, for a
change-captured load, ``_checked``: whether the row was read again this run. The other helpers read
that table: the populated columns, the quarantine entries of failed rows, the rows kept for the quality
metrics (``tmp_validate_kept``) and a bounded sample for Great Expectations' Data Docs.
"""

from __future__ import annotations

import duckdb
import pandas as pd

STAGED = "tmp_validate"
KEPT = "tmp_validate_kept"
SAMPLE_ROWS = 2_000  # rows of each source Great Expectations validates for the Data Docs
_INTERNAL = ("_row", "_checked")


def stage_rows(con: duckdb.DuckDBPyConnection, table: str, source: str, changed_files: list[str] | None) -> None:
    """Stage the rows of ``source`` in canonical table ``raw_<table>`` (a constant of the suites map);
    ``changed_files``: the Parquet parts a change-captured load read again (their rows get ``_checked``)."""
    checked = "false AS _checked"
    params: dict[str, object] = {"s": source}
    if changed_files:
        checked = (
            "EXISTS (SELECT 1 FROM read_parquet($f) d WHERE d.src_file = r.src_file AND d.src_line = r.src_line)"
            " AS _checked"
        )
        params["f"] = changed_files
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGED} AS SELECT r.*, "
        f"(row_number() OVER (ORDER BY r.src_file, r.src_line) - 1)::BIGINT AS _row, {checked} "
        f"FROM raw_{table} r WHERE r.source = $s ORDER BY _row",
        params,
    )


def columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [c for c in con.table(STAGED).columns if c not in _INTERNAL]


def populated(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The staged columns with a value in some row, in column order."""
    cols = columns(con)
    has = con.execute("SELECT " + ", ".join(f'count("{c}") > 0' for c in cols) + f" FROM {STAGED}").fetchall()[0]
    return [c for c, h in zip(cols, has) if h]


def quarantined(
    con: duckdb.DuckDBPyConnection, failures: pd.DataFrame, run_id: str, source: str, key: str
) -> pd.DataFrame:
    """Quarantine entries of row failures (``row``, ``rule``, ``column``, ``value``): the row's key
    column (a constant of the validate stage), file and line, in the failures' order."""
    con.register("tmp_row_failures", failures[["row"]].assign(_i=range(len(failures))))
    try:
        rows = con.execute(
            f'SELECT s."{key}" AS source_id, s.src_file AS file, s.src_line AS line FROM tmp_row_failures f '
            f"JOIN {STAGED} s ON s._row = f.row ORDER BY f._i"
        ).df()
    finally:
        con.unregister("tmp_row_failures")
    return pd.DataFrame(
        {
            "run_id": run_id,
            "source": source,
            "source_id": rows["source_id"].to_numpy(dtype=object),
            "file": rows["file"].to_numpy(dtype=object),
            "line": rows["line"].to_numpy(),
            "rule": failures["rule"].to_numpy(),
            "column": failures["column"].to_numpy(),
            "value": [None if v is None else str(v)[:1000] for v in failures["value"]],
        }
    )


def _bad_table(con: duckdb.DuckDBPyConnection, bad: set[int]) -> str:
    con.execute("CREATE OR REPLACE TEMP TABLE tmp_validate_bad (_row BIGINT)")
    if bad:
        con.executemany("INSERT INTO tmp_validate_bad VALUES (?)", [(int(r),) for r in sorted(bad)])
    return "tmp_validate_bad"


def keep(con: duckdb.DuckDBPyConnection, bad: set[int]) -> None:
    """The staged rows but the ``bad`` positions, as view ``tmp_validate_kept`` (without the internal columns)."""
    bad_table = _bad_table(con, bad)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {KEPT} AS SELECT * EXCLUDE (_row, _checked) FROM {STAGED} "
        f"WHERE _row NOT IN (SELECT _row FROM {bad_table})"
    )


def sample(con: duckdb.DuckDBPyConnection, bad: set[int]) -> pd.DataFrame:
    """A bounded sample of the staged rows for Great Expectations: the first rows in order and the failed
    ones (at most ``SAMPLE_ROWS`` of each), as pandas holds them for GX (NULL as None)."""
    bad_table = _bad_table(con, bad)
    frame = con.execute(
        f"SELECT * EXCLUDE (_row, _checked) FROM {STAGED} WHERE _row < {SAMPLE_ROWS} "
        f"OR _row IN (SELECT _row FROM {bad_table} ORDER BY _row LIMIT {SAMPLE_ROWS}) ORDER BY _row"
    ).df()
    return frame.astype(object).mask(frame.isna(), None)


def drop(con: duckdb.DuckDBPyConnection) -> None:
    for name, kind in ((KEPT, "VIEW"), (STAGED, "TABLE"), ("tmp_validate_bad", "TABLE")):
        con.execute(f"DROP {kind} IF EXISTS {name}")
