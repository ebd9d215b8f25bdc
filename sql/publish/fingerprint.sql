-- A fingerprint of one table or view's content ($table, a name of pipelines.warehouse.PARQUET_TABLES): its
-- columns with their types, its row count and two order-insensitive sums over the rows: of each row's hash,
-- and of a hash of that hash (the row, a struct of every column, is hashed once; the second sum is of a
-- different function of it, so two contents collide only if both sums and the count agree).
SELECT count(*) AS row_count,
       md5(concat_ws('|',
           (SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY column_index)
            FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = $table),
           count(*)::VARCHAR, coalesce(sum(h), 0)::VARCHAR, coalesce(sum(hash(h)), 0)::VARCHAR)) AS fingerprint
FROM (SELECT hash(t) AS h FROM query_table($table) AS t);
