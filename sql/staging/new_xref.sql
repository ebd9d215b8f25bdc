-- Incremental runs: the run's cross-reference is the records clustered now (xref_df, registered by the
-- cluster stage) plus every record outside the cluster scope with its published cluster and golden id,
-- unless it left the sources (cluster_gone: the few records of xref no longer in std_organization).
-- (A full run takes xref_df alone.)
CREATE OR REPLACE TABLE new_xref AS
SELECT source, source_id, golden_id, rid, match_rule, id_origin, cluster_key, run_id
FROM (
    SELECT * FROM xref_df
    UNION ALL
    SELECT * REPLACE ('kept' AS id_origin, $run AS run_id)
    FROM xref
    WHERE rid NOT IN (SELECT rid FROM cluster_scope)
      AND rid NOT IN (SELECT rid FROM cluster_gone)
)
ORDER BY source, source_id;
