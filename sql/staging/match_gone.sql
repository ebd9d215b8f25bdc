-- name: match_gone
-- kind: table
-- stage: match
-- lifetime: temp
-- description: Incremental runs: the records of the last published run that left the sources: those of
--  std_replaced (the published records changed or removed) no longer in std_organization. Found once, so that the identifier groups, the token
--  frequencies and the kept pairs look records up in these few (with run_changed) rather than each joining
--  every record again. Made again when the stage's inputs were prepared in another process.
-- column rid: Record id (source:source_id).
CREATE TEMP TABLE IF NOT EXISTS match_gone AS
SELECT rid FROM std_replaced ANTI JOIN std_organization USING (rid);
