-- Write one exported table or view ($table, a name of pipelines.warehouse.PARQUET_TABLES) to the Parquet file
-- $path: zstd at level 1 (pipelines.exports says why). Its rows and column types are those of the table.
COPY (FROM query_table($table)) TO $path (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1);
