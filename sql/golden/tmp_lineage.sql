-- name: tmp_lineage
-- kind: table
-- lifetime: temp
-- stage: survive
-- description: The lineage of the golden records survive computed in this run, appended batch by batch
--  (each batch's Arrow table; created empty from survived_lineage, the batches' schema).
CREATE OR REPLACE TEMP TABLE tmp_lineage AS SELECT * FROM survived_lineage LIMIT 0;
