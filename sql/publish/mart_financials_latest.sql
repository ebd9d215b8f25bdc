-- name: _mart_financials_latest
-- kind: table
-- lifetime: temp
-- stage: publish
-- description: v_golden_financials_latest computed once for the marts that read it (customer_360, segment,
--  financial_risk), instead of once per reader; dropped when the marts are built (pipelines.marts).
CREATE OR REPLACE TEMP TABLE _mart_financials_latest AS SELECT * FROM v_golden_financials_latest;
