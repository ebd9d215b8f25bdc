-- name: std_unsure
-- kind: table
-- stage: standardise
-- lifetime: temp
-- description: Incremental runs: record ids whose staged row cannot be taken for the landed row of the last
--   load without comparing its content: keys repeated within their source in this run's landing (the row
--   kept is then one of several with that key; listed by validate as duplicate_key). The standardise
--   stage adds the keys of the rows a change-captured source read again (std_unsure_changed.sql).
-- column rid: The record id (source:source_id).
CREATE OR REPLACE TEMP TABLE std_unsure AS
SELECT DISTINCT source || ':' || key AS rid FROM run_issue WHERE code = 'duplicate_key' AND key IS NOT NULL;
