-- Close the current versions that changed or whose golden id is gone (retired, merged away, source dropped).
-- Runs after golden/history.sql. Parameter: $now.
UPDATE golden_organization_history AS cur
SET valid_to = CAST($now AS TIMESTAMP)
WHERE cur.valid_to IS NULL
  AND (cur.golden_id NOT IN (SELECT golden_id FROM golden_organization)
       OR EXISTS (SELECT 1 FROM _golden_hash AS h WHERE h.golden_id = cur.golden_id AND h.row_hash <> cur.row_hash));
