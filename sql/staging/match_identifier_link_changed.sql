-- An incremental run's match_identifier_link (declared by match_identifier_link.sql): the same links, for
-- the groups (scheme, value) that a new, changed or removed record holds now or held in the last published
-- run (organization_record). Every other group has the same records as in the last run, none of them
-- changed, so its links are the last run's, kept with its pairs; a pair of two records is linked only by
-- groups holding both, so a pair touching a changed record has all its groups here, with the same rule.
-- The groups touched are found from the few changed and gone records (match_gone) first; every record's
-- identifiers are read once, to find the members of those groups.
-- Parameter: $id_columns.
CREATE OR REPLACE TEMP TABLE match_identifier_link AS
WITH ids AS (
    SELECT rid, col, val, list_position($id_columns, col) AS pos
    FROM (
        UNPIVOT (SELECT rid, COLUMNS('^id_') FROM std_organization)
        ON COLUMNS('^id_') INTO NAME col VALUE val
    )
    WHERE list_contains($id_columns, col)
),
old_ids AS (
    SELECT col, val
    FROM (
        UNPIVOT (
            SELECT rid, COLUMNS('^id_') FROM std_replaced
        )
        ON COLUMNS('^id_') INTO NAME col VALUE val
    )
    WHERE list_contains($id_columns, col)
),
new_ids AS (
    SELECT col, val
    FROM (
        UNPIVOT (SELECT rid, COLUMNS('^id_') FROM std_organization WHERE rid IN (SELECT rid FROM run_changed))
        ON COLUMNS('^id_') INTO NAME col VALUE val
    )
    WHERE list_contains($id_columns, col)
),
touched AS (
    SELECT col, val FROM new_ids
    UNION
    SELECT col, val FROM old_ids
),
star AS (
    SELECT min(rid) OVER (PARTITION BY col, val) AS first, rid, col, val, pos
    FROM ids SEMI JOIN touched USING (col, val)
)
SELECT
    first AS rid_a,
    rid AS rid_b,
    arg_min(
        CASE
            WHEN col = 'id_NATIONAL' THEN 'id:' || regexp_extract(val, '^(.*):', 1)
            ELSE 'id:' || replace(substr(col, 4), '_', '-')
        END,
        pos
    ) AS rule
FROM star
WHERE rid <> first
GROUP BY ALL;
