-- name: match_identifier_link
-- kind: table
-- stage: match
-- lifetime: temp
-- description: Pairs of records sharing a valid identifier of an authoritative scheme (LEI, USCC, a
--  national register ...): each group of records with one value is linked as a star on its smallest record
--  id, which is enough for clustering. A pair linked by several schemes keeps the rule of the first scheme
--  in $id_columns order (mdm.standardise.ID_COLUMNS). Parameter: $id_columns.
-- column rid_a: The smaller record id (the group's first record).
-- column rid_b: The other record of the group.
-- column rule: id:<scheme>, e.g. id:LEI; a national identifier names its own scheme (id:FR-SIREN).
CREATE OR REPLACE TEMP TABLE match_identifier_link AS
WITH ids AS (
    SELECT rid, col, val, list_position($id_columns, col) AS pos
    FROM (
        UNPIVOT (SELECT rid, COLUMNS('^id_') FROM std_organization)
        ON COLUMNS('^id_') INTO NAME col VALUE val
    )
    WHERE list_contains($id_columns, col)
),
star AS (SELECT min(rid) OVER (PARTITION BY col, val) AS first, rid, col, val, pos FROM ids)
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
