"""Which golden records' mart rows an incremental publish recomputes (see sql/publish/mart_scope.sql).

:func:`global_inputs` digests what every mart row may depend on (the mart SQL, the reference tables, the
parameters, the source formats, financial_concept, the latest balance month); the marts' table
``mart_state`` keeps the digests they were last built from. :func:`choose_scope` decides between a full
build and an incremental one: incremental only when the last run's marts and state are there, every
global input is unchanged, ``run_reloaded`` exists and names no account, balance or financial fact table,
and the affected golden ids (``_mart_scope``) are at most :data:`MAX_SCOPE_SHARE` of the golden records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.warehouse import SQL_DIR, query_sql, run_sql

# The per-golden-record marts an incremental publish updates in place (DELETE + INSERT of the scope's rows).
SCOPED_MARTS = ("customer_month", "customer_360", "customer_tier", "financial_risk", "churn_watchlist")
# Above this share of the golden records a full build is as cheap as deleting and inserting their rows.
MAX_SCOPE_SHARE = 0.5
# The SQL the marts are made by: a change to any of these files rebuilds every mart.
_SQL_GLOBS = ("marts/*.sql", "publish/mart_*.sql", "golden/financials.sql")
# Version of the scoping rule itself (raise it when mart_scope.py or mart_scope.sql change meaning).
SCOPE_VERSION = "1"


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def sql_digest() -> str:
    """A digest of every SQL file the marts are built by (name and content)."""
    h = hashlib.sha256(SCOPE_VERSION.encode())
    for pattern in _SQL_GLOBS:
        for path in sorted(SQL_DIR.glob(pattern)):
            h.update(str(path.relative_to(SQL_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def global_inputs(
    con: duckdb.DuckDBPyConnection, references: Mapping[str, pa.Table], params: Mapping[str, Any]
) -> dict[str, str]:
    """Every input a mart row may depend on that is not a golden record's own: input name -> digest or value.
    ``references``: the Arrow reference tables (FX rates, industry mapping, tier rules); ``params``: the
    marts' bound parameters (the run id is left out: no mart row carries it)."""
    out = {"sql": sql_digest(), "params": _digest({k: v for k, v in params.items() if k != "run"})}
    for name in sorted(references):
        table = references[name]
        # fx_rate.file (where the rates were read) is in the fx_rate table only, which is rebuilt whole
        kept = [c for c in table.column_names if c != "file"]
        out[name] = _digest(table.select(kept).to_pylist())
    out.update(dict(query_sql(con, "publish/mart_state_inputs").fetchall()))
    return out


def _existing(con: duckdb.DuckDBPyConnection, names: list[str]) -> set[str]:
    return {r[0] for r in query_sql(con, "publish/mart_tables", {"names": names}).fetchall()}


def choose_scope(con: duckdb.DuckDBPyConnection, run_id: str, inputs: Mapping[str, str]) -> str | None:
    """Fill ``_mart_scope`` and return the last build's latest customer_month month for an incremental build
    (the caller rebuilds in full if customer_month's changes, see :func:`mart_month`); return None (scope
    dropped, the per-golden marts dropped) for a full one. Needs ``_mart_group``; runs before any mart changes."""
    run_sql(con, "publish/mart_state")
    last = dict(query_sql(con, "publish/mart_state_read").fetchall())
    existing = _existing(con, [*SCOPED_MARTS, "run_reloaded"])
    incremental = (
        bool(last)
        and all(last.get(k) == v for k, v in inputs.items())
        and set(SCOPED_MARTS) <= existing
        and "mart_month" in last
        and "run_reloaded" in existing  # without it, no proof that accounts and balances are the same
        and query_sql(con, "publish/mart_reloaded").fetchall()[0][0] == 0
    )
    if incremental:
        run_sql(con, "publish/mart_scope", {"run": run_id})
        scope, golden = query_sql(con, "publish/mart_scope_size").fetchall()[0]
        incremental = scope <= MAX_SCOPE_SHARE * golden
    if not incremental:
        run_sql(con, "publish/mart_full")
        return None
    return last["mart_month"]


def mart_month(con: duckdb.DuckDBPyConnection) -> str:
    """The latest month of customer_month ('' when it has none)."""
    return query_sql(con, "publish/mart_month").fetchall()[0][0]


def record_state(con: duckdb.DuckDBPyConnection, inputs: Mapping[str, str], run_id: str) -> None:
    """Record the global inputs the marts were just built from, with customer_month's latest month."""
    values = dict(inputs)
    values["mart_month"] = mart_month(con)
    names = sorted(values)
    run_sql(con, "publish/mart_state_set", {"inputs": names, "values": [values[n] for n in names], "run": run_id})
