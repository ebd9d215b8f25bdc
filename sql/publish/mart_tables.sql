-- Which of the tables named in $names exist (main schema): the marts an incremental publish updates and
-- run_reloaded.
SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND table_name IN (SELECT unnest($names));
