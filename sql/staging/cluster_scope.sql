-- Incremental runs: the records whose clusters may differ from the last published run, to be clustered
-- again; every other record keeps its cluster and golden id. The scope starts from the records that
-- are new or changed (run_changed), the ends of every pair scored in this run (run_rescored) and the
-- former cluster mates of records that left the sources (cluster_gone); cluster_scope_grow.sql then closes
-- it, step by step (step: the step that added the record; 0 for these).
CREATE OR REPLACE TEMP TABLE cluster_scope AS
SELECT rid, 0 AS step
FROM (
    SELECT rid FROM run_changed
    UNION
    SELECT rid_a FROM run_rescored
    UNION
    SELECT rid_b FROM run_rescored
    UNION
    SELECT x.rid
    FROM xref AS x
    WHERE x.golden_id IN (SELECT golden_id FROM xref WHERE rid IN (SELECT rid FROM cluster_gone))
      AND x.rid NOT IN (SELECT rid FROM cluster_gone)
);
