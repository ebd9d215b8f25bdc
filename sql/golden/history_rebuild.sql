-- Append the new versions by column name. The table is rebuilt (UNION ALL BY NAME) so that columns that
-- golden_organization gained since the last publish join the history (NULL in older versions) and a
-- column that used to be all NULL widens to its real type; golden_organization's column order comes first.
CREATE OR REPLACE TABLE golden_organization_history AS
SELECT * FROM (SELECT * FROM _golden_new_version LIMIT 0)
UNION ALL BY NAME
SELECT * FROM golden_organization_history
UNION ALL BY NAME
SELECT * FROM _golden_new_version
ORDER BY golden_id, valid_from;
DROP TABLE _golden_new_version;
DROP TABLE _golden_hash;
