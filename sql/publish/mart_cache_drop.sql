-- The marts' once-computed views (mart_financials_latest.sql, mart_financial_yoy.sql), dropped after the marts.
DROP TABLE IF EXISTS _mart_financials_latest;
DROP TABLE IF EXISTS _mart_financial_yoy;
