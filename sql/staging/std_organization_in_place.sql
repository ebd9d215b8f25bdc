-- An incremental run's std_organization made from the published organization_record in place, not copied
-- (the run works on its own copy of the published database): it loses its golden id column and the records
-- not reused (std_replaced: changed or removed), reused records take this load's lineage where it moved (none
-- when their landing is the last load's), and the first batch standardised now (std_batch, registered by the
-- standardise stage) is appended; later batches by std_append. The same rows and columns, in the same order,
-- as std_organization.sql makes by copying (the standardise stage checks the columns before).
ALTER TABLE organization_record RENAME TO std_organization;
ALTER TABLE std_organization DROP COLUMN golden_id;
DELETE FROM std_organization WHERE rid IN (SELECT rid FROM std_replaced);
UPDATE std_organization AS o SET src_file = k.src_file, src_line = k.src_line
FROM std_reused_keys AS k
WHERE k.rid = o.rid AND (k.src_file IS DISTINCT FROM o.src_file OR k.src_line IS DISTINCT FROM o.src_line);
INSERT INTO std_organization BY NAME SELECT * FROM std_batch;
