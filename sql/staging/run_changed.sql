-- The records standardised in this run (new or changed since the last published run; all in a full run).
CREATE OR REPLACE TABLE run_changed AS SELECT rid FROM std_new_keys;
