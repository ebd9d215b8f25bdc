-- The fingerprint of a Parquet export's content ($path, a file of a published snapshot), computed as
-- sql/publish/fingerprint.sql computes a table's: $columns is the file's columns as 'name type' joined by commas
-- (sql/publish/export_columns.sql), so the file and a table of the same columns, types and rows get the same
-- fingerprint.
SELECT count(*) AS row_count,
       md5(concat_ws('|', $columns, count(*)::VARCHAR, coalesce(sum(h), 0)::VARCHAR,
           coalesce(sum(hash(h)), 0)::VARCHAR)) AS fingerprint
FROM (SELECT hash(t) AS h FROM read_parquet($path) AS t);
