-- Staged canonical organisation records: one row per (source, source_id).
-- Rows with no natural key or no name are left out (listed by rejects.sql); of duplicate keys within a
-- source the most recently updated row wins, then the first in the file. Only the rows of repeated keys
-- are ranked (the others pass as they are), and the table is left unordered: readers order what they read.
CREATE OR REPLACE TABLE stg_organization AS
WITH named AS (
    SELECT * FROM raw_organization WHERE source_id IS NOT NULL AND name IS NOT NULL
),
repeated AS (
    SELECT source, source_id FROM named GROUP BY source, source_id HAVING count(*) > 1
)
SELECT n.* FROM named AS n ANTI JOIN repeated USING (source, source_id)
UNION ALL
SELECT * EXCLUDE (dup_rank)
FROM (
    SELECT n.*,
           row_number() OVER (
               PARTITION BY source, source_id
               ORDER BY updated_at DESC NULLS LAST, src_file, src_line
           ) AS dup_rank
    FROM named AS n SEMI JOIN repeated USING (source, source_id)
)
WHERE dup_rank = 1;
