-- name: tmp_golden
-- kind: table
-- lifetime: temp
-- stage: survive
-- description: The golden records survive computed in this run, appended batch by batch (each batch's Arrow
--  table; created empty from survived_golden, the batches' schema); golden/new_golden_full.sql, carry_over.sql or
--  new_golden_copied.sql read it.
CREATE OR REPLACE TEMP TABLE tmp_golden AS SELECT * FROM survived_golden LIMIT 0;
