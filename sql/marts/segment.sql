-- name: segment
-- kind: table
-- stage: publish
-- description: Customer segments: one row per ISIC Rev.4 section, size band and region with the number of golden records, customers (with accounts), groups and the totals of balances and revenue. Size bands follow the EU SME turnover limits (Recommendation 2003/361/EC) on revenue in the reporting currency: micro <= 2 million, small <= 10 million, medium <= 50 million, large above; unknown without an SEC revenue figure or rate.
-- column isic_section: ISIC Rev.4 / NACE Rev.2 section (unknown when the industry code is missing or unmapped).
-- column isic_section_name: Title of the section.
-- column size_band: micro, small, medium, large (annual-equivalent revenue in the reporting currency) or unknown.
-- column region: Region of the legal address: Greater China, Europe, North America, Asia-Pacific, Other, unknown.
-- column organisations: Golden records in the segment.
-- column customers: Golden records with at least one account.
-- column groups: Distinct groups (ultimate parents) of the golden records.
-- column total_balance: Sum of customer_360.total_balance (reporting currency).
-- column deposit_balance: Sum of customer_360.deposit_balance (reporting currency).
-- column loan_balance: Sum of customer_360.loan_balance (reporting currency).
-- column revenue: Sum of the latest revenue in the reporting currency (records with SEC figures).
-- column reporting_currency: Currency of the amounts.
CREATE OR REPLACE TABLE segment AS
WITH annual AS (
    -- a figure of q quarters scales to a year by 4 / q
    SELECT c.*, c.revenue_reporting * 4 / greatest(coalesce(f.revenue_qtrs, 4), 1) AS annual_revenue
    FROM customer_360 AS c
    LEFT JOIN _mart_financials_latest AS f USING (golden_id)
),
c AS (
    SELECT *,
           coalesce(isic_section, 'unknown') AS section,
           CASE WHEN annual_revenue IS NULL THEN 'unknown'
                WHEN annual_revenue <= 2e6 THEN 'micro'
                WHEN annual_revenue <= 1e7 THEN 'small'
                WHEN annual_revenue <= 5e7 THEN 'medium'
                ELSE 'large' END AS size_band,
           CASE WHEN country IS NULL THEN 'unknown'
                WHEN country IN ('CN', 'HK', 'MO', 'TW') THEN 'Greater China'
                WHEN country IN ('GB', 'IE', 'DE', 'FR', 'NL', 'BE', 'LU', 'ES', 'PT', 'IT', 'AT', 'CH', 'LI', 'DK',
                                 'SE', 'NO', 'FI', 'IS', 'PL', 'CZ', 'SK', 'HU', 'SI', 'HR', 'RO', 'BG', 'GR', 'CY',
                                 'MT', 'EE', 'LV', 'LT', 'JE', 'GG', 'IM', 'GI', 'MC') THEN 'Europe'
                WHEN country IN ('US', 'CA') THEN 'North America'
                WHEN country IN ('JP', 'KR', 'SG', 'AU', 'NZ', 'IN', 'MY', 'TH', 'ID', 'PH', 'VN') THEN 'Asia-Pacific'
                ELSE 'Other' END AS region_name
    FROM annual
)
SELECT section AS isic_section,
       coalesce(any_value(isic_section_name), 'unknown') AS isic_section_name,
       size_band,
       region_name AS region,
       count(*) AS organisations,
       count(*) FILTER (WHERE account_count > 0) AS customers,
       count(DISTINCT group_id) AS groups,
       sum(total_balance) AS total_balance,
       sum(deposit_balance) AS deposit_balance,
       sum(loan_balance) AS loan_balance,
       sum(revenue_reporting) AS revenue,
       $reporting_currency AS reporting_currency
FROM c
GROUP BY section, size_band, region_name
ORDER BY section, size_band, region_name;
