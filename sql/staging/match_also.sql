-- name: match_also
-- kind: table
-- stage: match
-- lifetime: temp
-- description: Incremental runs: identifier links between two unchanged records that the last run did not
--  score (a removed record was the hub of their group), compared again with the pairs of the changed
--  records. Empty in a full run.
-- column rid_a: The smaller record id of the pair.
-- column rid_b: The larger record id of the pair.
CREATE OR REPLACE TEMP TABLE match_also AS
SELECT l.rid_a, l.rid_b FROM match_identifier_link l ANTI JOIN kept_pairs k USING (rid_a, rid_b);
