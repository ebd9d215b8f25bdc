-- Whether golden/financials.sql would build golden_financial_fact and financial_concept exactly as the
-- published ones, so that the publish keeps them (pipelines.stages.publish): one row, true when
--   * the financial facts were not loaded again: run_reloaded names no financial_fact source (a pair not
--     listed has exactly the rows of the last published run's table);
--   * the SQL is the one the published tables were built by: mart_state's digest of the mart SQL, which
--     covers golden/financials.sql, equals this run's ($sql, pipelines.mart_scope.sql_digest);
--   * every filer of a fact has at most one cross-reference row, and the (filer, golden id) pairs it gives are
--     those golden_financial_fact holds (a filer not there has none);
--   * golden_financial_fact holds as many rows as the facts of the filers so linked: each fact once.
-- Then every row golden/financials.sql would build (a fact, its filer's golden id, its tag's measure) is in
-- the table once, with the run id the build would keep. Run at publish, before golden/financials.
WITH filers AS (
    SELECT DISTINCT source, source_id FROM financial_fact
),
now_linked AS (
    SELECT f.source, f.source_id, x.golden_id
    FROM filers AS f
    JOIN xref AS x ON x.source = f.source AND x.source_id = f.source_id
),
was_linked AS (
    SELECT DISTINCT source, source_id, golden_id FROM golden_financial_fact
)
SELECT
    NOT EXISTS (SELECT 1 FROM run_reloaded WHERE table_name = 'financial_fact')
    AND coalesce((SELECT value = $sql FROM mart_state WHERE input = 'sql'), false)
    AND NOT EXISTS (SELECT 1 FROM now_linked GROUP BY source, source_id HAVING count(*) > 1)
    AND NOT EXISTS (
        (SELECT source, source_id, golden_id FROM now_linked EXCEPT SELECT source, source_id, golden_id FROM was_linked)
        UNION ALL
        (SELECT source, source_id, golden_id FROM was_linked EXCEPT SELECT source, source_id, golden_id FROM now_linked)
    )
    AND (SELECT count(*) FROM golden_financial_fact) = (
        SELECT count(*) FROM financial_fact AS f SEMI JOIN now_linked AS l ON l.source = f.source AND l.source_id = f.source_id
    ) AS unchanged;
