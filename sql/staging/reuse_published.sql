-- Apply runs (steward decisions applied without extracting again): the hand-over tables that extract,
-- validate, standardise and match would make are taken from the published state of this run's copy:
-- the same records, the same scored pairs and model, no new loads, warnings or metrics.
ALTER TABLE relationship RENAME TO raw_relationship;
ALTER TABLE financial_fact RENAME TO raw_financial_fact;
ALTER TABLE account RENAME TO raw_account;
ALTER TABLE balance RENAME TO raw_balance;
CREATE OR REPLACE TABLE std_organization AS SELECT * EXCLUDE (golden_id) FROM organization_record;
CREATE OR REPLACE TABLE run_changed AS SELECT rid FROM organization_record LIMIT 0;
ALTER TABLE match_pair RENAME TO new_match_pair;
ALTER TABLE match_model RENAME TO new_match_model;
ALTER TABLE match_token_frequency RENAME TO new_match_token_frequency;
CREATE OR REPLACE TABLE run_rescored AS SELECT rid_a, rid_b FROM new_match_pair LIMIT 0;
CREATE OR REPLACE TABLE run_issue AS SELECT * FROM load_issue LIMIT 0;
CREATE OR REPLACE TABLE run_quarantine AS SELECT * FROM quarantine LIMIT 0;
CREATE OR REPLACE TABLE run_quality AS SELECT * FROM quality_metrics LIMIT 0;
CREATE OR REPLACE TABLE run_identifier_quality AS SELECT * FROM identifier_quality LIMIT 0;
CREATE OR REPLACE TABLE run_source_load AS SELECT * FROM source_load LIMIT 0;
CREATE OR REPLACE TABLE run_validation AS SELECT * FROM validation_result LIMIT 0;
