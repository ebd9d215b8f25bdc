-- The run's standardised records with their golden id, when carry_over.sql has not made them in place.
CREATE TABLE IF NOT EXISTS new_organization_record AS
SELECT s.*, x.golden_id FROM std_organization AS s JOIN new_xref AS x USING (rid) ORDER BY s.rid;
