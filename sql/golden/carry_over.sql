-- Incremental runs: this run's golden tables made in place from the published ones (the run works on
-- its own copy of the database). Golden records and lineage of the affected golden ids (affected.sql)
-- and of ids no record holds any more (both in golden_drop, golden/golden_drop*.sql: a few ids, so the
-- 20M lineage rows are probed against a small set) are replaced by the ones computed now (tmp_golden,
-- tmp_lineage);
-- a standardised record is replaced when it changed in any way (content, version, lineage, golden id).
-- The tables are then renamed new_* for golden/publish.sql to swap in, like a full run's.
DELETE FROM golden_organization WHERE golden_id IN (SELECT golden_id FROM golden_drop);
INSERT INTO golden_organization BY NAME SELECT * FROM tmp_golden;
ALTER TABLE golden_organization RENAME TO new_golden_organization;

DELETE FROM golden_attribute_lineage WHERE golden_id IN (SELECT golden_id FROM golden_drop);
INSERT INTO golden_attribute_lineage BY NAME SELECT * FROM tmp_lineage;
ALTER TABLE golden_attribute_lineage RENAME TO new_golden_attribute_lineage;

-- A record is replaced when no standardised record of this run has its content, version and lineage (one
-- anti join; a record that left has none), or when its golden id changed (record_moved,
-- golden/record_moved*.sql: after an incremental clustering, found among the records clustered again).
DELETE FROM organization_record
WHERE rid IN (
    SELECT o.rid
    FROM organization_record AS o
    ANTI JOIN std_organization AS s
      ON s.rid = o.rid AND s.content_hash = o.content_hash AND s.std_version = o.std_version
     AND s.src_file IS NOT DISTINCT FROM o.src_file AND s.src_line IS NOT DISTINCT FROM o.src_line
    UNION ALL
    SELECT rid FROM record_moved
);
CREATE OR REPLACE TEMP TABLE _record_missing AS
SELECT rid FROM std_organization ANTI JOIN organization_record USING (rid);
INSERT INTO organization_record BY NAME
SELECT s.*, x.golden_id FROM _record_missing AS m JOIN std_organization AS s USING (rid) JOIN new_xref AS x USING (rid);
DROP TABLE _record_missing;
ALTER TABLE organization_record RENAME TO new_organization_record;
DROP TABLE golden_drop;
DROP TABLE record_moved;
