-- Corporate hierarchy between golden records: the run's relationship rows (GLEIF level 2: child -> parent
-- by LEI) with both ends resolved to golden ids through any source record carrying that valid LEI
-- (organization_record.id_LEI). Runs at publish after golden/publish. Parameter: $run = the run id.
--
-- One row per (source, child_id, parent_id, relationship_type): when a relationship was delivered more
-- than once (full file plus deltas), the latest update wins. Relationships with neither end loaded as an
-- entity are left out (they stay in `relationship`); a parent that is not loaded keeps parent_golden_id
-- NULL and its LEI in parent_id, a child that is not loaded keeps child_golden_id NULL.

-- run_id: the run that wrote the row; a row equal in every other column to a row of the last published table
-- keeps that row's run id (as in golden/financials.sql), so a run that changes no link stamps no row.
CREATE TABLE IF NOT EXISTS golden_hierarchy (child_golden_id VARCHAR, run_id VARCHAR);
CREATE OR REPLACE TABLE golden_hierarchy AS
WITH lei_golden AS (
    -- Records sharing a valid LEI match deterministically, so an LEI names one golden record; min() only
    -- makes the choice deterministic should a steward have split them.
    SELECT id_LEI AS lei, min(golden_id) AS golden_id
    FROM organization_record
    WHERE id_LEI IS NOT NULL AND golden_id IS NOT NULL
    GROUP BY id_LEI
),
rel AS (
    SELECT *
    FROM relationship
    WHERE child_id IS NOT NULL AND parent_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY source, child_id, parent_id, relationship_type
                               ORDER BY updated_at DESC NULLS LAST, src_file DESC, src_line DESC) = 1
),
fresh AS (
SELECT c.golden_id AS child_golden_id,
       p.golden_id AS parent_golden_id,
       r.relationship_type,
       r.relationship_status,
       r.source,
       r.child_id,
       r.parent_id,
       r.start_date,
       r.end_date,
       r.registration_status
FROM rel AS r
LEFT JOIN lei_golden AS c ON c.lei = upper(trim(r.child_id)) AND coalesce(upper(r.child_id_type), 'LEI') = 'LEI'
LEFT JOIN lei_golden AS p ON p.lei = upper(trim(r.parent_id)) AND coalesce(upper(r.parent_id_type), 'LEI') = 'LEI'
WHERE c.golden_id IS NOT NULL OR p.golden_id IS NOT NULL
),
hashed AS (SELECT *, hash(*COLUMNS(*)) AS _row FROM fresh),
published AS (
    SELECT hash(*COLUMNS(* EXCLUDE (run_id))) AS _row, min(run_id) AS run_id FROM golden_hierarchy GROUP BY _row
)
SELECT h.* EXCLUDE (_row), coalesce(p.run_id, CAST($run AS VARCHAR)) AS run_id
FROM hashed AS h
LEFT JOIN published AS p USING (_row)
ORDER BY h.child_golden_id NULLS LAST, h.relationship_type, h.parent_id;
