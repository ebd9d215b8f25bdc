-- name: export_state
-- kind: table
-- stage: publish
-- description: What the Parquet exports (parquet/<table>.parquet) of the published run hold: a fingerprint of
--  each exported table's content. Publish compares it with the last run's: a table whose fingerprint did not
--  change is carried over from the last snapshot (a hard link) instead of being written again.
-- column table_name: The exported table or view.
-- column row_count: Its rows.
-- column fingerprint: Digest of its column names and types and of every row (order-insensitive sums of two row hashes).
-- column changed: True when this run wrote the export, false when it carried the last run's file over.
-- column run_id: The run that computed this state.
CREATE TABLE IF NOT EXISTS export_state (
    table_name  VARCHAR PRIMARY KEY,
    row_count   BIGINT NOT NULL,
    fingerprint VARCHAR NOT NULL,
    changed     BOOLEAN NOT NULL,
    run_id      VARCHAR NOT NULL
);
