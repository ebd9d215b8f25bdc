-- The load warnings of this run (adapter warnings, staging rejects); appended to load_issue at publish.
CREATE OR REPLACE TABLE run_issue AS SELECT * FROM load_issue LIMIT 0;
