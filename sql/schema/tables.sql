-- Published warehouse tables that live across runs. Per-run tables are replaced at publish.
CREATE TABLE IF NOT EXISTS run_log (
    run_id      VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,
    started_at  TIMESTAMP,
    finished_at TIMESTAMP,
    rows_in     BIGINT,
    rows_out    BIGINT,
    status      VARCHAR NOT NULL,
    detail      VARCHAR
);
CREATE TABLE IF NOT EXISTS golden_id_registry (
    golden_id    VARCHAR PRIMARY KEY,
    minted_seq   BIGINT NOT NULL,      -- order of creation: smaller is older
    created_run  VARCHAR NOT NULL,
    retired_run  VARCHAR
);
CREATE TABLE IF NOT EXISTS golden_id_redirect (
    retired_id   VARCHAR NOT NULL,
    surviving_id VARCHAR,
    run_id       VARCHAR NOT NULL,
    reason       VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS load_issue (
    run_id   VARCHAR NOT NULL,
    source   VARCHAR NOT NULL,
    file     VARCHAR,
    line     BIGINT,
    key      VARCHAR,
    code     VARCHAR NOT NULL,
    message  VARCHAR NOT NULL
);
