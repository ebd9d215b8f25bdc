"""Marts on a generated sample with known answers: churn truth, configured tiers, group balances recounted."""

from __future__ import annotations

import csv
import re
import sqlite3
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from pipelines import runner
from pipelines.bench.churn import watchlist_quality
from pipelines.comments import sql_identifier, sql_literal
from pipelines.config import MartsConfig
from pipelines.marts import DEFAULT_FX_RATES, MART_FILES, MartError, load_fx_rates, mart_docs
from pipelines.sample import generate
from pipelines.schema_doc import catalogue, undocumented
from pipelines.warehouse import run_sql
from tests.conftest import sample_config

ENTITIES, SEED = 700, 11
TIERS = [
    {"name": "top", "min_balance": 2_000_000, "min_products": 2, "min_tenure_years": 2},
    {"name": "middle", "min_balance": 250_000, "min_monthly_txn": 50},
    {"name": "low", "min_balance": 20_000},
]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sample folder, warehouse database) of one run with custom tiers."""
    base = tmp_path_factory.mktemp("marts")
    generate(base / "sample", entities=ENTITIES, seed=SEED)
    marts = {
        "reporting_currency": "EUR",
        "fx_rates": str(base / "sample" / "fx_rates.csv"),
        "tiers": TIERS,
        "default_tier": "basic",
        "churn": {"window_months": 3, "balance_drop": 0.3, "transaction_drop": 0.5},
    }
    cfg = sample_config(base / "sample", base / "wh", base / "mdm.yaml", marts=marts)
    runner.run(cfg)
    return base / "sample", base / "wh" / "mdm.duckdb"


def q(db: Path, sql: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def eur_rates(path: Path = DEFAULT_FX_RATES) -> dict[str, float]:
    with path.open(encoding="utf-8") as fh:
        return {r["currency"]: float(r["rate"]) for r in csv.DictReader(fh)}


def crm_monthly(sample: Path) -> dict[str, dict[str, tuple[float, int, set[str]]]]:
    """Straight from the CRM database: per customer and month, total |balance| in EUR, transactions, products."""
    rates = eur_rates(sample / "fx_rates.csv")
    con = sqlite3.connect(sample / "internal" / "crm.sqlite")
    out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0, set()]))
    for sid, month, bal, txn, product, cur in con.execute(
        "SELECT a.source_id, b.month, b.balance, b.txn_count, a.product, a.currency "
        "FROM balances b JOIN accounts a USING (account_id)"
    ):
        cell = out[sid][month]
        cell[0] += abs(bal) * rates[cur]
        cell[1] += txn
        cell[2].add(product)
    con.close()
    return {sid: {m: (v[0], v[1], v[2]) for m, v in months.items()} for sid, months in out.items()}


def test_declining_customers_are_on_the_watchlist_with_their_reason(published: tuple[Path, Path]) -> None:
    sample, db = published
    with (sample / "churn_truth.csv").open(encoding="utf-8") as fh:
        truth = [r for r in csv.DictReader(fh) if r["from_month"] >= "2024-04"]
    kinds = {r["reason"] for r in truth}
    assert kinds == {"balance_decline", "transaction_decline", "account_closed"}
    watch = {g: set(reasons) for g, reasons in q(db, "SELECT golden_id, reasons FROM churn_watchlist")}
    golden = {(s, i): g for s, i, g in q(db, "SELECT source, source_id, golden_id FROM xref")}
    found = [
        golden[("crm", r["source_id"])] in watch and r["reason"] in watch[golden[("crm", r["source_id"])]]
        for r in truth
    ]
    assert sum(found) >= 0.9 * len(truth), f"{sum(found)} of {len(truth)} declines found with their reason"
    # One balance decline recounted from the CRM database: the watchlist's balance change is the fall of the
    # average total balance (EUR) from Jan-Mar to Apr-Jun.
    monthly = crm_monthly(sample)
    singles = {g for g, n in q(db, "SELECT golden_id, count(*) FROM xref WHERE source = 'crm' GROUP BY 1") if n == 1}
    r = next(r for r in truth if r["reason"] == "balance_decline" and golden[("crm", r["source_id"])] in singles)
    g = golden[("crm", r["source_id"])]
    months = monthly[r["source_id"]]
    before = sum(months.get(m, (0, 0, set()))[0] for m in ("2024-01", "2024-02", "2024-03")) / 3
    after = sum(months.get(m, (0, 0, set()))[0] for m in ("2024-04", "2024-05", "2024-06")) / 3
    ((change, reason),) = q(db, "SELECT balance_change, reason FROM churn_watchlist WHERE golden_id = $g", {"g": g})
    assert change == pytest.approx(after / before - 1, rel=1e-6)
    assert after / before - 1 <= -0.3 and "average balance" in reason


def test_watchlist_precision_and_recall_against_the_truth(published: tuple[Path, Path]) -> None:
    sample, db = published
    quality = watchlist_quality(db, sample / "churn_truth.csv", 3)
    assert quality["positives"] > 10
    assert quality["recall"] >= 0.85 and quality["precision"] >= 0.7, quality
    assert quality["right_reason"] >= 0.9


def test_tiers_follow_the_configured_thresholds(published: tuple[Path, Path]) -> None:
    sample, db = published
    monthly = crm_monthly(sample)
    xref = q(db, "SELECT source_id, golden_id FROM xref WHERE source = 'crm'")
    balance: dict[str, float] = defaultdict(float)
    txn: dict[str, float] = defaultdict(float)
    for sid, g in xref:
        for m, (bal, n, _) in monthly.get(sid, {}).items():
            if m == "2024-06":
                balance[g] += bal
            if m >= "2024-04":
                txn[g] += n / 3
    rows = q(
        db,
        "SELECT t.golden_id, t.tier, t.reason, t.total_balance, c.product_count, c.tenure_years "
        "FROM customer_tier t JOIN customer_360 c USING (golden_id)",
    )
    assert len(rows) == len({g for _, g in xref})
    seen = set()
    for g, tier, reason, total, products, tenure in rows:
        assert total == pytest.approx(balance[g], rel=1e-9, abs=1e-6)
        expected = next(
            (
                t["name"]
                for t in TIERS
                if balance[g] >= t.get("min_balance", 0)
                and products >= t.get("min_products", 0)
                and (tenure or 0) >= t.get("min_tenure_years", 0)
                and txn[g] >= t.get("min_monthly_txn", 0) - 1e-9
            ),
            "basic",
        )
        assert tier == expected, (g, reason)
        assert reason.startswith(f"{tier}:")
        seen.add(tier)
    assert seen == {"top", "middle", "low", "basic"}


def test_top_groups_by_balance_is_one_select_and_matches_a_recount(published: tuple[Path, Path]) -> None:
    _, db = published
    top = q(
        db,
        "SELECT group_id, sum(total_balance) AS balance FROM customer_360 "
        "GROUP BY group_id ORDER BY balance DESC LIMIT 10",
    )
    # Recount from the base tables: latest-month balances of every account, converted, by group.
    rate = dict(q(db, "SELECT currency, rate FROM fx_rate"))
    group = dict(q(db, "SELECT golden_id, group_id FROM v_organization_group"))
    owner = {(s, i): g for s, i, g in q(db, "SELECT source, source_id, golden_id FROM xref")}
    accounts = {
        (s, a): (owner[(s, c)], cur)
        for s, a, c, cur in q(db, "SELECT source, account_id, source_id, currency FROM account")
    }
    latest = q(db, "SELECT max(month) FROM balance")[0][0]
    totals: dict[str, float] = defaultdict(float)
    for s, a, bal in q(db, "SELECT source, account_id, balance FROM balance WHERE month = $m", {"m": latest}):
        g, cur = accounts[(s, a)]
        totals[group.get(g) or g] += abs(bal) * rate[cur]
    expected = sorted(totals.items(), key=lambda kv: -kv[1])[:10]
    assert [g for g, _ in top] == [g for g, _ in expected]
    assert [b for _, b in top] == pytest.approx([b for _, b in expected], rel=1e-9)
    assert q(db, "SELECT count(*) FROM customer_360")[0][0] == q(db, "SELECT count(*) FROM golden_organization")[0][0]


def test_financial_risk_score_and_flags(published: tuple[Path, Path]) -> None:
    _, db = published
    rows = q(
        db,
        "SELECT assets, liabilities, equity, net_income, leverage, negative_equity, loss, revenue_fall, "
        "high_leverage, leverage_rising, risk_score, risk_band, flags FROM financial_risk",
    )
    assert rows
    for assets, liab, equity, ni, lev, neg, loss, fall, high, rising, score, band, flags in rows:
        assert lev == pytest.approx(liab / assets) if assets and assets > 0 and liab is not None else lev is None
        assert neg == (equity is not None and equity < 0) and loss == (ni is not None and ni < 0)
        assert high == (lev is not None and lev > 0.8)
        assert score == 35 * neg + 25 * loss + 20 * fall + 10 * high + 10 * rising
        assert band == ("high" if score >= 50 else "medium" if score >= 25 else "low")
        assert set(flags) == {
            n
            for n, v in (
                ("negative_equity", neg),
                ("loss", loss),
                ("revenue_fall", fall),
                ("high_leverage", high),
                ("leverage_rising", rising),
            )
            if v
        }


def test_marts_are_documented_commented_and_list_typed(published: tuple[Path, Path]) -> None:
    _, db = published
    con = duckdb.connect(str(db), read_only=True)
    try:
        rels = [r for r in catalogue(con) if r.name in mart_docs()]
        comment = con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'customer_360' AND column_name = 'total_balance'"
        ).fetchone()[0]
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'customer_360'"
            ).fetchall()
        )
        table_comment = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = 'churn_watchlist'"
        ).fetchone()
    finally:
        con.close()
    assert len(rels) == len(MART_FILES) and not undocumented(rels)
    assert comment == mart_docs()["customer_360"].columns["total_balance"]
    assert table_comment[0] == mart_docs()["churn_watchlist"].description
    assert types["sources"] == "VARCHAR[]" and types["products"] == "VARCHAR[]" and types["dq_flags"] == "VARCHAR[]"


def test_fx_rates_convert_to_any_reporting_currency_and_reject_bad_files(tmp_path: Path) -> None:
    usd = load_fx_rates(DEFAULT_FX_RATES, "USD").to_pylist()
    by = {r["currency"]: r["rate"] for r in usd}
    assert by["USD"] == 1.0 and by["EUR"] == pytest.approx(1 / 0.9341)
    assert by["GBP"] == pytest.approx(1.1815 / 0.9341)
    bad = tmp_path / "fx.csv"
    bad.write_text("currency,base,rate,as_of\nUSD,EUR,0.9,2024-06-28\nGBP,EUR,-1,2024-06-28\n", encoding="utf-8")
    with pytest.raises(MartError, match=r"fx.csv: line 3: rate must be a positive"):
        load_fx_rates(bad, "EUR")
    bad.write_text("currency,base,rate,as_of\nUSD,EUR,0.9,2024-06-28\n", encoding="utf-8")
    with pytest.raises(MartError, match="no rate for the reporting currency JPY"):
        load_fx_rates(bad, "JPY")
    with pytest.raises(ValueError):
        MartsConfig(tiers=[{"name": "a"}, {"name": "a"}])


def test_comment_literals_are_quoted() -> None:
    con = duckdb.connect()
    con.execute('CREATE TABLE "we""ird" (x INTEGER)')
    text = "it's -- not'; DROP TABLE x; --"
    name = sql_identifier('we"ird')
    con.execute(f"COMMENT ON TABLE {name} IS {sql_literal(text)}")
    assert con.execute("SELECT comment FROM duckdb_tables()").fetchone()[0] == text


def _month_recount(accounts: list[tuple], xref: list[tuple], balances: list[tuple], rates: dict[str, float]) -> list:
    """customer_month recounted in Python: per golden record and month the converted amounts, transactions,
    distinct account ids and products (NULL products not counted), and the account ids without a rate."""
    golden = {(s, sid): g for s, sid, g in xref}
    cells: dict[tuple[str, str], dict] = {}
    for source, account_id, month, bal, txn in balances:
        if month is None:
            continue
        for a_source, a_id, sid, product, currency in accounts:
            if (a_source, a_id) != (source, account_id) or (a_source, sid) not in golden:
                continue
            c = cells.setdefault(
                (golden[(a_source, sid)], month),
                {"dep": 0.0, "loan": 0.0, "tot": 0.0, "txn": 0, "acc": set(), "prod": set(), "unconv": set()},
            )
            rate = rates.get(currency.upper())
            if rate is None:
                c["unconv"].add(account_id)
            else:
                c["dep"] += bal * rate if bal > 0 else 0.0
                c["loan"] += -bal * rate if bal < 0 else 0.0
                c["tot"] += abs(bal) * rate
            c["txn"] += txn or 0
            c["acc"].add(account_id)
            if product is not None:
                c["prod"].add(product)
    return [
        (g, m, c["dep"], c["loan"], c["tot"], c["txn"], len(c["acc"]), len(c["prod"]), len(c["unconv"]))
        for (g, m), c in sorted(cells.items())
    ]


def test_customer_month_counts_distinct_accounts_and_products_over_sources() -> None:
    """One account id in two sources of one golden record counts once, with both its products; a NULL product
    is not a product; an account without a rate is counted as unconverted and left out of the amounts; rows
    are ordered by golden id and month."""
    accounts = [  # source, account_id, source_id, product, currency
        ("crm", "A1", "C1", "loan", "usd"),
        ("core", "A1", "K1", "deposit", "EUR"),  # same account id, other source, same golden record G1
        ("crm", "A2", "C1", None, "EUR"),
        ("crm", "A3", "C1", "fx", "XXX"),  # no rate
        ("crm", "A4", "C2", "deposit", "GBP"),
        ("crm", "A5", "C9", "deposit", "EUR"),  # customer not in xref
    ]
    xref = [("crm", "C1", "G1"), ("core", "K1", "G1"), ("crm", "C2", "G0")]
    balances = [  # source, account_id, month, balance, txn_count
        ("crm", "A1", "2026-01", -100.0, 3),
        ("core", "A1", "2026-01", 40.0, None),
        ("crm", "A2", "2026-01", 10.0, 1),
        ("crm", "A3", "2026-01", 999.0, 7),
        ("crm", "A1", "2026-02", 5.0, 1),
        ("crm", "A4", "2026-02", 20.0, 2),
        ("crm", "A4", None, 20.0, 2),
        ("crm", "A5", "2026-02", 1.0, 1),
    ]
    rates = {"EUR": 1.0, "USD": 0.9, "GBP": 1.2}
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE account (source VARCHAR, account_id VARCHAR, source_id VARCHAR, product VARCHAR, currency VARCHAR)"
    )
    con.executemany("INSERT INTO account VALUES (?, ?, ?, ?, ?)", accounts)
    con.execute("CREATE TABLE xref (source VARCHAR, source_id VARCHAR, golden_id VARCHAR)")
    con.executemany("INSERT INTO xref VALUES (?, ?, ?)", xref)
    con.execute(
        "CREATE TABLE balance (source VARCHAR, account_id VARCHAR, month VARCHAR, balance DOUBLE, txn_count BIGINT)"
    )
    con.executemany("INSERT INTO balance VALUES (?, ?, ?, ?, ?)", balances)
    con.execute("CREATE TABLE fx_rate (currency VARCHAR, rate DOUBLE)")
    con.executemany("INSERT INTO fx_rate VALUES (?, ?)", list(rates.items()))
    run_sql(con, "marts/customer_month")
    got = con.execute("SELECT * FROM customer_month").fetchall()
    want = _month_recount(accounts, xref, balances, rates)
    assert [r[:2] for r in got] == [r[:2] for r in want] == [("G0", "2026-02"), ("G1", "2026-01"), ("G1", "2026-02")]
    for g, w in zip(got, want):
        assert g[2:5] == pytest.approx(w[2:5]) and g[5:] == w[5:]
    # G1 in January: A1 (two sources) once, A2, A3; products loan, deposit, fx (A2 has none); A3 unconverted.
    assert got[1][6:] == (3, 3, 1)


def test_isic_section_is_the_longest_mapped_prefix_of_the_code(published: tuple[Path, Path]) -> None:
    """customer_360.isic_section recounted in Python: the section of the longest code_prefix of the scheme that
    the code's digits start with (NULL when none does)."""
    _, db = published
    mapping: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for scheme, prefix, section, name in q(
        db, "SELECT scheme, code_prefix, isic_section, section_name FROM industry_isic"
    ):
        mapping[scheme][prefix] = (section, name)
    rows = q(
        db,
        "SELECT industry_code, industry_scheme, isic_section, isic_section_name FROM customer_360 "
        "WHERE industry_code IS NOT NULL",
    )
    mapped = 0
    for code, scheme, section, name in rows:
        m = re.match(r"^\s*[A-Ta-t]?([0-9]{2,5})", code)
        digits = m.group(1) if m else ""
        hits = [p for p in mapping.get(scheme, {}) if digits.startswith(p)]
        want = mapping[scheme][max(hits, key=len)] if hits else (None, None)
        assert (section, name) == want, code
        mapped += bool(hits)
    assert mapped > 0.5 * len(rows) > 0
