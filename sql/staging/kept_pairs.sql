-- Incremental runs: the scored pairs of the last run between two records that are still there and did
-- not change (run_changed lists the new or changed records); the runner stamps them with this run's id.
CREATE OR REPLACE TEMP TABLE kept_pairs AS
SELECT * EXCLUDE (run_id)
FROM match_pair
WHERE rid_a NOT IN (SELECT rid FROM run_changed)
  AND rid_b NOT IN (SELECT rid FROM run_changed)
  AND rid_a IN (SELECT rid FROM std_organization)
  AND rid_b IN (SELECT rid FROM std_organization);
