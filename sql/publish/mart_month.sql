-- The latest month of customer_month: customer_tier's and churn_watchlist's reference month.
SELECT coalesce(max(month), '') FROM customer_month;
