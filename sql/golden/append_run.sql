-- The run's warnings, quarantine, quality metrics, loads and validation results join the published history.
INSERT INTO load_issue SELECT * FROM run_issue;
INSERT INTO quarantine SELECT * FROM run_quarantine;
INSERT INTO quality_metrics SELECT * FROM run_quality;
INSERT INTO identifier_quality SELECT * FROM run_identifier_quality;
INSERT INTO source_load SELECT * FROM run_source_load;
INSERT INTO validation_result SELECT * FROM run_validation;
