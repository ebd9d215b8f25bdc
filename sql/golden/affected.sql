-- Incremental runs: the golden ids of this run whose records changed, that gained or lost a record,
-- or that are new; every other golden record is carried over from the last published run unchanged.
CREATE OR REPLACE TEMP TABLE affected AS
SELECT DISTINCT x.golden_id
FROM new_xref AS x
LEFT JOIN xref AS p ON p.rid = x.rid
WHERE p.golden_id IS DISTINCT FROM x.golden_id
   OR x.rid IN (SELECT rid FROM run_changed)
   OR x.golden_id NOT IN (SELECT golden_id FROM golden_organization)
UNION
SELECT DISTINCT p.golden_id
FROM xref AS p
LEFT JOIN new_xref AS x ON x.rid = p.rid
WHERE x.golden_id IS DISTINCT FROM p.golden_id
  AND p.golden_id IN (SELECT golden_id FROM new_xref);
