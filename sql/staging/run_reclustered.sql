-- name: run_reclustered
-- kind: table
-- stage: cluster
-- lifetime: run
-- description: After an incremental clustering: the records whose cluster and golden id were decided again
--  (cluster_scope, gone = false) and the records of the last published run that left the sources
--  (cluster_gone, gone = true). Every other record kept its cluster and golden id, so survive looks for the
--  golden records that changed among these only (golden/affected_changed.sql). Not made when every record
--  was clustered.
-- column rid: Record id (source:source_id).
-- column gone: Whether the record left the sources.
CREATE OR REPLACE TABLE run_reclustered AS
SELECT rid, false AS gone FROM cluster_scope
UNION ALL
SELECT rid, true FROM cluster_gone;
