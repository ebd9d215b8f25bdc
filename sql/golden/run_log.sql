-- The run's stages in the run log: every completed stage (run_stage), then publish itself.
INSERT INTO run_log
SELECT $run, stage, started_at::TIMESTAMP, finished_at::TIMESTAMP, rows_in, rows_out, status, detail
FROM run_stage ORDER BY seq;
INSERT INTO run_log VALUES ($run, 'publish', $started::TIMESTAMP, $finished::TIMESTAMP, $golden, $golden, 'success', NULL);
