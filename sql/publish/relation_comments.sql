-- The tables and views of the main schema with their kind ('table' | 'view') and current comment.
SELECT table_name, 'table' AS kind, comment FROM duckdb_tables()
WHERE schema_name = 'main' AND database_name = current_database() AND NOT temporary
UNION ALL
SELECT view_name, 'view', comment FROM duckdb_views()
WHERE schema_name = 'main' AND database_name = current_database() AND NOT internal AND NOT temporary;
