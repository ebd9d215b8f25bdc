-- The run's standardised records, made from the first batch standardised now (std_batch, registered by the
-- standardise stage; the later batches are appended by std_append) and, in an incremental run, the reused
-- forms of unchanged records from organization_record, with the lineage (file, line) of this load. (A full
-- run starts from std_batch alone.)
CREATE OR REPLACE TABLE std_organization AS
SELECT * FROM std_batch
UNION ALL BY NAME
SELECT o.* EXCLUDE (golden_id) REPLACE (k.src_file AS src_file, k.src_line AS src_line)
FROM organization_record AS o JOIN std_reused_keys AS k USING (rid);
