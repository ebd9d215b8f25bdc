-- name: run_reclustered
-- kind: table
-- stage: cluster
-- lifetime: run
-- description: After an incremental clustering: the records whose cluster and golden id were decided again
--  (cluster_scope, gone = false) and the records of the last published run that left the sources
--  (cluster_gone, gone = true), with the golden id each had in the last published run. Every other record
--  kept its cluster and golden id, so survive looks for the golden records that changed among these only
--  (golden/affected_changed.sql), without the published cross-reference (which the cluster stage turns into
--  new_xref in place, staging/new_xref.sql). Not made when every record was clustered.
-- column rid: Record id (source:source_id).
-- column gone: Whether the record left the sources.
-- column was_golden_id: The record's golden id in the last published run (NULL for a new record).
CREATE OR REPLACE TABLE run_reclustered AS
SELECT s.rid, false AS gone, x.golden_id AS was_golden_id
FROM cluster_scope AS s LEFT JOIN (SELECT x.rid, x.golden_id FROM xref AS x SEMI JOIN cluster_scope USING (rid)) AS x
    USING (rid)
UNION ALL
SELECT g.rid, true, x.golden_id
FROM cluster_gone AS g JOIN (SELECT x.rid, x.golden_id FROM xref AS x SEMI JOIN cluster_gone USING (rid)) AS x
    USING (rid);
