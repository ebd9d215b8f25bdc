-- Incremental survive when the computed tables gained columns the published ones lack (so
-- carry_over.sql cannot update them in place): the golden records and lineage computed now plus copies of
-- the published ones of every unaffected golden id this run still holds.
CREATE OR REPLACE TABLE new_golden_organization AS
SELECT * FROM tmp_golden
UNION ALL BY NAME
SELECT * FROM golden_organization
WHERE golden_id IN (SELECT golden_id FROM new_xref) AND golden_id NOT IN (SELECT golden_id FROM affected);
CREATE OR REPLACE TABLE new_golden_attribute_lineage AS
SELECT * FROM tmp_lineage
UNION ALL BY NAME
SELECT * FROM golden_attribute_lineage
WHERE golden_id IN (SELECT golden_id FROM new_xref) AND golden_id NOT IN (SELECT golden_id FROM affected);
