-- name: review_state
-- kind: table
-- stage: publish
-- description: The global inputs the published review queue was built from, one row each
--  (pipelines.review.queue): a digest of the queue's SQL, of its parameters and of the live steward decisions.
--  An incremental run recomputes only the items of the golden records it changed when every value equals
--  this run's, else it rebuilds the whole queue.
-- column input: Name of the input.
-- column value: Its digest.
-- column run_id: The run that built the queue with it.
CREATE TABLE IF NOT EXISTS review_state (
    input  VARCHAR PRIMARY KEY,
    value  VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL
);
