"""The expectation suites evaluated in DuckDB over every row, with Great Expectations' verdicts.

Great Expectations validates pandas frames, so it needs a whole source in memory; at a million records
that does not fit the run's memory budget. This module evaluates the same JSON suites with SQL
aggregates over a DuckDB relation (one pass per expectation, nothing held but the failing rows) and
reports the same :class:`~pipelines.suite_files.Outcome` GX would: the same row failures (position,
rule, column, value), the same batch failures with the same observed values and descriptions, and the
same counts of evaluated and failed expectations (``tests/pipelines/test_suite_sql.py`` compares both
on every case the GX tests use). Value predicates GX runs in Python (``re.search`` of a regex over the
text of a value, set membership, bounds) are run in Python here too, once per distinct value, so a
Unicode digit or an odd value gets the verdict GX gives it.

The relation has a column ``_row``: the 0-based position of each row in the validated order, which
row failures report. With ``checked`` (the name of a boolean column), row-level rules look only at the
rows where it is true (the rows a change-captured load read again) and batch rules at every row.
The GX suites still run, on a bounded sample, for the Data Docs (see :mod:`pipelines.quality`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.gx_results import describe_map, describe_observed
from pipelines.suite_files import LEVELS, Outcome, Suite, SuiteError, column_of, no_row_failures, resolve

ROW = "_row"  # the position column of an evaluated relation
INTERNAL = frozenset({ROW, "_checked"})  # columns of the relation that are not the data's
_FETCH = 50_000  # distinct values judged per fetch (bounded memory)
# Keyword arguments GX leaves out of a result's configuration when they hold their default.
_DEFAULTS: dict[str, dict[str, Any]] = {
    "expect_table_columns_to_match_set": {"exact_match": True},
    "expect_table_row_count_to_be_between": {"min_value": None, "max_value": None},
}
_NOT_SHOWN = ("column", "column_list", "batch_id")


def _plain(value: Any) -> Any:
    """A value as GX reports it: NULL and NaN as None."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _missing_column(column: str) -> str:
    return f'could not be evaluated: Error: The column "{column}" in BatchData does not exist.'


def _predicate(kind: str, kwargs: Mapping[str, Any]) -> Callable[[Any], bool] | None:
    """What GX's pandas engine asks of each non-null value, for the expectations judged value by value."""
    if kind == "expect_column_values_to_match_regex":
        pattern = re.compile(kwargs["regex"])
        return lambda v: pattern.search(str(v)) is not None
    if kind == "expect_column_values_to_be_in_set":
        allowed = set(kwargs["value_set"])
        return lambda v: v in allowed
    if kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        return lambda v: (low is None or v >= low) and (high is None or v <= high)
    return None


SUPPORTED = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_unique",
        "expect_compound_columns_to_be_unique",
        "expect_table_row_count_to_be_between",
        "expect_table_columns_to_match_set",
    }
)


class _Relation:
    """One evaluated relation: its columns, row count and the helpers the expectations share."""

    def __init__(self, con: duckdb.DuckDBPyConnection, name: str, checked: str | None) -> None:
        self.con, self.name, self.checked = con, _q(name), checked
        self.columns = [c for c in con.table(name).columns if c not in INTERNAL and c != checked]
        self.rows = int(con.execute(f"SELECT count(*) FROM {self.name}").fetchall()[0][0])
        self._bad_tables = 0

    def bad_values(self, column: str, predicate: Callable[[Any], bool], scope: str = "") -> str:
        """An SQL condition true for the rows whose non-null value fails ``predicate`` (judged once per
        distinct value, in Python); the failing values go to a registered Arrow table. ``scope`` (`` AND
        <condition>``): judge only the values of the rows the condition is later restricted to."""
        col = _q(column)
        cur = self.con.execute(f"SELECT DISTINCT {col} FROM {self.name} WHERE {col} IS NOT NULL{scope}")
        bad: list[Any] = []
        while part := cur.fetchmany(_FETCH):
            bad += [v for (v,) in part if not predicate(v)]
        if not bad:
            return "false"
        self._bad_tables += 1
        table = f"tmp_bad_values_{self._bad_tables}"
        typ = self.con.execute(f"SELECT typeof({col}) FROM {self.name} WHERE {col} IS NOT NULL LIMIT 1").fetchall()[0][
            0
        ]
        arrow = pa.table({"v": pa.array(bad, type=pa.string() if typ == "VARCHAR" else None)})
        self.con.register(table, arrow)
        return f"{col} IN (SELECT v FROM {table})"

    def close(self) -> None:
        for i in range(1, self._bad_tables + 1):
            self.con.unregister(f"tmp_bad_values_{i}")


