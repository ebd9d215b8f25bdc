-- name: std_replaced
-- kind: table
-- stage: standardise
-- lifetime: run
-- description: Incremental runs: what the incremental match reads of the last published run's records
--   (their aliases and identifiers) for the ids whose standardised form is not reused: changed or removed
--   since then. Kept here because std_organization is made from organization_record in place.
-- column rid: The record id (source:source_id).
-- column aliases: The record's standardised aliases as published.
-- column id_*: The record's standardised identifiers as published (every id_ column of organization_record).
CREATE OR REPLACE TABLE std_replaced AS
SELECT rid, aliases, COLUMNS('^id_') FROM organization_record ANTI JOIN std_reused_keys USING (rid);
