-- Financial facts on the golden records: every fact of the run's financial_fact (SEC FSDS num.txt) whose
-- filer (source, source_id = CIK) is in the cross-reference, with the golden id of that filer and the
-- headline measure its tag reports. Runs at publish after golden/publish. Parameter: $run = the run id.
-- (Only the cross-reference rows of the sources that deliver facts are joined: the join's hash table holds
-- the filers, not every record.)

-- Which tags report which headline measure. kind: 'flow' (a duration: prefer the annual figure, qtrs = 4)
-- or 'balance' (a point in time, qtrs = 0). preference: among the tags of one measure, the smaller wins
-- (a filer that reports both Revenues and SalesRevenueNet shows Revenues).
CREATE OR REPLACE TABLE financial_concept AS
SELECT * FROM (VALUES
    ('Revenues',                                                               'revenue',                'flow',    1),
    ('RevenueFromContractWithCustomerExcludingAssessedTax',                    'revenue',                'flow',    2),
    ('RevenueFromContractWithCustomerIncludingAssessedTax',                    'revenue',                'flow',    3),
    ('SalesRevenueNet',                                                        'revenue',                'flow',    4),
    ('SalesRevenueGoodsNet',                                                   'revenue',                'flow',    5),
    ('SalesRevenueServicesNet',                                                'revenue',                'flow',    6),
    ('NetIncomeLoss',                                                          'net_income',             'flow',    1),
    ('ProfitLoss',                                                             'net_income',             'flow',    2),
    ('NetIncomeLossAvailableToCommonStockholdersBasic',                        'net_income',             'flow',    3),
    ('Assets',                                                                 'assets',                 'balance', 1),
    ('Liabilities',                                                            'liabilities',            'balance', 1),
    ('StockholdersEquity',                                                     'equity',                 'balance', 1),
    ('StockholdersEquityIncludingPortionAttributableToNoncontrollingInterest', 'equity',                 'balance', 2),
    ('LiabilitiesAndStockholdersEquity',                                       'liabilities_and_equity', 'balance', 1)
) AS t(concept, measure, kind, preference);

-- run_id: the run that wrote the row. A row equal in every other column to a row of the last published table
-- keeps that row's run id (compared by a hash of all its columns), so a run that changes no fact stamps no row
-- and its export is carried over (pipelines.exports). The first run carries from an empty table.
CREATE TABLE IF NOT EXISTS golden_financial_fact (golden_id VARCHAR, run_id VARCHAR);
CREATE OR REPLACE TABLE golden_financial_fact AS
WITH fresh AS (
SELECT x.golden_id,
       try_cast(f.period_end AS DATE) AS period_end,
       f.concept,
       c.measure,
       f.value,
       f.unit,
       f.source,
       f.source_id,
       f.filing,
       f.form,
       f.qtrs
FROM financial_fact AS f
JOIN (SELECT source, source_id, golden_id FROM xref WHERE source IN (SELECT DISTINCT source FROM financial_fact)) AS x
    ON x.source = f.source AND x.source_id = f.source_id
LEFT JOIN financial_concept AS c ON c.concept = f.concept
),
hashed AS (SELECT *, hash(*COLUMNS(*)) AS _row FROM fresh),
published AS (
    SELECT hash(*COLUMNS(* EXCLUDE (run_id))) AS _row, min(run_id) AS run_id FROM golden_financial_fact GROUP BY _row
)
SELECT h.* EXCLUDE (_row), coalesce(p.run_id, CAST($run AS VARCHAR)) AS run_id
FROM hashed AS h
LEFT JOIN published AS p USING (_row)
ORDER BY h.golden_id, h.concept, h.period_end, h.qtrs, h.filing;
