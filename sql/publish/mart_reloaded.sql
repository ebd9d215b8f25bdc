-- The mart inputs of this run loaded again (run_reloaded: (table_name, source) pairs whose raw rows were
-- loaded again; a pair absent from it is identical to the last published run's): accounts, balances and
-- SEC financial facts, under their raw or published names.
SELECT count(*) FROM run_reloaded
WHERE table_name IN ('account', 'balance', 'financial_fact', 'raw_account', 'raw_balance', 'raw_financial_fact');
