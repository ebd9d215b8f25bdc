-- Staged canonical organisation records: one row per (source, source_id).
-- Rows with no natural key or no name are left out (listed by rejects.sql); of duplicate keys within a
-- source the most recently updated row wins, then the first in the file.
CREATE OR REPLACE TABLE stg_organization AS
WITH keyed AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY source, source_id
            ORDER BY updated_at DESC NULLS LAST, src_file, src_line
        ) AS dup_rank
    FROM raw_organization
    WHERE source_id IS NOT NULL AND name IS NOT NULL
)
SELECT * EXCLUDE (dup_rank)
FROM keyed
WHERE dup_rank = 1
ORDER BY source, source_id;
