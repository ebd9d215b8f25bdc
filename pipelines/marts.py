"""Analyst marts (``sql/marts/<name>.sql``): customer 360, segments, tiers, financial risk, churn watchlist.

:func:`build_marts` is the one entry point, called at publish after the golden tables and ``marts/views``:
it loads the reference inputs (FX rates from the configured CSV, the industry mapping shipped as package
data, the tier rules of the config) as Arrow tables - values never pasted into SQL - and runs the mart SQL
files in dependency order with the config's thresholds as bound parameters. Each file starts with a
header (``-- name:``, ``-- kind:``, ``-- description:``, ``-- column x:``) that :func:`mart_docs` parses
for the data dictionary and the DuckDB comments.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines import mart_scope
from pipelines.config import Config, MartsConfig
from pipelines.errors import MdmError
from pipelines.warehouse import SQL_DIR, run_sql

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_FX_RATES = DATA_DIR / "fx_rates.csv"
# Dependency order: reference tables, then each mart after the ones it reads.
MART_FILES = (
    "fx_rate",
    "industry_isic",
    "tier_rule",
    "financial_yoy",
    "customer_month",
    "customer_360",
    "segment",
    "customer_tier",
    "financial_risk",
    "churn_watchlist",
)
# Views more than one mart reads (v_golden_financials_latest, v_financial_yoy), computed once into temp tables
# (sql/publish/<name>.sql) before the first mart that reads them, dropped after the last.
CACHED_VIEWS = ("mart_financials_latest", "mart_financial_yoy")
FIRST_READER = "customer_360"
MAX_REFERENCE_BYTES = 1_000_000
MAX_REFERENCE_ROWS = 10_000
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class MartError(MdmError):
    """A mart input (FX rates file, mapping) is unusable; names the file and line."""


@dataclass
class MartDoc:
    """A mart's header: what it is and what each column means."""

    name: str
    kind: str
    stage: str
    description: str
    columns: dict[str, str] = field(default_factory=dict)
    file: str = ""  # the SQL file's stem under sql/marts/


