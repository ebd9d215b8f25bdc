-- name: match_also
-- kind: table
-- stage: match
-- lifetime: temp
-- description: Incremental runs: identifier links between two unchanged records that the last run did not
--  score (a removed or changed record was the hub of their group), compared again with the pairs of the
--  changed records. Empty in a full run.
-- column rid_a: The smaller record id of the pair.
-- column rid_b: The larger record id of the pair.
-- (A link touching a changed record is compared anyway. The published pairs are probed with the few links,
-- not the other way round.)
CREATE OR REPLACE TEMP TABLE match_also AS
WITH links AS (
    SELECT rid_a, rid_b FROM match_identifier_link
    WHERE rid_a NOT IN (SELECT rid FROM run_changed) AND rid_b NOT IN (SELECT rid FROM run_changed)
),
scored AS (SELECT p.rid_a, p.rid_b FROM match_pair AS p SEMI JOIN links AS l USING (rid_a, rid_b))
SELECT l.rid_a, l.rid_b FROM links AS l ANTI JOIN scored AS s USING (rid_a, rid_b);
