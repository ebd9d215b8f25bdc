-- Slowly changing history (SCD type 2) of the golden records: golden_organization_history keeps one row
-- per version of each golden record, valid from valid_from (inclusive) to valid_to (exclusive, NULL while
-- current). Runs at publish, after golden/publish swapped in this run's golden_organization.
-- Parameters: $now = the publish start (UTC timestamp), $run = the run id, $keys = the columns of
-- golden_organization but golden_id and run_id, sorted by name (golden/history_keys.sql).
--
-- The version hash covers every column of golden_organization except golden_id and run_id without naming
-- them: the row as JSON, NULL-valued attributes dropped and keys sorted, so adding a column (empty until a
-- source fills it) or reordering columns does not open a new version of every record. The hash is the md5
-- of the JSON list [[key, value as text], ...] of the non-NULL attributes in key order, where the value as
-- text is what `doc ->> key` gives; the values are extracted with one parse of each row's JSON (a list of
-- paths, which must be a constant: hence $keys) instead of one parse per key.

-- Only the golden records computed by this run ($run) can differ from their current version: an
-- incremental run carries the others over unchanged, with the run id that computed them.
CREATE OR REPLACE TEMP TABLE _golden_hash AS
WITH j AS (
    SELECT g.golden_id, json_extract_string(to_json(g), $keys) AS vals
    FROM (SELECT * EXCLUDE (run_id) FROM golden_organization WHERE run_id = $run) AS g
)
SELECT golden_id,
       md5(to_json(list_filter(
           list_transform($keys, lambda k, i: [k, vals[i]]),
           lambda kv: kv[2] IS NOT NULL))::VARCHAR) AS row_hash
FROM j;

-- The new versions: golden records without a current history row carrying the same hash.
CREATE OR REPLACE TEMP TABLE _golden_new_version AS
SELECT g.* EXCLUDE (run_id), h.row_hash, CAST($now AS TIMESTAMP) AS valid_from, CAST(NULL AS TIMESTAMP) AS valid_to,
       CAST($run AS VARCHAR) AS run_id
FROM golden_organization AS g
JOIN _golden_hash AS h USING (golden_id);

-- First publish: the history table takes golden_organization's columns (then the version columns).
CREATE TABLE IF NOT EXISTS golden_organization_history AS
SELECT * FROM _golden_new_version LIMIT 0;

-- (A golden record has one row here: the ids whose current version has the same hash, found by joining
-- the few new versions with the history, are dropped.)
DELETE FROM _golden_new_version
WHERE golden_id IN (
    SELECT cur.golden_id
    FROM golden_organization_history AS cur
    JOIN _golden_new_version AS n ON cur.golden_id = n.golden_id AND cur.row_hash = n.row_hash
    WHERE cur.valid_to IS NULL
);

-- Then golden/history_close.sql (or history_close_reclustered.sql) closes the current versions that changed
-- or whose golden id is gone, and golden/history_append.sql appends the new versions when their columns
-- are the history's (names, types and order), else golden/history_rebuild.sql rebuilds the table with them.
