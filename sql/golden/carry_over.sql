-- Incremental runs: this run's golden tables made in place from the published ones (the run works on
-- its own copy of the database). Golden records and lineage of the affected golden ids (affected.sql)
-- and of ids no record holds any more (both in golden_drop, golden/golden_drop*.sql: a few ids, so the
-- 20M lineage rows are probed against a small set) are replaced by the ones computed now (tmp_golden,
-- tmp_lineage). The tables are then renamed new_* for golden/publish.sql to swap in, like a full run's.
-- (The standardised records are std_organization itself, made in place by the standardise stage:
-- new_organization_record_in_place.sql.)
DELETE FROM golden_organization WHERE golden_id IN (SELECT golden_id FROM golden_drop);
INSERT INTO golden_organization BY NAME SELECT * FROM tmp_golden;
ALTER TABLE golden_organization RENAME TO new_golden_organization;

DELETE FROM golden_attribute_lineage WHERE golden_id IN (SELECT golden_id FROM golden_drop);
INSERT INTO golden_attribute_lineage BY NAME SELECT * FROM tmp_lineage;
ALTER TABLE golden_attribute_lineage RENAME TO new_golden_attribute_lineage;
DROP TABLE golden_drop;
