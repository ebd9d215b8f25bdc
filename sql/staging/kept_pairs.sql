-- Incremental runs: the scored pairs of the last run between two records that are still there and did
-- not change (run_changed lists the new or changed records; records that left the sources are in xref
-- but no longer in std_organization). A view: the runner reads it once into new_match_pair, stamped
-- with this run's id.
CREATE OR REPLACE TEMP VIEW kept_pairs AS
WITH gone AS (
    SELECT rid FROM run_changed
    UNION ALL
    SELECT rid FROM xref ANTI JOIN std_organization USING (rid)
)
SELECT * EXCLUDE (run_id)
FROM match_pair
WHERE rid_a NOT IN (SELECT rid FROM gone)
  AND rid_b NOT IN (SELECT rid FROM gone);
