-- name: v_financial_yoy
-- kind: view
-- stage: publish
-- description: Year-on-year change of each headline SEC measure per golden record: the latest period that has a comparable figure a year earlier (350-380 days before, same duration and unit) - an annual figure for flows (qtrs = 4) when there is one, else a quarter against the same quarter of the year before; for balance-sheet items the point-in-time figure a year earlier.
-- column golden_id: Persistent id of the golden record.
-- column measure: Headline measure: revenue, net_income, assets, liabilities, equity.
-- column period_end: End of the later period.
-- column qtrs: Duration in quarters of both figures (0 = point in time).
-- column unit: Unit of both figures.
-- column value: Figure of the later period.
-- column prior_period_end: End of the period a year earlier.
-- column prior_value: Figure of the period a year earlier.
-- column change: (value - prior_value) / abs(prior_value); NULL when the prior figure is 0.
CREATE OR REPLACE VIEW v_financial_yoy AS
WITH facts AS (
    SELECT f.golden_id, f.measure, f.value, f.unit, f.period_end, f.qtrs, c.kind
    FROM golden_financial_fact AS f
    JOIN financial_concept AS c USING (concept)
    WHERE f.measure IN ('revenue', 'net_income', 'assets', 'liabilities', 'equity')
      AND (c.kind = 'flow' OR f.qtrs = 0) AND f.period_end IS NOT NULL AND f.value IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY f.golden_id, f.measure, f.period_end, f.qtrs, f.unit
                               ORDER BY c.preference, (f.form LIKE '10-K%') DESC, f.filing DESC) = 1
),
pairs AS (
    SELECT c.golden_id, c.measure, c.kind, c.period_end, c.qtrs, c.unit, c.value,
           p.period_end AS prior_period_end, p.value AS prior_value
    FROM facts AS c
    JOIN facts AS p
      ON p.golden_id = c.golden_id AND p.measure = c.measure AND p.qtrs = c.qtrs AND p.unit = c.unit
     AND p.period_end BETWEEN c.period_end - INTERVAL 380 DAY AND c.period_end - INTERVAL 350 DAY
    QUALIFY row_number() OVER (PARTITION BY c.golden_id, c.measure
                               ORDER BY CASE c.kind WHEN 'balance' THEN c.qtrs = 0 ELSE c.qtrs = 4 END DESC,
                                        c.period_end DESC, c.qtrs DESC,
                                        abs(datediff('day', p.period_end, c.period_end - INTERVAL 1 YEAR))) = 1
)
SELECT golden_id, measure, period_end, qtrs, unit, value, prior_period_end, prior_value,
       CASE WHEN prior_value <> 0 THEN (value - prior_value) / abs(prior_value) END AS change
FROM pairs;
