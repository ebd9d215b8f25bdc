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

CREATE OR REPLACE TABLE golden_financial_fact AS
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
       f.qtrs,
       CAST($run AS VARCHAR) AS run_id
FROM financial_fact AS f
JOIN (SELECT source, source_id, golden_id FROM xref WHERE source IN (SELECT DISTINCT source FROM financial_fact)) AS x
    ON x.source = f.source AND x.source_id = f.source_id
LEFT JOIN financial_concept AS c ON c.concept = f.concept
ORDER BY x.golden_id, f.concept, period_end, f.qtrs, f.filing;
