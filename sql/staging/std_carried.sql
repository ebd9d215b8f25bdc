-- name: std_carried
-- kind: table
-- stage: standardise
-- lifetime: temp
-- description: Incremental runs: the staged records whose standardised form is reused without comparing
--   their content. A record qualifies when its source's landing holds the last load's rows unchanged
--   ($carried: sources in mode reuse, whose landing is a hard link of the last load's, and sources in mode
--   changes, whose rows not read again are that load's rows as they were), its key is in no row read again
--   and is not repeated in the landing (std_unsure), and the record published under its id was made by
--   this STANDARDISE_VERSION ($version) from the row at the same file and line. Why this is exact: the
--   published record was standardised from the one named row with this key in the last load's landing;
--   the staged row is the one named row with this key in this landing, which holds that same row (same
--   bytes, same file and line), and validate only drops rows, it never changes one. So the content is
--   equal, as a comparison would find, and so is the lineage.
-- column pos: The record's rowid in stg_organization.
CREATE OR REPLACE TEMP TABLE std_carried AS
SELECT s.rowid AS pos
FROM stg_organization AS s
JOIN organization_record AS o ON o.rid = s.source || ':' || s.source_id
WHERE list_contains($carried::VARCHAR[], s.source)
  AND o.std_version = $version
  AND o.src_file IS NOT DISTINCT FROM s.src_file
  AND o.src_line IS NOT DISTINCT FROM s.src_line
  AND o.rid NOT IN (SELECT rid FROM std_unsure);
