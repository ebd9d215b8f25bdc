"""The quality metrics of :mod:`mdm.quality` computed over a DuckDB relation instead of a pandas frame.

:func:`mdm.quality.metrics` and :func:`mdm.quality.identifier_classes` judge each distinct value (or
distinct value with its context columns) once and weigh the verdict by its rows. Here DuckDB groups the
rows and the same rules of :mod:`mdm.quality` judge the groups, streamed a bounded number at a time, so
the figures are the same (``tests/pipelines/test_quality_sql.py`` compares them) without the records
ever being held in memory.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import duckdb
import pandas as pd

from mdm import quality as dq

_FETCH = 50_000  # groups judged per fetch


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _present(v: object) -> bool:
    """As :mod:`mdm.quality`: a text value that is not blank."""
    return isinstance(v, str) and v.strip() != ""


def _groups(con: duckdb.DuckDBPyConnection, relation: str, source: str, columns: list[str], where: str = "true"):
    """Stream (values..., rows) of the distinct combinations of ``columns`` among the source's rows."""
    cols = ", ".join(map(_q, columns))
    cur = con.execute(
        f"SELECT {cols}, count(*) FROM {_q(relation)} WHERE source = $s AND {where} GROUP BY ALL", {"s": source}
    )
    while part := cur.fetchmany(_FETCH):
        yield from part


def _sources(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, int]]:
    return con.execute(f"SELECT source, count(*) FROM {_q(relation)} GROUP BY 1 ORDER BY 1").fetchall()


def metrics(con: duckdb.DuckDBPyConnection, relation: str) -> pd.DataFrame:
    """:func:`mdm.quality.metrics` of the rows of ``relation``."""
    columns = set(con.table(relation).columns)
    out: list[dict[str, Any]] = []
    for source, n in _sources(con, relation):
        for attr, rule in dq.RULES.items():
            if attr not in columns:
                continue
            context = [c for c in dq.RULE_CONTEXT.get(attr, ()) if c in columns]
            n_present = distinct = passed = judged = 0
            for value, rows in _groups(con, relation, source, [attr]):
                if _present(value):
                    n_present += rows
                    distinct += 1
                    if rule is not None and not context:
                        verdict = rule(value, {})
                        if verdict is not None:
                            judged += rows
                            passed += rows if verdict else 0
            if rule is not None and context and n_present:
                for value, *ctx, rows in _groups(con, relation, source, [attr, *context], f"{_q(attr)} IS NOT NULL"):
                    if _present(value):
                        verdict = rule(value, dict(zip(context, ctx)))
                        if verdict is not None:
                            judged += rows
                            passed += rows if verdict else 0
            validity = (passed / judged if judged else None) if rule is not None and n_present else None
            out.append(
                {
                    "source": source,
                    "attribute": attr,
                    "rows": n,
                    "completeness": n_present / n if n else None,
                    "validity": validity,
                    "uniqueness": distinct / n_present if n_present else None,
                }
            )
    return pd.DataFrame(out, columns=["source", "attribute", "rows", "completeness", "validity", "uniqueness"])


def identifier_classes(con: duckdb.DuckDBPyConnection, relation: str) -> pd.DataFrame:
    """:func:`mdm.quality.identifier_classes` of the rows of ``relation``."""
    columns = set(con.table(relation).columns)
    out: list[dict[str, Any]] = []
    for source, _ in _sources(con, relation):
        for attr, classify in dq.CLASSIFIED.items():
            if attr not in columns:
                continue
            if not _has_value(con, relation, source, attr):
                continue
            classes: Counter[str] = Counter()
            for value, rows in _groups(con, relation, source, [attr]):
                classes[classify(value if _present(value) else None)] += rows
            out += [{"source": source, "attribute": attr, "class": c, "rows": r} for c, r in sorted(classes.items())]
        if "registration_number" in columns and _has_value(con, relation, source, "registration_number"):
            context = [c for c in dq.RULE_CONTEXT["registration_number"] if c in columns]
            reg: Counter[str] = Counter()
            for value, *ctx, rows in _groups(con, relation, source, ["registration_number", *context]):
                reg[dq.register_class(value, dict(zip(context, ctx)))] += rows
            out += [
                {"source": source, "attribute": "registration_number", "class": c, "rows": r}
                for c, r in sorted(reg.items())
            ]
    return pd.DataFrame(out, columns=["source", "attribute", "class", "rows"])


def _has_value(con: duckdb.DuckDBPyConnection, relation: str, source: str, column: str) -> bool:
    sql = f"SELECT count({_q(column)}) > 0 FROM {_q(relation)} WHERE source = $s"
    return bool(con.execute(sql, {"s": source}).fetchall()[0][0])