def _unexpected(rel: _Relation, kind: str, kwargs: Mapping[str, Any], scope: str = "") -> tuple[str, str]:
    """(condition of an unexpected row, condition of a row the expectation looks at) for a map expectation.
    ``scope``: the condition the caller restricts the rows to (`` AND <condition>``, or nothing); only
    the values of those rows are judged in Python (a change-captured load's rows read again)."""
    if kind == "expect_column_values_to_not_be_null":
        return f"{_q(kwargs['column'])} IS NULL", "true"
    if kind == "expect_compound_columns_to_be_unique":
        cols = ", ".join(map(_q, kwargs["column_list"]))
        considered = " OR ".join(f"{_q(c)} IS NOT NULL" for c in kwargs["column_list"])
        # NULLs group together, as in pandas' duplicated(); rows whose values are all missing are ignored.
        dup = f"{ROW} IN (SELECT {ROW} FROM (SELECT {ROW}, count(*) OVER (PARTITION BY {cols}) AS n FROM {rel.name} WHERE {considered}) WHERE n > 1)"
        return dup, considered
    col = _q(kwargs["column"])
    considered = f"{col} IS NOT NULL"
    if kind == "expect_column_values_to_be_unique":
        dup = f"{col} IN (SELECT {col} FROM {rel.name} WHERE {col} IS NOT NULL GROUP BY 1 HAVING count(*) > 1)"
        return dup, considered
    predicate = _predicate(kind, kwargs)
    assert predicate is not None
    return rel.bad_values(kwargs["column"], predicate, scope), considered


def _needed(kind: str, kwargs: Mapping[str, Any]) -> list[str]:
    if "column" in kwargs:
        return [str(kwargs["column"])]
    return [str(c) for c in kwargs.get("column_list", [])]


def _columns_check(rel: _Relation, kwargs: Mapping[str, Any]) -> tuple[bool, Any, Any]:
    """GX's verdict on the column set (case-insensitive names): (success, observed, mismatched)."""
    observed = sorted(rel.columns)
    actual = {c.lower(): c for c in rel.columns}
    expected = {str(c).lower(): str(c) for c in kwargs["column_set"]}
    unexpected = sorted(actual[c] for c in set(actual) - set(expected))
    missing = sorted(expected[c] for c in set(expected) - set(actual))
    mismatched: dict[str, list[str]] = {}
    if unexpected:
        mismatched["unexpected"] = unexpected
    if missing:
        mismatched["missing"] = missing
    exact = kwargs.get("exact_match", True)
    success = not mismatched or (not exact and not missing)
    return success, observed, mismatched


