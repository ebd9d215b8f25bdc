-- The global inputs of the marts read from the run's tables (pipelines.marts compares them with mart_state):
-- the source formats (customer_360's industry scheme and no_register flag), financial_concept (which tags
-- report which measure), the latest balance month (customer_360's balance month) (mart_month.sql gives the
-- latest month of customer_month once it is built).
SELECT 'formats' AS input,
       coalesce((SELECT string_agg(DISTINCT source || '=' || coalesce(source_format, ''), ','
                                   ORDER BY source || '=' || coalesce(source_format, ''))
                 FROM organization_record), '') AS value
UNION ALL
SELECT 'financial_concept',
       coalesce((SELECT md5(string_agg(c::VARCHAR, ',' ORDER BY c::VARCHAR)) FROM financial_concept AS c), '')
UNION ALL
SELECT 'balance_month', coalesce((SELECT max(month) FROM balance), '');
