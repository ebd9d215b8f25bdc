-- An incremental run's match_candidate (declared by match_candidate.sql): the same pairs with the same
-- blocking keys, but only those touching a record that needs candidates (run_changed: new or changed
-- records, and both records of every pair of match_also); a pair between two other records was scored
-- by an earlier run and is kept. Which cores are usable and their places in sorted order are a property
-- of all records, so they are ranked over all of them (a sort of the distinct cores); but only the aliases
-- whose core is at, or next to, the place of a core of a record needing candidates take part in the
-- pairing. Every blocking link of such a pair joins an alias of that record with an alias at the same
-- or the next place, so each pair keeps every link that made it, and its smallest blocking key.
-- Parameter: $max_block (matching.max_block_size).
CREATE OR REPLACE TEMP TABLE match_candidate AS
WITH hot AS (
    SELECT rid FROM run_changed
    UNION
    SELECT rid_a FROM match_also
    UNION
    SELECT rid_b FROM match_also
),
core_rank AS (
    SELECT core, row_number() OVER (ORDER BY core) AS r
    FROM (SELECT core FROM match_alias GROUP BY core HAVING count(*) <= $max_block)
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
hot_alias AS (SELECT a.rid, a.core FROM match_alias AS a SEMI JOIN hot USING (rid)),
hot_core AS (SELECT DISTINCT c.r FROM core_rank AS c SEMI JOIN hot_alias USING (core)),
near_core AS (
    SELECT r - 1 AS r FROM hot_core UNION SELECT r FROM hot_core UNION SELECT r + 1 FROM hot_core
),
hot_rev AS (
    SELECT DISTINCT v.r FROM reversed AS x JOIN rev_rank AS v USING (rev) SEMI JOIN hot_alias USING (core)
),
near_rev AS (
    SELECT r - 1 AS r FROM hot_rev UNION SELECT r FROM hot_rev UNION SELECT r + 1 FROM hot_rev
),
by_core AS (
    SELECT a.rid, a.core, c.r
    FROM match_alias AS a JOIN (SELECT * FROM core_rank SEMI JOIN near_core USING (r)) AS c USING (core)
),
by_rev AS (
    SELECT a.rid, a.core, v.r
    FROM match_alias AS a
    JOIN reversed USING (core)
    JOIN (SELECT * FROM rev_rank SEMI JOIN near_rev USING (r)) AS v USING (rev)
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
WHERE p <> q AND (p IN (SELECT rid FROM hot) OR q IN (SELECT rid FROM hot))
GROUP BY ALL;
