-- name: customer_tier
-- kind: table
-- stage: publish
-- description: Tier of every customer (golden record with accounts) by what it brings: total balance, products, tenure and activity, against the tiers of the config (tier_rule, best first). A customer gets the first tier whose every minimum it meets, else marts.default_tier; the reason names the minimums met and what the next better tier misses.
-- column golden_id: Persistent id of the golden record.
-- column legal_name: Legal name of the golden record.
-- column group_id: Golden id of the group's top.
-- column total_balance: customer_360.total_balance (reporting currency).
-- column product_count: Distinct products of open accounts.
-- column tenure_years: Years since the relationship opened (0 when unknown).
-- column monthly_txn: Average transactions a month over the recent churn window (marts.churn.window_months).
-- column tier: Tier name.
-- column tier_rank: Position of the tier in the config (1 = best; the default tier comes last).
-- column reason: Why: the tier's minimums met, and what the next better tier misses.
-- column reporting_currency: Currency of total_balance.
CREATE TEMP TABLE IF NOT EXISTS _mart_scope (golden_id VARCHAR);
-- The mart's rows, of every golden record (scoped = false) or of those in _mart_scope only (pipelines.marts).
CREATE OR REPLACE TEMP MACRO _mart_customer_tier(scoped, p_window_months, p_reporting_currency, p_default_tier) AS TABLE
WITH ref AS (
    SELECT CAST(max(month) || '-01' AS DATE) AS month_start FROM customer_month
),
activity AS (
    SELECT m.golden_id, sum(m.txn_count) / p_window_months AS monthly_txn
    FROM customer_month AS m, ref
    WHERE CAST(m.month || '-01' AS DATE) > ref.month_start - to_months(p_window_months)
      AND (NOT scoped OR m.golden_id IN (SELECT golden_id FROM _mart_scope))
    GROUP BY m.golden_id
),
m AS (
    SELECT c.golden_id, c.legal_name, c.group_id, c.total_balance, c.product_count,
           coalesce(c.tenure_years, 0) AS tenure_years, coalesce(a.monthly_txn, 0) AS monthly_txn
    FROM customer_360 AS c
    LEFT JOIN activity AS a USING (golden_id)
    WHERE c.account_count > 0 AND (NOT scoped OR c.golden_id IN (SELECT golden_id FROM _mart_scope))
),
-- Which tiers each customer meets, as booleans (a minimum compared with NULL is not missed); the texts of the
-- minimums are formatted only for the chosen tier and the next better one.
fits AS (
    SELECT m.golden_id, r.tier_rank,
           NOT (coalesce(m.total_balance < r.min_balance, false) OR coalesce(m.product_count < r.min_products, false)
                OR coalesce(m.tenure_years < r.min_tenure_years, false)
                OR coalesce(m.monthly_txn < r.min_monthly_txn, false)) AS fits
    FROM m CROSS JOIN tier_rule AS r
),
best AS (
    SELECT golden_id, min(tier_rank) AS tier_rank FROM fits WHERE fits GROUP BY golden_id
),
ranked AS (
    SELECT m.*, b.tier_rank AS chosen_rank,
           coalesce(b.tier_rank, (SELECT count(*) + 1 FROM tier_rule)) - 1 AS next_rank
    FROM m LEFT JOIN best AS b USING (golden_id)
),
chosen AS (
    SELECT k.golden_id, r.tier, r.tier_rank,
           list_filter([
               CASE WHEN r.min_balance > 0 THEN format('balance >= {:,.0f} {}', r.min_balance, p_reporting_currency) END,
               CASE WHEN r.min_products > 0 THEN format('products >= {}', r.min_products) END,
               CASE WHEN r.min_tenure_years > 0 THEN format('tenure >= {:.1f} years', r.min_tenure_years) END,
               CASE WHEN r.min_monthly_txn > 0 THEN format('>= {:.1f} transactions a month', r.min_monthly_txn) END
           ], lambda x: x IS NOT NULL) AS meets
    FROM ranked AS k JOIN tier_rule AS r ON r.tier_rank = k.chosen_rank
),
next_tier AS (
    SELECT k.golden_id, r.tier,
           list_filter([
               CASE WHEN k.total_balance < r.min_balance
                    THEN format('balance {:,.0f} < {:,.0f} {}', k.total_balance, r.min_balance, p_reporting_currency) END,
               CASE WHEN k.product_count < r.min_products
                    THEN format('products {} < {}', k.product_count, r.min_products) END,
               CASE WHEN k.tenure_years < r.min_tenure_years
                    THEN format('tenure {:.1f} < {:.1f} years', k.tenure_years, r.min_tenure_years) END,
               CASE WHEN k.monthly_txn < r.min_monthly_txn
                    THEN format('{:.1f} < {:.1f} transactions a month', k.monthly_txn, r.min_monthly_txn) END
           ], lambda x: x IS NOT NULL) AS misses
    FROM ranked AS k JOIN tier_rule AS r ON r.tier_rank = k.next_rank
)
SELECT m.golden_id, m.legal_name, m.group_id, m.total_balance, m.product_count, m.tenure_years, m.monthly_txn,
       coalesce(c.tier, p_default_tier) AS tier,
       coalesce(c.tier_rank, (SELECT count(*) FROM tier_rule) + 1) AS tier_rank,
       concat_ws('; ',
           CASE WHEN c.tier IS NOT NULL
                THEN c.tier || ': ' || CASE WHEN len(c.meets) = 0 THEN 'no minimum' ELSE array_to_string(c.meets, ', ') END
                ELSE p_default_tier || ': meets no configured tier' END,
           'not ' || n.tier || ': ' || array_to_string(n.misses, ', ')
       ) AS reason,
       p_reporting_currency AS reporting_currency
FROM m
LEFT JOIN chosen AS c USING (golden_id)
LEFT JOIN next_tier AS n USING (golden_id)
ORDER BY m.golden_id;
-- A full build (pipelines.marts dropped the table, _mart_scope is empty): the whole mart. An incremental
-- one (the last run's mart is there): the rows of the golden ids in _mart_scope recomputed.
CREATE TABLE IF NOT EXISTS customer_tier AS FROM _mart_customer_tier(false, $window_months, $reporting_currency, $default_tier);
DELETE FROM customer_tier WHERE golden_id IN (SELECT golden_id FROM _mart_scope);
INSERT INTO customer_tier BY NAME FROM _mart_customer_tier(true, $window_months, $reporting_currency, $default_tier);
