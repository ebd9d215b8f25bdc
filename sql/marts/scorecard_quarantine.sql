-- Rows quarantined by run $run, per source and rule.
SELECT source, rule, count(*) AS rows
FROM quarantine
WHERE run_id = $run
GROUP BY ALL
ORDER BY source, rule
