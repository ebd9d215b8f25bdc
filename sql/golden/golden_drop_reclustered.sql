-- golden_drop (declared by golden_drop.sql) after an incremental clustering: the affected ids and the ids
-- no record of this run holds any more, looked for among the golden ids of the last published run of the
-- records clustered again or gone (run_reclustered.was_golden_id). Exact: every published golden id is held
-- by a record of the published cross-reference, and a record outside run_reclustered kept its golden id in
-- new_xref; so an id that new_xref no longer holds was held by records of run_reclustered only. The few ids
-- are looked up in new_xref (a semi join probing it), not new_xref's 2M ids in a hash table.
CREATE OR REPLACE TEMP TABLE golden_drop AS
WITH was AS (SELECT DISTINCT was_golden_id AS golden_id FROM run_reclustered WHERE was_golden_id IS NOT NULL),
held AS (SELECT DISTINCT x.golden_id FROM new_xref AS x SEMI JOIN was USING (golden_id))
SELECT golden_id FROM affected
UNION
SELECT golden_id FROM was ANTI JOIN held USING (golden_id);
