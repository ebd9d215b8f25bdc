-- The survive batches (survive_input.sql) in golden id order, with their record counts.
SELECT batch, count(*) AS records FROM survive_input GROUP BY batch ORDER BY batch;
