-- The SQL of a view of the main schema ($view: a name of pipelines.warehouse.PARQUET_TABLES); no row for a table.
SELECT sql FROM duckdb_views() WHERE view_name = $view AND schema_name = 'main' AND NOT internal;
