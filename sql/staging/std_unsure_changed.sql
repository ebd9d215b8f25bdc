-- Incremental runs: the keys of the organisation rows change-captured sources read again in this run
-- ($files: their Parquet parts, ctx.observed["changes"][source]["files"]) are added to std_unsure.
INSERT INTO std_unsure
SELECT DISTINCT source || ':' || source_id FROM read_parquet($files) WHERE source_id IS NOT NULL;
