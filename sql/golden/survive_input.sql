-- name: survive_input
-- kind: table
-- lifetime: temp
-- stage: survive
-- description: The records a full survive computes golden records from: the columns survivorship reads
--  ($columns) of every standardised record with its golden id, and the batch it is survived in. A batch is a
--  run of consecutive golden ids holding about $batch_rows records (a larger cluster is a batch of its own),
--  so a batch never splits a cluster. Ordered by batch, so each batch is read without scanning the others.
CREATE OR REPLACE TEMP TABLE survive_input AS
WITH rec AS (
    SELECT COLUMNS(lambda c: list_contains($columns, c))
    FROM (SELECT s.*, x.golden_id FROM std_organization AS s JOIN new_xref AS x USING (rid))
),
sizes AS (
    SELECT golden_id, count(*) AS n FROM rec GROUP BY golden_id
),
batched AS (
    SELECT golden_id,
           (sum(n) OVER (ORDER BY golden_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - 1) // $batch_rows
               AS batch
    FROM sizes
)
SELECT r.*, b.batch FROM rec AS r JOIN batched AS b USING (golden_id) ORDER BY b.batch, r.rid;
