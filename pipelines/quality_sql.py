"""The quality metrics of :mod:`mdm.quality` computed over a DuckDB relation instead of a pandas frame.

:func:`mdm.quality.metrics` and :func:`mdm.quality.identifier_classes` judge each distinct value (or
distinct value with its context columns) once and weigh the verdict by its rows. Here DuckDB groups the
rows and the same rules of :mod:`mdm.quality` judge the groups, streamed a bounded number at a time, so
the figures are the same (``tests/pipelines/test_quality_sql.py`` compares them) without the records
ever being held in memory.

The figures are made of additive counts (:func:`tally`: rows, present values, rows judged and passed by
each rule, identifier classes) and distinct values counted in SQL at the end (:func:`finish_metrics`): a
tally of the rows of a source can be carried from its last load and updated by the tallies of the rows
that left and came (:mod:`pipelines.quality_carry`), which gives the same counts as a tally of all rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
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


Tally = dict[str, Any]  # JSON-able counts of a set of rows of one source (see tally)


def _types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rel = con.table(relation)
    return {c: str(t) for c, t in zip(rel.columns, rel.types)}


def _judge(
    con: duckdb.DuckDBPyConnection, relation: str, source: str, attr: str, types: dict[str, str]
) -> tuple[int, int]:
    """(rows judged, rows passed) by the rule of ``attr``; only the present values a rule judges (or their
    combinations with the rule's context) come to Python, once each."""
    rule = dq.RULES[attr]
    context = [c for c in dq.RULE_CONTEXT.get(attr, ()) if c in types]
    passed = judged = 0
    present = _present_sql(attr, types[attr])
    if rule is None:
        return 0, 0
    if not context:
        for value, rows in _groups(con, relation, source, [attr], present):
            verdict = rule(value, {})
            if verdict is not None:
                judged += rows
                passed += rows if verdict else 0
        return judged, passed
    for value, *ctx, rows in _groups(con, relation, source, [attr, *context], present):
        if _present(value):
            verdict = rule(value, dict(zip(context, ctx)))
            if verdict is not None:
                judged += rows
                passed += rows if verdict else 0
    return judged, passed


def tally(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, Tally]:
    """source -> the additive counts of its rows in ``relation``: ``rows``; per rule attribute the rows with a
    present value (``present``), judged by its rule (``judged``) and passing it (``passed``); per classified
    identifier the rows with a value (``nonnull``) and the rows of each class (``classes``)."""
    types = _types(con, relation)
    attrs = [a for a in dq.RULES if a in types]
    classified = [a for a in (*dq.CLASSIFIED, "registration_number") if a in types]
    out: dict[str, Tally] = {}
    for source, n in _sources(con, relation):
        conds = [_present_sql(a, types[a]) for a in attrs]
        sql = ", ".join([*(f"count(*) FILTER (WHERE {c})" for c in conds), *(f"count({_q(a)})" for a in classified)])
        row = con.execute(
            f"SELECT {sql} FROM {_q(relation)} WHERE source = $s", _params(source, " ".join(conds))
        ).fetchall()[0]
        t: Tally = {"rows": int(n), "present": {}, "judged": {}, "passed": {}, "nonnull": {}, "classes": {}}
        both = {a for a in classified if a in dq.CLASSIFIED and a in attrs and not dq.RULE_CONTEXT.get(a)}
        for a, k in zip(classified, row[len(attrs) :]):
            t["nonnull"][a] = int(k)
            if a in both:  # judged and classified in one pass: each value's check digits computed once
                t["judged"][a], t["passed"][a], classes = _judge_and_classify(con, relation, source, a)
            else:
                classes = _classes(con, relation, source, a, types)
            t["classes"][a] = dict(classes)
        for a, k in zip(attrs, row[: len(attrs)]):
            t["present"][a] = int(k)
            if a not in both:
                t["judged"][a], t["passed"][a] = _judge(con, relation, source, a, types) if k else (0, 0)
        out[source] = t
    return out


def _judge_and_classify(
    con: duckdb.DuckDBPyConnection, relation: str, source: str, attr: str
) -> tuple[int, int, Counter]:
    """(rows judged, rows passed, rows per class) of a classified identifier whose rule reads no context: the
    rule and the class of each distinct value one after the other (python-stdnum's check digits are
    remembered by mdm.quality for the second call)."""
    rule, classify = dq.RULES[attr], dq.CLASSIFIED[attr]
    assert rule is not None
    judged = passed = 0
    classes: Counter[str] = Counter()
    for value, rows in _groups(con, relation, source, [attr]):
        present = _present(value)
        if present:
            verdict = rule(value, {})
            if verdict is not None:
                judged += rows
                passed += rows if verdict else 0
        classes[classify(value if present else None)] += rows
    return judged, passed, classes


def _classes(con: duckdb.DuckDBPyConnection, relation: str, source: str, attr: str, types: dict[str, str]) -> Counter:
    classes: Counter[str] = Counter()
    if attr in dq.CLASSIFIED:
        classify = dq.CLASSIFIED[attr]
        for value, rows in _groups(con, relation, source, [attr]):
            classes[classify(value if _present(value) else None)] += rows
        return classes
    context = [c for c in dq.RULE_CONTEXT["registration_number"] if c in types]
    for value, *ctx, rows in _groups(con, relation, source, [attr, *context]):
        classes[dq.register_class(value, dict(zip(context, ctx)))] += rows
    return classes


def combine(a: Mapping[str, Any], b: Mapping[str, Any], sign: int = 1) -> dict[str, Any]:
    """The tally of two disjoint sets of rows (``sign`` 1), or of ``a``'s rows less ``b``'s (-1, ``b``'s rows
    being among ``a``'s): the counts added key by key (a class left with no row counts 0, and is not shown)."""
    out: dict[str, Any] = {}
    for key in (*a, *(k for k in b if k not in a)):
        x, y = a.get(key), b.get(key)
        if isinstance(x, Mapping) or isinstance(y, Mapping):
            out[key] = combine(x or {}, y or {}, sign)
        else:
            out[key] = (x or 0) + sign * (y or 0)
    return out


def _distinct(con: duckdb.DuckDBPyConnection, relation: str, source: str, attrs: list[str], types: dict[str, str]):
    """Distinct present values of each of ``attrs`` among the source's rows (one pass in SQL)."""
    if not attrs:
        return {}
    conds = [_present_sql(a, types[a]) for a in attrs]
    sql = ", ".join(f"count(DISTINCT {_q(a)}) FILTER (WHERE {c})" for a, c in zip(attrs, conds))
    row = con.execute(f"SELECT {sql} FROM {_q(relation)} WHERE source = $s", _params(source, " ".join(conds)))
    return {a: int(k) for a, k in zip(attrs, row.fetchall()[0])}


def finish_metrics(con: duckdb.DuckDBPyConnection, relation: str, tallies: Mapping[str, Tally]) -> pd.DataFrame:
    """:func:`mdm.quality.metrics` of the rows of ``relation`` from their ``tallies`` and the distinct
    values counted in ``relation``."""
    types = _types(con, relation)
    out: list[dict[str, Any]] = []
    for source in sorted(tallies):
        t = tallies[source]
        n = t["rows"]
        if not n:
            continue
        attrs = [a for a in dq.RULES if a in types]
        distinct = _distinct(con, relation, source, [a for a in attrs if t["present"].get(a)], types)
        for attr in attrs:
            n_present, judged, passed = t["present"][attr], t["judged"][attr], t["passed"][attr]
            validity = (passed / judged if judged else None) if dq.RULES[attr] is not None and n_present else None
            out.append(
                {
                    "source": source,
                    "attribute": attr,
                    "rows": n,
                    "completeness": n_present / n if n else None,
                    "validity": validity,
                    "uniqueness": distinct[attr] / n_present if n_present else None,
                }
            )
    return pd.DataFrame(out, columns=["source", "attribute", "rows", "completeness", "validity", "uniqueness"])


def finish_classes(tallies: Mapping[str, Tally]) -> pd.DataFrame:
    """:func:`mdm.quality.identifier_classes` of the rows the ``tallies`` count."""
    out: list[dict[str, Any]] = []
    for source in sorted(tallies):
        t = tallies[source]
        for attr in (*dq.CLASSIFIED, "registration_number"):
            if t["nonnull"].get(attr):  # an identifier no row has is not classified
                out += [
                    {"source": source, "attribute": attr, "class": c, "rows": r}
                    for c, r in sorted(t["classes"][attr].items())
                    if r
                ]
    return pd.DataFrame(out, columns=["source", "attribute", "class", "rows"])


def metrics(con: duckdb.DuckDBPyConnection, relation: str) -> pd.DataFrame:
    """:func:`mdm.quality.metrics` of the rows of ``relation``."""
    return finish_metrics(con, relation, tally(con, relation))


def identifier_classes(con: duckdb.DuckDBPyConnection, relation: str) -> pd.DataFrame:
    """:func:`mdm.quality.identifier_classes` of the rows of ``relation``."""
    return finish_classes(tally(con, relation))
