-- A full survive: the run's golden records and their lineage are the ones computed now (tmp_golden,
-- tmp_lineage: temp tables the survive stage filled batch by batch, golden/tmp_golden.sql).
CREATE OR REPLACE TABLE new_golden_organization AS SELECT * FROM tmp_golden;
CREATE OR REPLACE TABLE new_golden_attribute_lineage AS SELECT * FROM tmp_lineage;
