-- name: record_moved
-- kind: table
-- stage: survive
-- lifetime: temp
-- description: Incremental survive: the published standardised records (organization_record) whose golden
--  id this run's clustering changed; golden/carry_over.sql replaces them. (After an incremental clustering
--  record_moved_reclustered.sql finds them among the records clustered again only.)
-- column rid: Record id (source:source_id).
CREATE OR REPLACE TEMP TABLE record_moved AS
SELECT o.rid FROM organization_record AS o JOIN new_xref AS x USING (rid) WHERE x.golden_id <> o.golden_id;
