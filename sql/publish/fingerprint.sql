-- A fingerprint of one table or view's content ($table, a name of pipelines.warehouse.PARQUET_TABLES): its
-- columns with their types, its row count and two order-insensitive sums of row hashes.
SELECT count(*) AS row_count,
       md5(concat_ws('|',
           (SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY column_index)
            FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = $table),
           count(*)::VARCHAR, coalesce(sum(hash(t)), 0)::VARCHAR, coalesce(sum(hash(t, 7)), 0)::VARCHAR)) AS fingerprint
FROM query_table($table) AS t;
