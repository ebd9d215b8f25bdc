-- golden/history_close.sql after an incremental clustering (run_reclustered): the same versions closed, the
-- golden ids that are gone looked for among the golden ids of the last published run of the records
-- clustered again or gone (run_reclustered.was_golden_id) instead of every current version against every
-- golden record. Exact: the current versions are those of the last published golden records, each held by
-- a record of the last published cross-reference, and a record outside run_reclustered kept its golden id;
-- so a golden id no golden record has now was held by records of run_reclustered only. Parameter: $now.
UPDATE golden_organization_history AS cur
SET valid_to = CAST($now AS TIMESTAMP)
WHERE cur.valid_to IS NULL
  AND (cur.golden_id IN (
           SELECT w.golden_id
           FROM (SELECT DISTINCT was_golden_id AS golden_id FROM run_reclustered WHERE was_golden_id IS NOT NULL) AS w
           ANTI JOIN (SELECT g.golden_id FROM golden_organization AS g SEMI JOIN run_reclustered AS r
                      ON r.was_golden_id = g.golden_id) AS kept USING (golden_id))
       OR EXISTS (SELECT 1 FROM _golden_hash AS h WHERE h.golden_id = cur.golden_id AND h.row_hash <> cur.row_hash));
