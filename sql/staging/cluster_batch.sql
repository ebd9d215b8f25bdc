-- name: cluster_batch
-- kind: table
-- stage: cluster
-- lifetime: temp
-- description: The linked records of the run (ends of cluster_link) by clustering batch: whole connected
--  components, about performance.batch_rows records a batch (batch_df, registered by the cluster stage).
-- column rid: Record id (source:source_id).
-- column batch: Number of the batch clustering the record's component.
CREATE OR REPLACE TEMP TABLE cluster_batch AS SELECT rid, batch FROM batch_df;
