-- A full standardisation reuses nothing: an empty std_reused_keys.
CREATE OR REPLACE TEMP TABLE std_reused_keys AS
SELECT NULL::VARCHAR AS rid, NULL::VARCHAR AS src_file, NULL::BIGINT AS src_line LIMIT 0;
