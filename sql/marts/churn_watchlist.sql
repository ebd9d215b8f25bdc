-- name: churn_watchlist
-- kind: table
-- stage: publish
-- description: Customers drifting away: golden records whose balances, transactions or products declined from the earlier to the recent window of marts.churn.window_months months each (ending at the latest balance month), or whose accounts closed in the recent window; with the reasons, the monthly trend and the exposure across the whole corporate group.
-- column golden_id: Persistent id of the golden record.
-- column legal_name: Legal name of the golden record.
-- column group_id: Golden id of the group's top.
-- column group_name: Legal name of the group's top.
-- column reasons: Reasons (a list): balance_decline (average total balance of the recent window at least marts.churn.balance_drop below the earlier window's), transaction_decline (transactions at least marts.churn.transaction_drop below), product_decline (fewer products at the end than at the end of the earlier window), account_closed (an account closed in the recent window).
-- column reason: The reasons in words, with the figures.
-- column balance_change: Change of the average total balance from the earlier to the recent window (a share, -0.4 = -40 %).
-- column transaction_change: Change of the transactions from the earlier to the recent window.
-- column products_before: Products with a balance at the end of the earlier window.
-- column products_now: Products with a balance at the latest month.
-- column closed_accounts: Accounts closed in the recent window (a list of account ids).
-- column trend_months: The months of both windows, oldest first (a list).
-- column balance_trend: Total balance of each month in trend_months (reporting currency; a list).
-- column transaction_trend: Transactions of each month in trend_months (a list).
-- column total_balance: Total balance at the latest month (reporting currency).
-- column group_total_balance: Total balance of the whole group at the latest month: the exposure at stake (reporting currency).
-- column group_size: Golden records in the group.
-- column group_watchlisted: Golden records of the same group on the watchlist.
-- column tier: Customer tier (customer_tier).
-- column relationship_manager: Relationship manager of the customer.
-- column branch: Bank branch holding the customer.
-- column reporting_currency: Currency of the amounts.
CREATE TEMP TABLE IF NOT EXISTS _mart_scope (golden_id VARCHAR);
-- The mart's rows, of every golden record (scoped = false) or of those in _mart_scope only (pipelines.marts).
CREATE OR REPLACE TEMP MACRO _mart_churn_watchlist(scoped, p_window_months, p_balance_drop, p_transaction_drop, p_reporting_currency) AS TABLE
WITH ref AS (
    SELECT CAST(max(month) || '-01' AS DATE) AS month_start FROM customer_month
),
cal AS (
    SELECT strftime(ref.month_start - to_months(i), '%Y-%m') AS month, i < p_window_months AS recent, i
    FROM ref, range(0, 2 * p_window_months) AS t(i)
),
cust AS (
    SELECT golden_id FROM customer_360 WHERE account_count > 0 AND (NOT scoped OR golden_id IN (SELECT golden_id FROM _mart_scope))
),
grid AS (
    SELECT c.golden_id, cal.month, cal.recent, cal.i,
           coalesce(m.total_balance, 0) AS total_balance, coalesce(m.txn_count, 0) AS txn_count,
           coalesce(m.products, 0) AS products
    FROM cust AS c CROSS JOIN cal
    LEFT JOIN customer_month AS m ON m.golden_id = c.golden_id AND m.month = cal.month
),
agg AS (
    SELECT golden_id,
           avg(total_balance) FILTER (WHERE NOT recent) AS prior_balance,
           avg(total_balance) FILTER (WHERE recent) AS recent_balance,
           sum(txn_count) FILTER (WHERE NOT recent) AS prior_txn,
           sum(txn_count) FILTER (WHERE recent) AS recent_txn,
           any_value(products) FILTER (WHERE i = p_window_months) AS products_before,
           any_value(products) FILTER (WHERE i = 0) AS products_now
    FROM grid
    GROUP BY golden_id
),
closed AS (
    SELECT x.golden_id, list(a.account_id ORDER BY a.account_id) AS closed_accounts
    FROM account AS a
    JOIN xref AS x ON x.source = a.source AND x.source_id = a.source_id, ref
    WHERE TRY_CAST(a.closed_on AS DATE) >= ref.month_start - to_months(p_window_months - 1)
      AND TRY_CAST(a.closed_on AS DATE) <= last_day(ref.month_start)
      AND (NOT scoped OR x.golden_id IN (SELECT golden_id FROM _mart_scope))
    GROUP BY x.golden_id
),
scored AS (
    SELECT a.*, coalesce(cl.closed_accounts, []) AS closed_accounts,
           CASE WHEN a.prior_balance > 0 THEN (a.recent_balance - a.prior_balance) / a.prior_balance END AS balance_change,
           CASE WHEN a.prior_txn > 0 THEN (a.recent_txn - a.prior_txn) / a.prior_txn END AS transaction_change
    FROM agg AS a
    LEFT JOIN closed AS cl USING (golden_id)
),
listed AS (
    SELECT *,
           list_filter([
               CASE WHEN balance_change <= -p_balance_drop THEN 'balance_decline' END,
               CASE WHEN transaction_change <= -p_transaction_drop THEN 'transaction_decline' END,
               CASE WHEN products_now < products_before THEN 'product_decline' END,
               CASE WHEN len(closed_accounts) > 0 THEN 'account_closed' END
           ], lambda x: x IS NOT NULL) AS reasons
    FROM scored
),
watch AS (
    SELECT l.*, c.legal_name, c.group_id, c.group_name, c.total_balance, c.group_total_balance, c.group_size,
           c.relationship_manager, c.branch
    FROM listed AS l
    JOIN customer_360 AS c USING (golden_id)
    WHERE len(l.reasons) > 0
),
-- The monthly trend lists for the watchlisted customers only (lists are the dearest aggregates).
trend AS (
    SELECT w.golden_id,
           list(cal.month ORDER BY cal.month) AS trend_months,
           list(round(coalesce(m.total_balance, 0), 2) ORDER BY cal.month) AS balance_trend,
           list(coalesce(m.txn_count, 0) ORDER BY cal.month) AS transaction_trend
    FROM watch AS w CROSS JOIN cal
    LEFT JOIN customer_month AS m ON m.golden_id = w.golden_id AND m.month = cal.month
    GROUP BY w.golden_id
)
SELECT w.golden_id, w.legal_name, w.group_id, w.group_name, w.reasons,
       concat_ws('; ',
           CASE WHEN list_contains(w.reasons, 'balance_decline')
                THEN format('average balance {:+.0f}% ({:,.0f} -> {:,.0f} {})', 100 * w.balance_change,
                            w.prior_balance, w.recent_balance, p_reporting_currency) END,
           CASE WHEN list_contains(w.reasons, 'transaction_decline')
                THEN format('transactions {:+.0f}% ({} -> {})', 100 * w.transaction_change, w.prior_txn, w.recent_txn) END,
           CASE WHEN list_contains(w.reasons, 'product_decline')
                THEN format('products {} -> {}', w.products_before, w.products_now) END,
           CASE WHEN list_contains(w.reasons, 'account_closed')
                THEN format('{} account(s) closed: {}', len(w.closed_accounts), array_to_string(w.closed_accounts, ', ')) END
       ) AS reason,
       w.balance_change, w.transaction_change, w.products_before, w.products_now, w.closed_accounts,
       tr.trend_months, tr.balance_trend, tr.transaction_trend, w.total_balance, w.group_total_balance, w.group_size,
       count(*) OVER (PARTITION BY w.group_id) AS group_watchlisted,
       t.tier, w.relationship_manager, w.branch, p_reporting_currency AS reporting_currency
FROM watch AS w
JOIN trend AS tr USING (golden_id)
LEFT JOIN customer_tier AS t USING (golden_id)
ORDER BY w.group_total_balance DESC, w.golden_id;
-- A full build (pipelines.marts dropped the table, _mart_scope is empty): the whole mart. An incremental
-- one (the last run's mart is there): the rows of the golden ids in _mart_scope recomputed.
CREATE TABLE IF NOT EXISTS churn_watchlist AS FROM _mart_churn_watchlist(false, $window_months, $balance_drop, $transaction_drop, $reporting_currency);
DELETE FROM churn_watchlist WHERE golden_id IN (SELECT golden_id FROM _mart_scope);
INSERT INTO churn_watchlist BY NAME FROM _mart_churn_watchlist(true, $window_months, $balance_drop, $transaction_drop, $reporting_currency);
