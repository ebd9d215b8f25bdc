-- Of the exported tables $tables (the ones extract may keep: pipelines.exports.KEPT), those this run's
-- extract kept whole from the last published run (no pair of run_reloaded names them, as table or as its
-- raw_ table) and that the last published run had rows in (an empty table's columns are not checked by
-- extract, and it is cheap to fingerprint). Their content is the published one, so is their fingerprint.
SELECT t.table_name
FROM (SELECT unnest($tables::VARCHAR[]) AS table_name) AS t
JOIN export_state AS s USING (table_name)
WHERE s.row_count > 0
  AND NOT EXISTS (SELECT 1 FROM run_reloaded AS r WHERE r.table_name IN (t.table_name, 'raw_' || t.table_name));
