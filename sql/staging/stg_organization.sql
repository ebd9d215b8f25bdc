-- Staged canonical organisation records: one row per (source, source_id).
-- Rows with no natural key or no name are left out (listed by rejects.sql); of duplicate keys within a
-- source the most recently updated row wins, then the first in the file (ranked by stg_duplicate.sql,
-- which only ranks the rows of repeated keys). The landed rows are not copied: the rows left out are
-- deleted from raw_organization, which becomes stg_organization (unordered: readers order what they read).
DELETE FROM raw_organization
WHERE source_id IS NULL OR name IS NULL OR rowid IN (SELECT pos FROM tmp_stg_duplicate WHERE dup_rank > 1);
ALTER TABLE raw_organization RENAME TO stg_organization;
