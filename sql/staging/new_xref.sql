-- Incremental runs: the run's cross-reference is the records clustered now (xref_df, registered by the
-- cluster stage) plus every record outside the cluster scope with its published cluster and golden id
-- (id_origin 'kept', this run's id), unless it left the sources. Made in place from the published xref
-- (the run works on its own copy of the database), so the records that kept their cluster are not copied:
-- the records clustered again or gone (run_reclustered: cluster_scope and cluster_gone, with their
-- published golden ids for survive) are deleted, the kept ones get this run's id, the clustered ones are
-- added, and the table is renamed new_xref for golden/publish.sql to swap in. The same rows as copying the
-- kept records into a new table; the table is in no particular order (readers sort). Parameter: $run.
-- (A full run takes xref_df alone.)
DELETE FROM xref WHERE rid IN (SELECT rid FROM run_reclustered);
UPDATE xref SET id_origin = 'kept', run_id = $run;
INSERT INTO xref BY NAME
SELECT source, source_id, golden_id, rid, match_rule, id_origin, cluster_key, run_id FROM xref_df;
ALTER TABLE xref RENAME TO new_xref;
