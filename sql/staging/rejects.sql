-- Organisation rows that did not make it into stg_organization, with the reason (duplicate keys as ranked
-- by stg_duplicate.sql).
SELECT source, src_file AS file, src_line AS line, source_id AS key, 'duplicate_key' AS code,
       'duplicate natural key within the source; kept the row at line ' || kept_line AS message
FROM tmp_stg_duplicate WHERE dup_rank > 1
UNION ALL
SELECT source, src_file, src_line, source_id, 'missing_key', 'row has no natural key (source_id); not loaded'
FROM raw_organization WHERE source_id IS NULL
UNION ALL
SELECT source, src_file, src_line, source_id, 'missing_name', 'row has no name; not loaded'
FROM raw_organization WHERE source_id IS NOT NULL AND name IS NULL
ORDER BY source, file, line;
