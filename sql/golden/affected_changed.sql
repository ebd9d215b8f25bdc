-- An incremental survive's affected (declared by affected.sql) after an incremental clustering: the same
-- golden ids, looked for among the records clustered again or gone (run_reclustered, which holds their
-- golden ids of the last published run: the published xref became new_xref in place) only. Every other
-- record kept its golden id (new_xref keeps its row), is unchanged (run_changed records are clustered
-- again) and its golden id has a published golden record (the published golden records are those of the
-- published cross-reference), so it adds nothing to affected.sql's conditions. The few ids are looked up
-- in the big tables, not the other way round.
CREATE OR REPLACE TEMP TABLE affected AS
WITH now AS (SELECT x.rid, x.golden_id FROM new_xref AS x SEMI JOIN run_reclustered USING (rid)),
was AS (SELECT rid, was_golden_id AS golden_id FROM run_reclustered WHERE was_golden_id IS NOT NULL),
ids AS (SELECT golden_id FROM now UNION SELECT golden_id FROM was),
published AS (SELECT g.golden_id FROM golden_organization AS g SEMI JOIN ids USING (golden_id)),
held AS (SELECT DISTINCT x.golden_id FROM new_xref AS x SEMI JOIN was USING (golden_id))
SELECT DISTINCT n.golden_id
FROM now AS n
LEFT JOIN was AS w USING (rid)
WHERE w.golden_id IS DISTINCT FROM n.golden_id
   OR n.rid IN (SELECT rid FROM run_changed)
   OR n.golden_id NOT IN (SELECT golden_id FROM published)
UNION
SELECT DISTINCT w.golden_id
FROM was AS w
LEFT JOIN now AS n USING (rid)
WHERE n.golden_id IS DISTINCT FROM w.golden_id
  AND w.golden_id IN (SELECT golden_id FROM held);
