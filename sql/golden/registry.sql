-- The registry of golden ids: ids minted by this run get the next sequence numbers, in id order; ids
-- this run retired are marked; their redirects are kept.
INSERT INTO golden_id_registry
SELECT golden_id, $seq0 + row_number() OVER (ORDER BY golden_id), $run, NULL
FROM (SELECT DISTINCT golden_id FROM new_xref WHERE id_origin = 'new')
WHERE golden_id NOT IN (SELECT golden_id FROM golden_id_registry);
UPDATE golden_id_registry SET retired_run = $run WHERE golden_id IN (SELECT retired_id FROM new_redirect);
INSERT INTO golden_id_redirect SELECT * FROM new_redirect;
