-- Incremental runs: the records whose content is unchanged since the last published run and whose
-- standardised form was made by the same version ($version). Their standardised form is taken from
-- organization_record by the standardise stage, with the lineage (file, line) of this load (the staged
-- record at stg_hashed.pos).
CREATE OR REPLACE TEMP TABLE std_reused_keys AS
SELECT s.rid, g.src_file, g.src_line
FROM organization_record AS o
JOIN stg_hashed AS s ON s.rid = o.rid AND s.content_hash = o.content_hash
JOIN stg_organization AS g ON g.rowid = s.pos
WHERE o.std_version = $version;
