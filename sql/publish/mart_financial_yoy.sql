-- name: _mart_financial_yoy
-- kind: table
-- lifetime: temp
-- stage: publish
-- description: v_financial_yoy computed once for the marts that read it (customer_360, financial_risk): for
--  every golden record, or only for those of _mart_scope when $scoped (an incremental publish, where those
--  marts read it only for them); dropped when the marts are built (pipelines.marts).
CREATE OR REPLACE TEMP TABLE _mart_financial_yoy AS
SELECT * FROM v_financial_yoy
WHERE NOT $scoped OR golden_id IN (SELECT golden_id FROM _mart_scope);
