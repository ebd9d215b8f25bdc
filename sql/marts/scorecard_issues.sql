-- Load warnings and rejected rows of run $run, per source and code.
SELECT source, code, count(*) AS rows
FROM load_issue
WHERE run_id = $run
GROUP BY ALL
ORDER BY source, code
