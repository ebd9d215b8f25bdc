-- Analyst views (documented in docs/schema.md).
CREATE OR REPLACE VIEW v_golden_organization AS
SELECT g.*
FROM golden_organization AS g;

CREATE OR REPLACE VIEW v_xref AS
SELECT x.source, x.source_id, x.golden_id, g.legal_name, x.match_rule, x.run_id
FROM xref AS x
JOIN golden_organization AS g USING (golden_id);

CREATE OR REPLACE VIEW v_financial_latest AS
WITH f AS (
    SELECT x.golden_id, ff.concept, ff.value, ff.unit, ff.period_end, ff.filing,
           row_number() OVER (PARTITION BY x.golden_id, ff.concept ORDER BY ff.period_end DESC, ff.filing DESC) AS rn
    FROM financial_fact AS ff
    JOIN xref AS x ON x.source = ff.source AND x.source_id = ff.source_id
)
SELECT golden_id, concept, value, unit, period_end, filing FROM f WHERE rn = 1;
