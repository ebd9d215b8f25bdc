-- A full build of the marts (pipelines.marts): the per-golden-record marts dropped, so that each mart file
-- creates its table whole, and the scope dropped (the first mart file creates it empty: no row is
-- restricted to it).
DROP TABLE IF EXISTS customer_month;
DROP TABLE IF EXISTS customer_360;
DROP TABLE IF EXISTS customer_tier;
DROP TABLE IF EXISTS financial_risk;
DROP TABLE IF EXISTS churn_watchlist;
DROP TABLE IF EXISTS _mart_scope;
