-- name: financial_risk
-- kind: table
-- stage: publish
-- description: Financial health of every golden record with SEC facts (golden_financial_fact): leverage, profitability and size, their year-on-year changes, flags and a score. Score (0-100, higher is riskier) = 35 negative equity + 25 loss + 20 sharp revenue fall (marts.risk.revenue_fall) + 10 high leverage (liabilities / assets above marts.risk.high_leverage) + 10 leverage up by 0.10 or more in a year; band: low below 25, medium 25-49, high 50 and above.
-- column golden_id: Persistent id of the golden record.
-- column legal_name: Legal name of the golden record.
-- column group_id: Golden id of the group's top.
-- column figures_period_end: Latest period end among the figures.
-- column currency: Unit of the figures, or MIXED.
-- column revenue: Latest revenue.
-- column net_income: Latest net income.
-- column assets: Latest total assets.
-- column liabilities: Latest total liabilities.
-- column equity: Latest equity.
-- column assets_reporting: assets converted into the reporting currency (the size; NULL without a rate).
-- column leverage: liabilities / assets.
-- column debt_to_equity: liabilities / equity (NULL when equity is not positive).
-- column net_margin: net_income / revenue when both cover the same period.
-- column return_on_assets: net_income / assets, the income scaled to a year (4 / qtrs).
-- column revenue_change: Year-on-year change of revenue (v_financial_yoy).
-- column net_income_change: Year-on-year change of net income.
-- column assets_change: Year-on-year change of total assets.
-- column leverage_prior: liabilities / assets a year before the latest balance sheet with both a year earlier.
-- column leverage_change: leverage minus leverage_prior (on the same balance-sheet dates).
-- column negative_equity: Equity below zero.
-- column loss: Net income below zero.
-- column revenue_fall: Revenue fell year on year by at least marts.risk.revenue_fall.
-- column high_leverage: Leverage above marts.risk.high_leverage.
-- column leverage_rising: Leverage up by 0.10 or more in a year.
-- column flags: Names of the flags that are set (a list).
-- column risk_score: 35 negative_equity + 25 loss + 20 revenue_fall + 10 high_leverage + 10 leverage_rising.
-- column risk_band: low (< 25), medium (25-49), high (>= 50).
-- column reporting_currency: Currency of assets_reporting.
CREATE TEMP TABLE IF NOT EXISTS _mart_scope (golden_id VARCHAR);
-- The mart's rows, of every golden record (scoped = false) or of those in _mart_scope only (pipelines.marts).
CREATE OR REPLACE TEMP MACRO _mart_financial_risk(scoped, p_revenue_fall, p_high_leverage, p_reporting_currency) AS TABLE
WITH yoy AS (
    SELECT golden_id,
           any_value(change) FILTER (WHERE measure = 'revenue') AS revenue_change,
           any_value(change) FILTER (WHERE measure = 'net_income') AS net_income_change,
           any_value(change) FILTER (WHERE measure = 'assets') AS assets_change,
           any_value(value) FILTER (WHERE measure = 'assets') AS assets_now,
           any_value(prior_value) FILTER (WHERE measure = 'assets') AS assets_prior,
           any_value(period_end) FILTER (WHERE measure = 'assets') AS assets_at,
           any_value(value) FILTER (WHERE measure = 'liabilities') AS liabilities_now,
           any_value(prior_value) FILTER (WHERE measure = 'liabilities') AS liabilities_prior,
           any_value(period_end) FILTER (WHERE measure = 'liabilities') AS liabilities_at
    FROM _mart_financial_yoy
    GROUP BY golden_id
),
r AS (
    SELECT f.golden_id, g.legal_name, c.group_id, f.figures_period_end, f.currency,
           f.revenue, f.net_income, f.assets, f.liabilities, f.equity,
           f.assets * fx.rate AS assets_reporting,
           CASE WHEN f.assets > 0 THEN f.liabilities / f.assets END AS leverage,
           CASE WHEN f.equity > 0 THEN f.liabilities / f.equity END AS debt_to_equity,
           CASE WHEN f.revenue <> 0 AND f.revenue_period_end = f.net_income_period_end
                     AND f.revenue_qtrs = f.net_income_qtrs THEN f.net_income / f.revenue END AS net_margin,
           CASE WHEN f.assets > 0 AND f.net_income_qtrs > 0
                THEN f.net_income * 4 / f.net_income_qtrs / f.assets END AS return_on_assets,
           y.revenue_change, y.net_income_change, y.assets_change,
           CASE WHEN y.assets_at = y.liabilities_at AND y.assets_prior > 0
                THEN y.liabilities_prior / y.assets_prior END AS leverage_prior,
           CASE WHEN y.assets_at = y.liabilities_at AND y.assets_prior > 0 AND y.assets_now > 0
                THEN y.liabilities_now / y.assets_now - y.liabilities_prior / y.assets_prior END AS leverage_change
    FROM _mart_financials_latest AS f
    JOIN golden_organization AS g USING (golden_id)
    LEFT JOIN customer_360 AS c USING (golden_id)
    LEFT JOIN yoy AS y USING (golden_id)
    LEFT JOIN fx_rate AS fx ON fx.currency = f.currency
    WHERE (NOT scoped OR f.golden_id IN (SELECT golden_id FROM _mart_scope))
),
flagged AS (
    SELECT *,
           coalesce(equity < 0, FALSE) AS negative_equity,
           coalesce(net_income < 0, FALSE) AS loss,
           coalesce(revenue_change <= -p_revenue_fall, FALSE) AS revenue_fall,
           coalesce(leverage > p_high_leverage, FALSE) AS high_leverage,
           coalesce(leverage_change >= 0.10, FALSE) AS leverage_rising
    FROM r
)
SELECT *,
       list_filter([CASE WHEN negative_equity THEN 'negative_equity' END, CASE WHEN loss THEN 'loss' END,
                    CASE WHEN revenue_fall THEN 'revenue_fall' END, CASE WHEN high_leverage THEN 'high_leverage' END,
                    CASE WHEN leverage_rising THEN 'leverage_rising' END], lambda x: x IS NOT NULL) AS flags,
       35 * negative_equity::INTEGER + 25 * loss::INTEGER + 20 * revenue_fall::INTEGER
           + 10 * high_leverage::INTEGER + 10 * leverage_rising::INTEGER AS risk_score,
       CASE WHEN 35 * negative_equity::INTEGER + 25 * loss::INTEGER + 20 * revenue_fall::INTEGER
                 + 10 * high_leverage::INTEGER + 10 * leverage_rising::INTEGER >= 50 THEN 'high'
            WHEN 35 * negative_equity::INTEGER + 25 * loss::INTEGER + 20 * revenue_fall::INTEGER
                 + 10 * high_leverage::INTEGER + 10 * leverage_rising::INTEGER >= 25 THEN 'medium'
            ELSE 'low' END AS risk_band,
       p_reporting_currency AS reporting_currency
FROM flagged
ORDER BY golden_id;
-- A full build (pipelines.marts dropped the table, _mart_scope is empty): the whole mart. An incremental
-- one (the last run's mart is there): the rows of the golden ids in _mart_scope recomputed.
CREATE TABLE IF NOT EXISTS financial_risk AS FROM _mart_financial_risk(false, $revenue_fall, $high_leverage, $reporting_currency);
DELETE FROM financial_risk WHERE golden_id IN (SELECT golden_id FROM _mart_scope);
INSERT INTO financial_risk BY NAME FROM _mart_financial_risk(true, $revenue_fall, $high_leverage, $reporting_currency);
