-- name: match_alias
-- kind: table
-- stage: match
-- lifetime: temp
-- description: The blocking keys of the run: one row per record and distinct non-empty alias core
--  (name core with the legal form removed, in every script and transliteration the record has).
-- column rid: Record id (source:source_id).
-- column core: One alias core of the record.
CREATE OR REPLACE TEMP TABLE match_alias AS
SELECT DISTINCT rid, core
FROM (SELECT rid, unnest(aliases) AS core FROM std_organization)
WHERE core IS NOT NULL AND core <> '';
