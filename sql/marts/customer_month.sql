-- name: customer_month
-- kind: table
-- stage: publish
-- description: Monthly internal relationship per golden record: its accounts' balances converted into the reporting currency (fx_rate), transactions, accounts and products, one row per golden record and month with at least one balance. Feeds customer_360, customer_tier and churn_watchlist.
-- column golden_id: Persistent id of the golden record.
-- column month: Month (ISO YYYY-MM).
-- column deposit_balance: Sum of the positive end-of-month balances (reporting currency).
-- column loan_balance: Sum of the negative end-of-month balances as a positive amount (loans, overdrafts; reporting currency).
-- column total_balance: deposit_balance + loan_balance: the volume of the relationship (reporting currency).
-- column txn_count: Transactions in the month over all accounts.
-- column accounts: Accounts with a balance in the month.
-- column products: Distinct products of the accounts with a balance in the month.
-- column unconverted_accounts: Accounts with a balance whose currency has no rate in fx_rate (left out of the amounts).
CREATE TEMP TABLE IF NOT EXISTS _mart_scope (golden_id VARCHAR);
-- The mart's rows, of every golden record (scoped = false) or of those in _mart_scope only (pipelines.marts).
CREATE OR REPLACE TEMP MACRO _mart_customer_month(scoped) AS TABLE
-- The accounts' golden record, account id and product as dense integers (ranked in the order of the
-- strings) before the join with every balance row: the grouping and its three distinct counts then hash
-- and compare integers instead of strings, and the result is sorted by the golden record's rank.
WITH acc AS (
    SELECT a.source, a.account_id, x.golden_id, fx.rate,
           dense_rank() OVER (ORDER BY x.golden_id) AS g,
           dense_rank() OVER (ORDER BY a.account_id) AS a,
           CASE WHEN a.product IS NOT NULL THEN dense_rank() OVER (ORDER BY a.product) END AS p
    FROM account AS a
    JOIN xref AS x ON x.source = a.source AND x.source_id = a.source_id
    LEFT JOIN fx_rate AS fx ON fx.currency = upper(a.currency)
    WHERE (NOT scoped OR x.golden_id IN (SELECT golden_id FROM _mart_scope))
),
golden AS (SELECT DISTINCT g, golden_id FROM acc),
monthly AS (
    SELECT acc.g, b.month,
           coalesce(sum(b.balance * acc.rate) FILTER (WHERE b.balance > 0), 0)  AS deposit_balance,
           coalesce(sum(-b.balance * acc.rate) FILTER (WHERE b.balance < 0), 0) AS loan_balance,
           coalesce(sum(abs(b.balance) * acc.rate), 0)                          AS total_balance,
           coalesce(sum(b.txn_count), 0)                                        AS txn_count,
           count(DISTINCT acc.a)                                                AS accounts,
           count(DISTINCT acc.p)                                                AS products,
           count(DISTINCT acc.a) FILTER (WHERE acc.rate IS NULL)                AS unconverted_accounts
    FROM balance AS b
    JOIN acc ON acc.source = b.source AND acc.account_id = b.account_id
    WHERE b.month IS NOT NULL
    GROUP BY acc.g, b.month
)
SELECT golden.golden_id, m.month, m.deposit_balance, m.loan_balance, m.total_balance, m.txn_count, m.accounts,
       m.products, m.unconverted_accounts
FROM monthly AS m
JOIN golden USING (g)
ORDER BY m.g, m.month;
-- A full build (pipelines.marts dropped the table, _mart_scope is empty): the whole mart. An incremental
-- one (the last run's mart is there): the rows of the golden ids in _mart_scope recomputed.
CREATE TABLE IF NOT EXISTS customer_month AS FROM _mart_customer_month(false);
DELETE FROM customer_month WHERE golden_id IN (SELECT golden_id FROM _mart_scope);
INSERT INTO customer_month BY NAME FROM _mart_customer_month(true);
