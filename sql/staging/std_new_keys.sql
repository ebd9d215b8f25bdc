-- The staged records to standardise in this run: every record whose standardised form cannot be reused
-- (std_reused_keys is empty in a full run), with its content hash.
CREATE OR REPLACE TEMP TABLE std_new_keys AS
SELECT rid, content_hash FROM stg_hashed ANTI JOIN std_reused_keys USING (rid);
