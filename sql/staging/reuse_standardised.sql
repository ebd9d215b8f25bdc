-- Incremental runs: the standardised form of every record whose content is unchanged since the last
-- published run and was standardised by the same version ($version); lineage comes from this load.
CREATE OR REPLACE TEMP TABLE std_reused AS
SELECT o.* EXCLUDE (golden_id) REPLACE (s.src_file AS src_file, s.src_line AS src_line)
FROM organization_record AS o
JOIN stg_hashed AS s ON s.rid = o.rid AND s.content_hash = o.content_hash
WHERE o.std_version = $version;
