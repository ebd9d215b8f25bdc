-- name: tmp_lineage
-- kind: table
-- lifetime: temp
-- stage: survive
-- description: The lineage of the golden records survive computed in this run, appended batch by batch
--  (survived_lineage, the Arrow table of one batch).
CREATE OR REPLACE TEMP TABLE tmp_lineage AS SELECT * FROM survived_lineage LIMIT 0;
