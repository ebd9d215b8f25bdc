-- The columns of the main schema's tables and views, in table order, with their current comment.
SELECT table_name, column_name, comment FROM duckdb_columns()
WHERE schema_name = 'main' AND database_name = current_database() AND NOT internal
ORDER BY table_name, column_index;
