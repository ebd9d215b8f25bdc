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


# A blank text as Python's str.strip() sees it: nothing but the characters str.isspace() is true for (RE2).
_BLANK = "[" + "".join(f"\\x{{{i:x}}}" for i in range(0x110000) if chr(i).isspace()) + "]*"


def _present_sql(column: str, typ: str) -> str:
    """An SQL condition true where :func:`_present` is (only text values can be; the pattern is bound as $blank)."""
    if typ != "VARCHAR":
        return "false"
    return f"({_q(column)} IS NOT NULL AND NOT regexp_full_match({_q(column)}, $blank))"


def _params(source: str, condition: str) -> dict[str, str]:
    return {"s": source, "blank": _BLANK} if "$blank" in condition else {"s": source}


def _counts(con: duckdb.DuckDBPyConnection, relation: str, source: str, column: str, typ: str) -> tuple[int, int]:
    """(rows with a present value, distinct present values) of ``column`` among the source's rows."""
    present = _present_sql(column, typ)
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE {present}), count(DISTINCT {_q(column)}) FILTER (WHERE {present}) "
        f"FROM {_q(relation)} WHERE source = $s",
        _params(source, present),
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def _groups(con: duckdb.DuckDBPyConnection, relation: str, source: str, columns: list[str], where: str = "true"):
    """Stream (values..., rows) of the distinct combinations of ``columns`` among the source's rows."""
    cols = ", ".join(map(_q, columns))
    cur = con.execute(
        f"SELECT {cols}, count(*) FROM {_q(relation)} WHERE source = $s AND {where} GROUP BY ALL",
        _params(source, where),
    )
    while part := cur.fetchmany(_FETCH):
        yield from part


def _sources(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, int]]:
    return con.execute(f"SELECT source, count(*) FROM {_q(relation)} GROUP BY 1 ORDER BY 1").fetchall()


def metrics(con: duckdb.DuckDBPyConnection, relation: str) -> pd.DataFrame:
    """:func:`mdm.quality.metrics` of the rows of ``relation``."""
    rel = con.table(relation)
    types = {c: str(t) for c, t in zip(rel.columns, rel.types)}
    out: list[dict[str, Any]] = []
    for source, n in _sources(con, relation):
        for attr, rule in dq.RULES.items():
            if attr not in types:
                continue
            context = [c for c in dq.RULE_CONTEXT.get(attr, ()) if c in types]
            # Presence and distinct values are counted in SQL; only the present values a rule judges (or
            # their combinations with the rule's context) come to Python, once each.
            n_present, distinct = _counts(con, relation, source, attr, types[attr])
            passed = judged = 0
            present = _present_sql(attr, types[attr])
            if rule is not None and not context and n_present:
                for value, rows in _groups(con, relation, source, [attr], present):
                    verdict = rule(value, {})
                    if verdict is not None:
                        judged += rows
                        passed += rows if verdict else 0
            if rule is not None and context and n_present:
                for value, *ctx, rows in _groups(con, relation, source, [attr, *context], present):
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
