"""The analyst report: one self-contained HTML file (inline CSS and SVG, no script, no network).

Sections: source quality over the runs, match statistics, segments, tiers, financial risk and the churn
watchlist, read from a published warehouse (read-only) and drawn as server-side SVG (pipelines/report_svg.py)
into ``pipelines/templates/report.html.j2``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from pipelines.errors import MdmError
from pipelines.report_svg import bar_chart, line_chart, sparkline
from pipelines.sqlrow import one_row

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_NAME = "report.html"
WATCHLIST_ROWS = 25


def _has(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        one_row(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = $n", {"n": name}))[0]
    )


def _quality(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Completeness and validity per source over the last 12 runs."""
    rows = con.execute("""
        WITH runs AS (SELECT DISTINCT run_id FROM quality_metrics ORDER BY run_id DESC LIMIT 12)
        SELECT run_id, source, avg(completeness), avg(validity)
        FROM quality_metrics WHERE run_id IN (SELECT run_id FROM runs)
        GROUP BY run_id, source ORDER BY run_id, source""").fetchall()
    runs = sorted({r[0] for r in rows})
    sources = sorted({r[1] for r in rows})
    comp: dict[str, list[float | None]] = {s: [None] * len(runs) for s in sources}
    valid: dict[str, list[float | None]] = {s: [None] * len(runs) for s in sources}
    for run, src, c, v in rows:
        comp[src][runs.index(run)] = None if c is None else round(100 * c, 1)
        valid[src][runs.index(run)] = None if v is None else round(100 * v, 1)
    labels = [r[4:8] + " " + r[9:13] for r in runs]  # MMDD hhmm of the run id
    return {
        "runs": len(runs),
        "completeness": Markup(line_chart(labels, comp, "Completeness per source (% of attributes filled)", y_max=100)),
        "validity": Markup(line_chart(labels, valid, "Validity per source (% of values valid)", y_max=100)),
    }


def _matching(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    bands = con.execute("SELECT band, count(*) FROM match_pair GROUP BY band ORDER BY 2 DESC").fetchall()
    rules = con.execute("SELECT match_rule, count(*) FROM xref GROUP BY 1 ORDER BY 2 DESC").fetchall()
    sizes = con.execute(
        "SELECT CASE WHEN record_count >= 5 THEN '5+' ELSE record_count::VARCHAR END AS n, count(*) "
        "FROM golden_organization GROUP BY 1 ORDER BY 1"
    ).fetchall()
    golden, records = one_row(con.execute("SELECT count(*), sum(record_count) FROM golden_organization"))
    return {
        "golden": golden,
        "records": records or 0,
        "bands": Markup(bar_chart(bands, "Scored candidate pairs by band")),
        "rules": Markup(bar_chart(rules, "Source records by how they joined their golden record")),
        "sizes": Markup(bar_chart(sizes, "Golden records by number of source records")),
    }


def _marts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    if not all(_has(con, t) for t in ("segment", "customer_tier", "financial_risk", "churn_watchlist")):
        return {}
    ccy = one_row(con.execute("SELECT any_value(reporting_currency) FROM customer_360"))[0] or ""
    section = con.execute(
        "SELECT CASE WHEN isic_section = 'unknown' THEN 'unknown' ELSE isic_section || ' ' || "
        "left(any_value(isic_section_name), 28) END, sum(organisations) "
        "FROM segment GROUP BY isic_section ORDER BY 2 DESC"
    ).fetchall()
    region = con.execute("SELECT region, sum(total_balance) FROM segment GROUP BY 1 ORDER BY 2 DESC").fetchall()
    size = con.execute("SELECT size_band, sum(organisations) FROM segment GROUP BY 1 ORDER BY 2 DESC").fetchall()
    tiers = con.execute(
        "SELECT tier, count(*), sum(total_balance) FROM customer_tier GROUP BY tier, tier_rank ORDER BY tier_rank"
    ).fetchall()
    risk = con.execute(
        "SELECT risk_band, count(*) FROM financial_risk GROUP BY 1 "
        "ORDER BY CASE risk_band WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END"
    ).fetchall()
    flags = con.execute(
        "SELECT f, count(*) FROM (SELECT unnest(flags) AS f FROM financial_risk) GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    reasons = con.execute(
        "SELECT r, count(*) FROM (SELECT unnest(reasons) AS r FROM churn_watchlist) GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    watch = con.execute(
        "SELECT legal_name, group_name, reason, balance_trend, total_balance, group_total_balance, "
        "tier, relationship_manager FROM churn_watchlist "
        "ORDER BY group_total_balance DESC, golden_id LIMIT $n",
        {"n": WATCHLIST_ROWS},
    ).fetchall()
    on_list, exposure = one_row(con.execute("SELECT count(*), sum(total_balance) FROM churn_watchlist"))
    return {
        "currency": ccy,
        "section": Markup(bar_chart(section, "Organisations by ISIC Rev.4 section")),
        "region": Markup(bar_chart(region, f"Total balance by region ({ccy})")),
        "size": Markup(bar_chart(size, "Organisations by size band (EU SME turnover limits)")),
        "tier_count": Markup(bar_chart([(t, n) for t, n, _ in tiers], "Customers by tier")),
        "tier_balance": Markup(bar_chart([(t, b or 0) for t, _, b in tiers], f"Total balance by tier ({ccy})")),
        "risk": Markup(bar_chart(risk, "Organisations with SEC figures by risk band")),
        "flags": Markup(bar_chart(flags, "Risk flags")),
        "reasons": Markup(bar_chart(reasons, "Watchlist reasons")),
        "on_list": on_list,
        "exposure": exposure or 0,
        "watchlist": [
            {
                "name": n,
                "group": g,
                "reason": r,
                "trend": Markup(sparkline(list(t or []))),
                "balance": b,
                "group_balance": gb,
                "tier": tier,
                "rm": rm,
            }
            for n, g, r, t, b, gb, tier, rm in watch
        ],
    }


def build_report(db_path: Path, out_dir: Path) -> Path:
    """Write ``<out_dir>/report.html`` from the warehouse at ``db_path``; returns its path."""
    if not Path(db_path).is_file():
        raise MdmError(f"no published warehouse at {db_path}; run `mdm run` first")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        run = con.execute(
            "SELECT run_id, max(finished_at) FROM run_log WHERE stage = 'publish' "
            "GROUP BY run_id ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
        ctx = {
            "run_id": run[0] if run else "-",
            "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "quality": _quality(con),
            "matching": _matching(con),
            "marts": _marts(con),
        }
    finally:
        con.close()
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["money"] = lambda v: "" if v is None else f"{v:,.0f}"
    html = env.get_template("report.html.j2").render(**ctx)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = out_dir / REPORT_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(html)
    return path
