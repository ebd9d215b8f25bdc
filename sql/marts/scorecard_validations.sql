-- Great Expectations results of run $run.
SELECT suite, batch, success, evaluated, failed_rows, detail
FROM validation_result
WHERE run_id = $run
ORDER BY batch
