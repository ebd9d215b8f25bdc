-- The staged records to standardise in this run: every record whose standardised form cannot be reused
-- (std_reused_keys is empty in a full run), with its row id in stg_organization (pos), by which the
-- standardise stage reads them in batches (and hashes their content).
CREATE OR REPLACE TEMP TABLE std_new_keys AS
SELECT pos, rid FROM stg_hashed ANTI JOIN std_reused_keys USING (rid);
