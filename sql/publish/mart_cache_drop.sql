-- The marts' once-computed views (mart_financials_latest.sql, mart_financial_yoy.sql), the groups
-- (mart_group.sql), the scope (mart_scope.sql) and the marts' query macros, dropped after the marts.
DROP TABLE IF EXISTS _mart_financials_latest;
DROP TABLE IF EXISTS _mart_financial_yoy;
DROP TABLE IF EXISTS _mart_group;
DROP TABLE IF EXISTS _mart_scope;
DROP MACRO TABLE IF EXISTS _mart_customer_month;
DROP MACRO TABLE IF EXISTS _mart_customer_360;
DROP MACRO TABLE IF EXISTS _mart_customer_tier;
DROP MACRO TABLE IF EXISTS _mart_financial_risk;
DROP MACRO TABLE IF EXISTS _mart_churn_watchlist;
