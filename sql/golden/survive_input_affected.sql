-- An incremental survive's survive_input (declared by survive_input.sql): the same columns and batches, for
-- the records of the affected golden ids (affected.sql) only.
CREATE OR REPLACE TEMP TABLE survive_input AS
WITH rec AS (
    SELECT COLUMNS(lambda c: list_contains($columns, c))
    FROM (SELECT s.*, x.golden_id FROM std_organization AS s JOIN new_xref AS x USING (rid)
          WHERE x.golden_id IN (SELECT golden_id FROM affected))
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
