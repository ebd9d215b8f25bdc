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
CREATE TABLE IF NOT EXISTS quarantine (
    run_id     VARCHAR NOT NULL,
    source     VARCHAR NOT NULL,
    source_id  VARCHAR,
    file       VARCHAR,
    line       BIGINT,
    rule       VARCHAR NOT NULL,
    "column"   VARCHAR,
    value      VARCHAR
);
CREATE TABLE IF NOT EXISTS quality_metrics (
    run_id       VARCHAR NOT NULL,
    source       VARCHAR NOT NULL,
    attribute    VARCHAR NOT NULL,
    completeness DOUBLE,
    validity     DOUBLE,
    uniqueness   DOUBLE,
    rows         BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS identifier_quality (
    run_id    VARCHAR NOT NULL,
    source    VARCHAR NOT NULL,
    attribute VARCHAR NOT NULL,
    class     VARCHAR NOT NULL,
    rows      BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS source_load (
    run_id    VARCHAR NOT NULL,
    source    VARCHAR NOT NULL,
    format    VARCHAR NOT NULL,
    "table"   VARCHAR NOT NULL,
    rows      BIGINT NOT NULL,
    populated VARCHAR[] NOT NULL       -- canonical columns with at least one value
);
CREATE TABLE IF NOT EXISTS validation_result (
    run_id      VARCHAR NOT NULL,
    suite       VARCHAR NOT NULL,
    batch       VARCHAR NOT NULL,
    success     BOOLEAN NOT NULL,
    evaluated   BIGINT,
    failed_rows BIGINT,
    detail      VARCHAR
);
CREATE TABLE IF NOT EXISTS run_state (
    key    VARCHAR PRIMARY KEY,   -- e.g. match_fingerprint: what an incremental run must share with the last full one
    value  VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL
);
-- Added after the first release: the digest of a file source's load (incremental runs skip unchanged files).
ALTER TABLE source_load ADD COLUMN IF NOT EXISTS fingerprint VARCHAR;
ALTER TABLE source_load ADD COLUMN IF NOT EXISTS watermarks VARCHAR;
