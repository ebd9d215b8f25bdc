-- The new versions (golden/history.sql) appended to golden_organization_history, whose columns they have
-- (names, types and order; else golden/history_rebuild.sql runs instead): no rewrite of the older versions.
INSERT INTO golden_organization_history SELECT * FROM _golden_new_version ORDER BY golden_id, valid_from;
DROP TABLE _golden_new_version;
DROP TABLE _golden_hash;
