-- Incremental runs: the run's standardised records are the ones standardised now (std_df, registered by
-- the standardise stage) and the reused forms of unchanged records from organization_record, with the
-- lineage (file, line) of this load. (A full run takes std_df alone.)
CREATE OR REPLACE TABLE std_organization AS
SELECT * FROM std_df
UNION ALL BY NAME
SELECT o.* EXCLUDE (golden_id) REPLACE (k.src_file AS src_file, k.src_line AS src_line)
FROM organization_record AS o JOIN std_reused_keys AS k USING (rid);
