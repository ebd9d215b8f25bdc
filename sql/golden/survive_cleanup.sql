-- The survive stage's working tables, dropped once the run's golden tables are made.
DROP TABLE IF EXISTS survive_input;
DROP TABLE IF EXISTS tmp_golden;
DROP TABLE IF EXISTS tmp_lineage;
