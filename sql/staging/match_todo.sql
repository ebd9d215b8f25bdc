-- name: match_todo
-- kind: table
-- stage: match
-- lifetime: temp
-- description: The pairs this run compares, each with its rule, the steward's decision on it and its
--  partition: identifier links (match_identifier_link), blocking candidates (match_candidate) and the pairs
--  stewards decided (match_decided). With $incremental only the pairs touching a new or changed record
--  (run_changed), plus the pairs of match_also. Partitions are consecutive ranges of $batch pairs in the
--  order of their blocking key, so that a partition's pairs share records.
-- column rid_a: The smaller record id of the pair.
-- column rid_b: The larger record id of the pair.
-- column rule: id:<scheme> for an identifier link, else score.
-- column steward: The steward's decision on the pair (true: match, false: no match), NULL when none.
-- column part: The partition (0, 1, ...).
CREATE OR REPLACE TEMP TABLE match_todo AS
WITH pairs AS (
    SELECT rid_a, rid_b, '~id:' || rid_a AS block_key FROM match_identifier_link
    UNION ALL
    SELECT rid_a, rid_b, block_key FROM match_candidate
    UNION ALL
    SELECT rid_a, rid_b, '~steward:' || rid_a FROM match_decided
),
keyed AS (SELECT rid_a, rid_b, min(block_key) AS block_key FROM pairs GROUP BY ALL),
todo AS (  -- two branches, so that a full run does not look every pair up in run_changed and match_also
    SELECT k.* FROM keyed k WHERE NOT $incremental
    UNION ALL
    SELECT k.*
    FROM keyed k
    WHERE $incremental
      AND (
        rid_a IN (SELECT rid FROM run_changed)
        OR rid_b IN (SELECT rid FROM run_changed)
        OR EXISTS (SELECT 1 FROM match_also a WHERE a.rid_a = k.rid_a AND a.rid_b = k.rid_b)
      )
)
SELECT
    t.rid_a,
    t.rid_b,
    coalesce(l.rule, 'score') AS rule,
    d.is_match AS steward,
    (row_number() OVER (ORDER BY t.block_key, t.rid_a, t.rid_b) - 1) // $batch AS part
FROM todo t
LEFT JOIN match_identifier_link l USING (rid_a, rid_b)
LEFT JOIN match_decided d USING (rid_a, rid_b);
