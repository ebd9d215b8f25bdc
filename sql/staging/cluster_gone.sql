-- name: cluster_gone
-- kind: table
-- stage: cluster
-- lifetime: temp
-- description: Incremental runs: the records of the last published run that left the sources (in xref, no
--  longer in std_organization). Found once, so that the cluster scope and the kept cross-reference look
--  records up in these few rather than in every record.
-- column rid: Record id (source:source_id).
CREATE OR REPLACE TEMP TABLE cluster_gone AS
SELECT rid FROM xref ANTI JOIN std_organization USING (rid);
