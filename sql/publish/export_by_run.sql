-- Whether the exported table or view $table (which has a run_id column) holds a row stamped with this run's id
-- ($run), with its row count. No earlier run wrote this id, so such a table changed: pipelines.exports writes it
-- without reading every row for a fingerprint.
SELECT count(*) AS row_count, coalesce(bool_or(run_id = $run), false) AS by_run FROM query_table($table);
