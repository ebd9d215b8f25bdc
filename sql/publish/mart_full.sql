-- A full build of the marts (pipelines.marts): the per-golden-record marts dropped, so that each mart file
-- creates its table whole, and the scope emptied (every golden record is built).
DROP TABLE IF EXISTS customer_month;
DROP TABLE IF EXISTS customer_360;
DROP TABLE IF EXISTS customer_tier;
DROP TABLE IF EXISTS financial_risk;
DROP TABLE IF EXISTS churn_watchlist;
CREATE OR REPLACE TEMP TABLE _mart_scope (golden_id VARCHAR);
