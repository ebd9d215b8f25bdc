-- record_moved (declared by record_moved.sql) after an incremental clustering: the records clustered again
-- whose golden id differs from their published one (run_reclustered.was_golden_id). Exact: a published
-- record's golden id in organization_record is its golden id in the published xref (both were published
-- from one new_xref), and a record outside run_reclustered kept it in new_xref.
CREATE OR REPLACE TEMP TABLE record_moved AS
SELECT r.rid
FROM run_reclustered AS r JOIN new_xref AS x USING (rid)
WHERE r.was_golden_id IS NOT NULL AND x.golden_id <> r.was_golden_id;
