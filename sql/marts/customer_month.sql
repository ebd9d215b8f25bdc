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
CREATE OR REPLACE TABLE customer_month AS
WITH acc AS (
    SELECT a.source, a.account_id, a.product, upper(a.currency) AS currency, x.golden_id
    FROM account AS a
    JOIN xref AS x ON x.source = a.source AND x.source_id = a.source_id
)
SELECT acc.golden_id, b.month,
       coalesce(sum(b.balance * fx.rate) FILTER (WHERE b.balance > 0), 0)      AS deposit_balance,
       coalesce(sum(-b.balance * fx.rate) FILTER (WHERE b.balance < 0), 0)     AS loan_balance,
       coalesce(sum(abs(b.balance) * fx.rate), 0)                              AS total_balance,
       coalesce(sum(b.txn_count), 0)                                           AS txn_count,
       count(DISTINCT acc.account_id)                                          AS accounts,
       count(DISTINCT acc.product)                                             AS products,
       count(DISTINCT acc.account_id) FILTER (WHERE fx.rate IS NULL)           AS unconverted_accounts
FROM balance AS b
JOIN acc ON acc.source = b.source AND acc.account_id = b.account_id
LEFT JOIN fx_rate AS fx ON fx.currency = acc.currency
WHERE b.month IS NOT NULL
GROUP BY acc.golden_id, b.month
ORDER BY acc.golden_id, b.month;
