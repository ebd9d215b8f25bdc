-- name: golden_drop
-- kind: table
-- stage: survive
-- lifetime: temp
-- description: Incremental survive: the published golden ids whose golden record and lineage are replaced
--  or removed (golden/carry_over.sql): the affected ids (affected.sql) and the ids no record of this run
--  holds any more. (After an incremental clustering golden_drop_reclustered.sql finds the same ids among
--  the records clustered again or gone only.)
-- column golden_id: A golden id of the last published run.
CREATE OR REPLACE TEMP TABLE golden_drop AS
SELECT golden_id FROM affected
UNION
SELECT golden_id FROM golden_organization ANTI JOIN new_xref USING (golden_id);
