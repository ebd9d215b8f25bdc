-- name: tier_rule
-- kind: table
-- stage: publish
-- description: The customer tiers of the config (marts.tiers), best first: a customer gets the first tier whose every minimum it meets, else marts.default_tier.
-- column tier: Tier name.
-- column tier_rank: Position in the config (1 = best).
-- column min_balance: Smallest total balance (reporting currency).
-- column min_products: Fewest distinct products of open accounts.
-- column min_tenure_years: Shortest relationship in years.
-- column min_monthly_txn: Fewest transactions a month on average over the recent churn window.
CREATE OR REPLACE TABLE tier_rule AS
SELECT tier, tier_rank, min_balance, min_products, min_tenure_years, min_monthly_txn
FROM tier_rule_input
ORDER BY tier_rank;