def _in_gx_order(expectations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The expectations in the order GX evaluates and reports them: grouped by column, in the order of
    each column's first expectation (those without one column form one group)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for exp in expectations:
        column = exp.get("kwargs", {}).get("column")
        groups.setdefault(column if isinstance(column, str) else "\0", []).append(exp)
    return [e for group in groups.values() for e in group]


def evaluate(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    relation: str,
    *,
    batch: str,
    run_id: str,
    params: Mapping[str, Any] | None = None,
    level: str | None = None,
    checked: str | None = None,
) -> Outcome:
    """Evaluate ``suite`` (only its expectations of ``level`` when given) over the DuckDB relation
    ``relation`` (a table or view with a ``_row`` position column), as GX would over the same rows."""
    if level is not None and level not in LEVELS:
        raise SuiteError(f"unknown level {level!r}; levels are {', '.join(sorted(LEVELS))}")
    values = suite.values(params)
    rel = _Relation(con, relation, checked)
    row_parts: list[pd.DataFrame] = []
    batch_failures: list[dict[str, Any]] = []
    evaluated = succeeded = 0
    try:
        for exp in _in_gx_order(suite.spec["expectations"]):
            meta = exp.get("meta", {})
            if level is not None and meta.get("level") != level:
                continue
            kind = exp["type"]
            if kind not in SUPPORTED:
                raise SuiteError(f"suite {suite.name!r}: expectation {kind} has no SQL evaluation")
            kwargs = resolve(exp.get("kwargs", {}), values)
            shown = {
                k: v
                for k, v in kwargs.items()
                if k not in _NOT_SHOWN and not (k in _DEFAULTS.get(kind, {}) and _DEFAULTS[kind][k] == v)
            }
            evaluated += 1
            column = column_of(kwargs)
            absent = [c for c in _needed(kind, kwargs) if c not in rel.columns]
            if absent:
                batch_failures.append(
                    {"expectation": kind, "column": column, "observed": None, "detail": _missing_column(absent[0])}
                )
                continue
            if kind == "expect_table_row_count_to_be_between":
                low, high = kwargs.get("min_value"), kwargs.get("max_value")
                ok = (low is None or rel.rows >= low) and (high is None or rel.rows <= high)
                failure = None if ok else {"observed": rel.rows, "detail": describe_observed(rel.rows, shown)}
            elif kind == "expect_table_columns_to_match_set":
                ok, observed, mismatched = _columns_check(rel, kwargs)
                failure = (
                    None if ok else {"observed": observed, "detail": describe_observed(observed, shown, mismatched)}
                )
            else:
                row_level = meta.get("level") == "row"
                scope = f" AND {_q(checked)}" if checked and row_level else ""
                bad, considered = _unexpected(rel, kind, kwargs, scope)
                if row_level:
                    value = f"{_q(kwargs['column'])} AS value" if "column" in kwargs else "NULL AS value"
                    rows = con.execute(
                        f"SELECT {ROW} AS row, {value} FROM {rel.name} WHERE ({bad}){scope} ORDER BY {ROW}"
                    ).df()
                    ok = rows.empty
                    if not ok:
                        rows = pd.DataFrame(
                            {
                                "row": rows["row"].astype("int64"),
                                "rule": meta["rule"],
                                "column": column,
                                "value": pd.Series([_plain(v) for v in rows["value"].tolist()], dtype="object"),
                            }
                        )
                        row_parts.append(rows)
                    failure = None
                else:
                    n_bad, n_considered = con.execute(
                        f"SELECT count(*) FILTER (WHERE {bad}), count(*) FILTER (WHERE {considered}) FROM {rel.name}"
                    ).fetchall()[0]
                    mostly = kwargs.get("mostly", 1.0)
                    ok = n_considered == 0 or (float(n_considered) - float(n_bad)) / float(n_considered) >= mostly
                    percent = n_bad / n_considered * 100 if n_considered else None
                    failure = (
                        None
                        if ok
                        else {"observed": percent, "detail": describe_map(kind, shown, n_bad, rel.rows, percent)}
                    )
            if failure is None and ok:
                succeeded += 1
            elif failure is not None:
                batch_failures.append({"expectation": kind, "column": column, **failure})
    finally:
        rel.close()
    row_failures = (
        pd.concat(row_parts, ignore_index=True).sort_values(["row", "rule"], kind="stable").reset_index(drop=True)
        if row_parts
        else no_row_failures()
    )
    return Outcome(
        suite=suite.name if level is None else f"{suite.name}.{level}",
        batch=batch,
        run_id=run_id,
        success=not batch_failures,
        row_failures=row_failures,
        batch_failures=batch_failures,
        statistics={
            "evaluated_expectations": evaluated,
            "successful_expectations": succeeded,
            "unsuccessful_expectations": evaluated - succeeded,
            "success_percent": 100.0 * succeeded / evaluated if evaluated else None,
            "rows": rel.rows,
            "row_failures": len(row_failures),
            "failed_rows": int(row_failures["row"].nunique()),
            "batch_failures": len(batch_failures),
        },
    )