def mart_docs(sql_dir: Path = SQL_DIR / "marts") -> dict[str, MartDoc]:
    """The headers of the mart SQL files, by relation name (files without a ``-- name:`` line are skipped)."""
    docs: dict[str, MartDoc] = {}
    for path in sorted(sql_dir.glob("*.sql")):
        meta: dict[str, str] = {}
        cols: dict[str, str] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("--"):
                break
            m = re.match(r"^--\s*column\s+([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+)$", line)
            if m:
                cols[m.group(1)] = m.group(2).strip()
                continue
            m = re.match(r"^--\s*(name|kind|stage|description)\s*:\s*(.+)$", line)
            if m:
                meta[m.group(1)] = m.group(2).strip()
        if "name" in meta:
            docs[meta["name"]] = MartDoc(
                meta["name"],
                meta.get("kind", "table"),
                meta.get("stage", "publish"),
                meta.get("description", ""),
                cols,
                path.stem,
            )
    return docs


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a small reference CSV with their line numbers; size-limited, header checked."""
    try:
        size = path.stat().st_size
        if size > MAX_REFERENCE_BYTES:
            raise MartError(f"{path}: {size:,} bytes, more than the {MAX_REFERENCE_BYTES:,} a reference file may have")
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise MartError(f"{path}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise MartError(f"{path}: not UTF-8: {e}") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise MartError(f"{path}: line 1: missing columns {missing} (expected {', '.join(columns)})")
    rows: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        if len(rows) >= MAX_REFERENCE_ROWS:
            raise MartError(f"{path}: more than {MAX_REFERENCE_ROWS:,} rows")
        rows.append((reader.line_num, {c: (row.get(c) or "").strip() for c in columns}))
    return rows


def load_fx_rates(path: Path, reporting_currency: str) -> pa.Table:
    """The rates of ``path`` (columns currency, base, rate, as_of: one unit of currency is ``rate`` units of
    base) as rates into ``reporting_currency``. Raises :class:`MartError` naming file and line."""
    rates: dict[str, tuple[float, str]] = {}
    bases: set[str] = set()
    for line, row in _read_csv(path, ("currency", "base", "rate", "as_of")):
        cur, base = row["currency"].upper(), row["base"].upper()
        if not _CURRENCY.match(cur) or not _CURRENCY.match(base):
            raise MartError(f"{path}: line {line}: currency and base must be ISO 4217 codes, got {cur!r}, {base!r}")
        try:
            rate = float(row["rate"])
        except ValueError:
            raise MartError(f"{path}: line {line}: rate {row['rate']!r} is not a number") from None
        if not math.isfinite(rate) or rate <= 0:
            raise MartError(f"{path}: line {line}: rate must be a positive number, got {row['rate']!r}")
        try:
            as_of = date.fromisoformat(row["as_of"]).isoformat() if row["as_of"] else ""
        except ValueError:
            raise MartError(f"{path}: line {line}: as_of {row['as_of']!r} is not an ISO date") from None
        if cur in rates:
            raise MartError(f"{path}: line {line}: currency {cur} appears twice")
        bases.add(base)
        rates[cur] = (rate, as_of)
    if len(bases) > 1:
        raise MartError(f"{path}: one base currency per file, found {sorted(bases)}")
    base = next(iter(bases), reporting_currency)
    rates.setdefault(base, (1.0, ""))
    if reporting_currency not in rates:
        raise MartError(f"{path}: no rate for the reporting currency {reporting_currency} (base {base})")
    per_reporting = rates[reporting_currency][0]
    names = sorted(rates)
    return pa.table(
        {
            "currency": pa.array(names, pa.string()),
            "reporting_currency": pa.array([reporting_currency] * len(names), pa.string()),
            "rate": pa.array([rates[c][0] / per_reporting for c in names], pa.float64()),
            "as_of": pa.array([date.fromisoformat(rates[c][1]) if rates[c][1] else None for c in names], pa.date32()),
            "file": pa.array([str(path)] * len(names), pa.string()),
        }
    )


def load_industry_map() -> tuple[pa.Table, pa.Table]:
    """The industry code -> ISIC Rev.4 section mapping and the section titles (package data)."""
    mapping = _read_csv(DATA_DIR / "industry_isic.csv", ("scheme", "code_prefix", "isic_section"))
    sections = _read_csv(DATA_DIR / "isic_sections.csv", ("isic_section", "name"))
    return (
        pa.table(
            {k: pa.array([r[k] for _, r in mapping], pa.string()) for k in ("scheme", "code_prefix", "isic_section")}
        ),
        pa.table({k: pa.array([r[k] for _, r in sections], pa.string()) for k in ("isic_section", "name")}),
    )


def tier_rules(marts: MartsConfig) -> pa.Table:
    """The configured tiers, best first, as an Arrow table."""
    t = marts.tiers
    return pa.table(
        {
            "tier": pa.array([r.name for r in t], pa.string()),
            "tier_rank": pa.array(list(range(1, len(t) + 1)), pa.int32()),
            "min_balance": pa.array([float(r.min_balance) for r in t], pa.float64()),
            "min_products": pa.array([int(r.min_products) for r in t], pa.int32()),
            "min_tenure_years": pa.array([float(r.min_tenure_years) for r in t], pa.float64()),
            "min_monthly_txn": pa.array([float(r.min_monthly_txn) for r in t], pa.float64()),
        }
    )


def mart_params(marts: MartsConfig, run_id: str) -> dict[str, Any]:
    """The bound parameters the mart SQL files may use (each statement takes the ones it names)."""
    return {
        "reporting_currency": marts.reporting_currency,
        "window_months": marts.churn.window_months,
        "balance_drop": marts.churn.balance_drop,
        "transaction_drop": marts.churn.transaction_drop,
        "revenue_fall": marts.risk.revenue_fall,
        "high_leverage": marts.risk.high_leverage,
        "default_tier": marts.default_tier,
        "run": run_id,
    }


def build_marts(con: duckdb.DuckDBPyConnection, config: Config, run_id: str) -> list[str]:
    """Build the marts on ``con`` (inside the publish transaction, after ``marts/views``); returns the
    relations built, in order. Bad reference input raises :class:`MartError` before any mart changes.

    An incremental publish whose global mart inputs are unchanged (pipelines.mart_scope) recomputes the
    per-golden-record marts only for the affected golden ids (sql/publish/mart_scope.sql): each mart file
    deletes their rows and inserts the ones its query gives for them. Every other build is a full one."""
    marts = config.marts
    fx = load_fx_rates(marts.fx_rates or DEFAULT_FX_RATES, marts.reporting_currency)
    industry, sections = load_industry_map()
    inputs = {
        "fx_rate_input": fx,
        "industry_isic_input": industry,
        "isic_section_input": sections,
        "tier_rule_input": tier_rules(marts),
    }
    for name, table in inputs.items():
        con.register(name, table)
    try:
        params = mart_params(marts, run_id)
        state = mart_scope.global_inputs(con, inputs, params)
        run_sql(con, "publish/mart_group")  # before the marts change: the scope compares with the last run's
        last_month = mart_scope.choose_scope(con, run_id, state)
        built = _run_files(con, params, scoped=last_month is not None)
        if last_month is not None and mart_scope.mart_month(con) != last_month:
            # customer_tier's and churn_watchlist's reference month moved: every row depends on it.
            run_sql(con, "publish/mart_full")
            built = _run_files(con, params, scoped=False)
        mart_scope.record_state(con, state, run_id)
        run_sql(con, "publish/mart_cache_drop")  # (after a failure the stage's transaction drops them)
    finally:
        for name in inputs:
            con.unregister(name)
    return built


def _run_files(con: duckdb.DuckDBPyConnection, params: dict[str, Any], scoped: bool) -> list[str]:
    """Run the mart files in :data:`MART_FILES` order (the per-golden ones over ``_mart_scope`` when scoped)."""
    by_file = {d.file: d.name for d in mart_docs().values()}
    built = []
    for name in MART_FILES:
        if name == FIRST_READER:  # views several marts read, computed once (temp tables)
            for cached in CACHED_VIEWS:
                run_sql(con, f"publish/{cached}", {"scoped": scoped})
        run_sql(con, f"marts/{name}", params)
        built.append(by_file.get(name, name))
    return built
