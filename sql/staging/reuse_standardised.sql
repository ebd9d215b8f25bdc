-- Incremental runs: the records whose content is unchanged since the last published run and whose
-- standardised form was made by the same version (stg_hashed.reusable, decided by the standardise stage).
-- Their standardised form is taken from organization_record by the standardise stage, with the lineage
-- (file, line) of this load.
CREATE OR REPLACE TEMP TABLE std_reused_keys AS
SELECT rid, src_file, src_line FROM stg_hashed WHERE reusable;
