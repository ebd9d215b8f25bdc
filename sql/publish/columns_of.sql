-- The columns of a table (main or temp) as 'name type', in table order ($table: a constant of the caller).
SELECT list(column_name || ' ' || data_type ORDER BY column_index) FROM duckdb_columns()
WHERE table_name = $table AND schema_name = 'main' AND NOT internal;
