-- name: _mart_financial_yoy
-- kind: table
-- lifetime: temp
-- stage: publish
-- description: v_financial_yoy computed once for the marts that read it (customer_360, financial_risk);
--  dropped when the marts are built (pipelines.marts).
CREATE OR REPLACE TEMP TABLE _mart_financial_yoy AS SELECT * FROM v_financial_yoy;
