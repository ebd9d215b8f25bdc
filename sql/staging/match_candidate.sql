-- name: match_candidate
-- kind: table
-- stage: match
-- lifetime: temp
-- description: Candidate record pairs from blocking, the same pairs as recordlinkage's Block("core") plus
--  SortedNeighbourhood over "core" and over the reversed core with window 3 (tested against it): two
--  records pair when aliases of theirs have equal cores, or cores next to each other in sorted order, or
--  reversed cores next to each other (so a typo at either end still meets its twin). Cores held by more
--  than $max_block aliases are too common to discriminate and take no part (counted by the stage).
--  Parameter: $max_block (matching.max_block_size). A core is reversed by code point (as Python's
--  core[::-1]; DuckDB's reverse() keeps grapheme clusters together, which would differ for combining marks,
--  so it reverses only cores of printable ASCII, where every code point is a grapheme cluster of its own).
-- column rid_a: The smaller record id of the pair.
-- column rid_b: The larger record id of the pair.
-- column block_key: The smallest blocking key (alias core) that made the pair: partitions are ranges of it.
CREATE OR REPLACE TEMP TABLE match_candidate AS
WITH usable AS (
    SELECT a.rid, a.core
    FROM match_alias a
    SEMI JOIN (SELECT core FROM match_alias GROUP BY core HAVING count(*) <= $max_block) k USING (core)
),
core_rank AS (
    SELECT core, row_number() OVER (ORDER BY core) AS r FROM (SELECT DISTINCT core FROM usable)
),
reversed AS MATERIALIZED (
    SELECT core, CASE
        WHEN regexp_full_match(core, '[ -~]*') THEN reverse(core)  -- printable ASCII: a grapheme per code point
        ELSE array_to_string(list_reverse(string_split(core, '')), '')
    END AS rev
    FROM core_rank
),
rev_rank AS (
    SELECT rev, row_number() OVER (ORDER BY rev) AS r FROM (SELECT DISTINCT rev FROM reversed)
),
by_core AS (SELECT u.rid, u.core, c.r FROM usable u JOIN core_rank c USING (core)),
by_rev AS (
    SELECT u.rid, u.core, v.r FROM usable u JOIN reversed USING (core) JOIN rev_rank v USING (rev)
),
linked AS (
    SELECT x.rid AS p, y.rid AS q, least(x.core, y.core) AS k FROM by_core x JOIN by_core y ON y.r = x.r
    UNION ALL
    SELECT x.rid, y.rid, least(x.core, y.core) FROM by_core x JOIN by_core y ON y.r = x.r + 1
    UNION ALL
    SELECT x.rid, y.rid, least(x.core, y.core) FROM by_rev x JOIN by_rev y ON y.r = x.r + 1
)
SELECT least(p, q) AS rid_a, greatest(p, q) AS rid_b, min(k) AS block_key
FROM linked
WHERE p <> q
GROUP BY ALL;
