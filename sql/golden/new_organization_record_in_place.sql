-- An incremental run's new_organization_record (declared by new_organization_record.sql): std_organization
-- itself, with the golden id of each record (new_xref) in a last column, renamed; not copied. The same rows
-- and columns as new_organization_record.sql's join (a record without a golden id, which cluster never
-- leaves, is dropped as the join drops it).
DELETE FROM std_organization WHERE rid NOT IN (SELECT rid FROM new_xref);
ALTER TABLE std_organization ADD COLUMN golden_id VARCHAR;
UPDATE std_organization AS s SET golden_id = x.golden_id FROM new_xref AS x WHERE x.rid = s.rid;
ALTER TABLE std_organization RENAME TO new_organization_record;
