-- The columns of golden_organization that its history's version hash covers (golden/history.sql, $keys):
-- every column but golden_id and run_id, sorted by name.
SELECT coalesce(list_sort(list(column_name)), []) FROM duckdb_columns()
WHERE table_name = 'golden_organization' AND schema_name = 'main' AND NOT internal
  AND column_name NOT IN ('golden_id', 'run_id');
