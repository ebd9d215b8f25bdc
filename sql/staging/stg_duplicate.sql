-- name: tmp_stg_duplicate
-- kind: table
-- stage: validate
-- lifetime: temp
-- description: The landed organisation rows whose natural key is repeated within their source (and which
--   have a name), ranked: of duplicate keys the most recently updated row wins, then the first in the file.
--   Only these rows are ranked; sql/staging/rejects.sql and stg_organization.sql read them.
-- column pos: The row's rowid in raw_organization.
-- column dup_rank: 1 for the row kept, 2.. for the rows left out.
-- column kept_line: The line of the row kept for this key.
CREATE OR REPLACE TEMP TABLE tmp_stg_duplicate AS
WITH named AS (
    SELECT rowid AS pos, source, src_file, src_line, source_id, updated_at
    FROM raw_organization WHERE source_id IS NOT NULL AND name IS NOT NULL
),
repeated AS (
    SELECT source, source_id FROM named GROUP BY source, source_id HAVING count(*) > 1
)
SELECT pos, source, src_file, src_line, source_id,
       row_number() OVER w AS dup_rank,
       first_value(src_line) OVER w AS kept_line
FROM named SEMI JOIN repeated USING (source, source_id)
WINDOW w AS (PARTITION BY source, source_id ORDER BY updated_at DESC NULLS LAST, src_file, src_line);
