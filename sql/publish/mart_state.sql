-- name: mart_state
-- kind: table
-- stage: publish
-- description: The global inputs the published marts were built from, one row each (pipelines.marts): a
--  digest of the mart SQL, of the reference tables (fx_rate, industry mapping, tier rules) and of the mart
--  parameters, the source formats, financial_concept, the latest balance month and customer_month's latest
--  month. An incremental publish
--  recomputes only the affected golden records' mart rows when every value equals this run's, else it
--  rebuilds every mart.
-- column input: Name of the input.
-- column value: Its digest or value as text.
-- column run_id: The run that built the marts with it.
CREATE TABLE IF NOT EXISTS mart_state (
    input  VARCHAR PRIMARY KEY,
    value  VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL
);
