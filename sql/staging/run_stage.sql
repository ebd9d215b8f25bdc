-- The run's completed stages, written by the runner in the same transaction as the stage's own work: a
-- stage is either done, with its result and observations, or left no trace (pipelines/runner.py).
CREATE TABLE IF NOT EXISTS run_stage (
    seq         INTEGER NOT NULL,
    stage       VARCHAR PRIMARY KEY,
    started_at  VARCHAR NOT NULL,
    finished_at VARCHAR NOT NULL,
    rows_in     BIGINT,
    rows_out    BIGINT,
    status      VARCHAR NOT NULL,
    detail      VARCHAR,
    observed    VARCHAR
);
