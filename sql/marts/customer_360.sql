-- name: customer_360
-- kind: table
-- stage: publish
-- description: One row per golden organisation: identity, industry (ISIC Rev.4 section), group (ultimate parent) and its size, latest SEC financials and their year-on-year change, the internal relationship (accounts, products, balances in the reporting currency at the latest balance month, branch, relationship manager, tenure) and data-quality flags. Top 10 groups by balance: SELECT group_id, any_value(group_name), sum(total_balance) AS balance FROM customer_360 GROUP BY group_id ORDER BY balance DESC LIMIT 10.
-- column golden_id: Persistent id of the golden record.
-- column legal_name: Surviving legal name (original script).
-- column name_en: Surviving English or transliterated name.
-- column country: ISO 3166-1 alpha-2 country of the legal address.
-- column region: Subdivision of the legal address.
-- column city: City of the legal address.
-- column lei: Valid LEI of the entity.
-- column uscc: Valid Chinese Unified Social Credit Code.
-- column gb_company_number: Valid Companies House number.
-- column cik: SEC Central Index Key.
-- column entity_status: Entity status (ACTIVE / INACTIVE ...).
-- column sources: Names of the sources in the cluster (a list).
-- column record_count: Number of source records in the cluster.
-- column industry_code: Surviving industry code.
-- column industry_scheme: Classification of industry_code (us_sic, uk_sic_2007, cn_gbt_4754), from the format of the source it came from.
-- column isic_section: ISIC Rev.4 / NACE Rev.2 section of industry_code (industry_isic); NULL when unmapped.
-- column isic_section_name: Title of isic_section.
-- column group_id: Golden id of the group's top (ultimate parent), or the record itself (v_organization_group).
-- column group_name: Legal name of the group's top.
-- column is_group_top: True when the record is the top of its group.
-- column group_size: Golden records in the group.
-- column group_total_balance: total_balance summed over every golden record of the group (reporting currency).
-- column revenue: Latest revenue (v_golden_financials_latest).
-- column revenue_yoy: Year-on-year change of revenue (v_financial_yoy; a share, -0.25 = -25 %).
-- column net_income: Latest net income.
-- column net_income_yoy: Year-on-year change of net income.
-- column assets: Latest total assets.
-- column assets_yoy: Year-on-year change of total assets.
-- column equity: Latest equity.
-- column figures_currency: Unit of the figures, or MIXED.
-- column figures_period_end: Latest period end among the figures.
-- column revenue_reporting: revenue converted into the reporting currency (NULL without a rate).
-- column account_count: Accounts of the customer (every internal source, open or closed).
-- column open_account_count: Accounts without a closing date.
-- column products: Distinct products of the open accounts (a list).
-- column product_count: Number of products.
-- column balance_month: Latest month with balances in the warehouse (the reporting month of every balance column).
-- column deposit_balance: Positive balances at balance_month (reporting currency).
-- column loan_balance: Negative balances at balance_month as a positive amount (reporting currency).
-- column total_balance: deposit_balance + loan_balance at balance_month (reporting currency; 0 for a customer without balances).
-- column reporting_currency: Currency of every converted amount.
-- column branch: Bank branch holding the customer.
-- column relationship_manager: Relationship manager of the customer.
-- column customer_status: Internal customer status.
-- column customer_since: Date the relationship opened: the golden customer_since, else the first account's opening date.
-- column tenure_years: Years from customer_since to the end of balance_month.
-- column dq_flags: Data-quality flags (a list): no_lei, no_register (no register source in the cluster), invalid_identifier (a record holds an invalid identifier), pending_review (a pair of its records is in the review band), unconverted_currency (an account currency without a rate), inactive_with_accounts (entity not ACTIVE but open accounts).
CREATE TEMP TABLE IF NOT EXISTS _mart_scope (golden_id VARCHAR);
-- The mart's rows, of every golden record (scoped = false) or of those in _mart_scope only (pipelines.marts).
CREATE OR REPLACE TEMP MACRO _mart_customer_360(scoped, p_reporting_currency) AS TABLE
WITH ref AS (
    SELECT max(month) AS month,
           last_day(CAST(max(month) || '-01' AS DATE)) AS month_end
    FROM balance
),
formats AS (
    SELECT DISTINCT source, source_format FROM organization_record
),
industry AS (
    SELECT g.golden_id, g.industry_code,
           CASE WHEN f.source_format = 'sec_fsds' THEN 'us_sic'
                WHEN f.source_format = 'companies_house_csv' THEN 'uk_sic_2007'
                WHEN f.source_format = 'cn_registry_csv' THEN 'cn_gbt_4754'
                WHEN regexp_matches(g.industry_code, '^\s*[0-9]{5}') THEN 'uk_sic_2007'
                WHEN regexp_matches(g.industry_code, '^\s*[A-Ta-t][0-9]{2,4}') THEN 'cn_gbt_4754'
                WHEN regexp_matches(g.industry_code, '^\s*[0-9]{4}\s*$') AND g.country = 'CN' THEN 'cn_gbt_4754'
                WHEN regexp_matches(g.industry_code, '^\s*[0-9]{4}\s*$') THEN 'us_sic' END AS scheme,
           regexp_extract(g.industry_code, '^\s*[A-Ta-t]?([0-9]{2,5})', 1) AS digits
    FROM golden_organization AS g
    LEFT JOIN golden_attribute_lineage AS l ON l.golden_id = g.golden_id AND l.attribute = 'industry_code'
    LEFT JOIN formats AS f ON f.source = l.source
    WHERE g.industry_code IS NOT NULL AND (NOT scoped OR g.golden_id IN (SELECT golden_id FROM _mart_scope))
    QUALIFY row_number() OVER (PARTITION BY g.golden_id ORDER BY l.source) = 1
),
-- Every leading part of the digits (left(digits, 0 .. length)) joined on equality with the mapping's prefixes:
-- the same matches as starts_with(digits, code_prefix), without comparing each code with every prefix.
prefix AS (
    SELECT golden_id, scheme, left(digits, unnest(range(0, coalesce(length(digits), 0) + 1))) AS prefix
    FROM industry
),
mapped AS (
    SELECT p.golden_id, m.code_prefix, m.isic_section, m.section_name
    FROM prefix AS p
    JOIN industry_isic AS m ON m.scheme = p.scheme AND m.code_prefix = p.prefix
),
section AS (
    SELECT i.golden_id, i.scheme, m.isic_section, m.section_name
    FROM industry AS i
    LEFT JOIN mapped AS m USING (golden_id)
    QUALIFY row_number() OVER (PARTITION BY i.golden_id ORDER BY length(m.code_prefix) DESC NULLS LAST) = 1
),
acc AS (
    SELECT x.golden_id, a.account_id, a.product, TRY_CAST(a.opened_on AS DATE) AS opened_on,
           TRY_CAST(a.closed_on AS DATE) AS closed_on, upper(a.currency) AS currency
    FROM account AS a
    JOIN xref AS x ON x.source = a.source AND x.source_id = a.source_id
    WHERE (NOT scoped OR x.golden_id IN (SELECT golden_id FROM _mart_scope))
),
accounts AS (
    SELECT acc.golden_id,
           count(*) AS account_count,
           count(*) FILTER (WHERE acc.closed_on IS NULL) AS open_account_count,
           coalesce(list(DISTINCT acc.product ORDER BY acc.product) FILTER (WHERE acc.closed_on IS NULL
                                                                           AND acc.product IS NOT NULL),
                    []) AS products,
           min(acc.opened_on) AS first_opened,
           bool_or(fx.rate IS NULL) AS unconverted
    FROM acc
    LEFT JOIN fx_rate AS fx ON fx.currency = acc.currency
    GROUP BY acc.golden_id
),
latest AS (
    SELECT m.* FROM customer_month AS m, ref
    WHERE m.month = ref.month AND (NOT scoped OR m.golden_id IN (SELECT golden_id FROM _mart_scope))
),
-- The group of every golden record (v_organization_group), computed once at publish (sql/publish/mart_group.sql).
grp AS (
    SELECT golden_id, group_id FROM _mart_group WHERE (NOT scoped OR golden_id IN (SELECT golden_id FROM _mart_scope))
),
review AS (
    SELECT DISTINCT r.golden_id
    FROM (SELECT rid_a AS rid FROM match_pair WHERE band = 'review'
          UNION SELECT rid_b FROM match_pair WHERE band = 'review') AS p
    JOIN organization_record AS r USING (rid)
    WHERE (NOT scoped OR r.golden_id IN (SELECT golden_id FROM _mart_scope))
),
invalid AS (
    SELECT DISTINCT golden_id FROM organization_record
    WHERE len(invalid_ids) > 0 AND (NOT scoped OR golden_id IN (SELECT golden_id FROM _mart_scope))
),
yoy AS (
    SELECT golden_id,
           any_value(change) FILTER (WHERE measure = 'revenue') AS revenue_yoy,
           any_value(change) FILTER (WHERE measure = 'net_income') AS net_income_yoy,
           any_value(change) FILTER (WHERE measure = 'assets') AS assets_yoy
    FROM _mart_financial_yoy
    GROUP BY golden_id
),
base AS (
    SELECT g.golden_id, g.legal_name, g.name_en, g.country, g.region, g.city, g.lei, g.uscc, g.gb_company_number,
           g.cik, g.entity_status,
           CASE WHEN g.sources IS NULL OR g.sources = '' THEN []
                ELSE list_sort(string_split(g.sources, ',')) END AS sources,
           g.record_count, g.industry_code, s.scheme AS industry_scheme, s.isic_section,
           s.section_name AS isic_section_name, grp.group_id,
           f.revenue, y.revenue_yoy, f.net_income, y.net_income_yoy, f.assets, y.assets_yoy, f.equity,
           f.currency AS figures_currency, f.figures_period_end,
           f.revenue * fxr.rate AS revenue_reporting,
           coalesce(a.account_count, 0) AS account_count,
           coalesce(a.open_account_count, 0) AS open_account_count,
           coalesce(a.products, []) AS products,
           len(coalesce(a.products, [])) AS product_count,
           ref.month AS balance_month,
           coalesce(l.deposit_balance, 0) AS deposit_balance,
           coalesce(l.loan_balance, 0) AS loan_balance,
           coalesce(l.total_balance, 0) AS total_balance,
           p_reporting_currency AS reporting_currency,
           g.branch, g.relationship_manager, g.customer_status,
           coalesce(TRY_CAST(g.customer_since AS DATE), a.first_opened) AS customer_since,
           ref.month_end,
           a.unconverted,
           (rv.golden_id IS NOT NULL) AS in_review,
           (iv.golden_id IS NOT NULL) AS has_invalid
    FROM golden_organization AS g
    CROSS JOIN ref
    LEFT JOIN section AS s USING (golden_id)
    LEFT JOIN grp USING (golden_id)
    LEFT JOIN _mart_financials_latest AS f USING (golden_id)
    LEFT JOIN yoy AS y USING (golden_id)
    LEFT JOIN fx_rate AS fxr ON fxr.currency = f.currency
    LEFT JOIN accounts AS a USING (golden_id)
    LEFT JOIN latest AS l USING (golden_id)
    LEFT JOIN review AS rv USING (golden_id)
    LEFT JOIN invalid AS iv USING (golden_id)
    WHERE (NOT scoped OR g.golden_id IN (SELECT golden_id FROM _mart_scope))
),
-- The groups' size, balance and top's name by a grouping joined back, not a window over the wide rows.
group_sum AS (
    SELECT s.group_id, s.group_size, s.group_total_balance, top.legal_name AS group_name
    FROM (SELECT group_id, count(*) AS group_size, sum(total_balance) AS group_total_balance
          FROM base
          GROUP BY group_id) AS s
    LEFT JOIN golden_organization AS top ON top.golden_id = s.group_id
)
SELECT b.golden_id, b.legal_name, b.name_en, b.country, b.region, b.city, b.lei, b.uscc, b.gb_company_number,
       b.cik, b.entity_status, b.sources, b.record_count, b.industry_code, b.industry_scheme, b.isic_section,
       b.isic_section_name, b.group_id,
       gs.group_name,
       b.group_id = b.golden_id AS is_group_top,
       gs.group_size,
       gs.group_total_balance,
       b.revenue, b.revenue_yoy, b.net_income, b.net_income_yoy, b.assets, b.assets_yoy, b.equity,
       b.figures_currency, b.figures_period_end, b.revenue_reporting,
       b.account_count, b.open_account_count, b.products, b.product_count, b.balance_month,
       b.deposit_balance, b.loan_balance, b.total_balance, b.reporting_currency,
       b.branch, b.relationship_manager, b.customer_status, b.customer_since,
       CASE WHEN b.customer_since IS NOT NULL AND b.month_end IS NOT NULL
            THEN round(datediff('day', b.customer_since, b.month_end) / 365.25, 2) END AS tenure_years,
       list_filter([
           CASE WHEN b.lei IS NULL THEN 'no_lei' END,
           CASE WHEN NOT list_has_any(b.sources, (SELECT list(source) FROM formats
                                                  WHERE source_format IN ('gleif_lei_xml', 'companies_house_csv',
                                                                          'cn_registry_csv')))
                THEN 'no_register' END,
           CASE WHEN b.has_invalid THEN 'invalid_identifier' END,
           CASE WHEN b.in_review THEN 'pending_review' END,
           CASE WHEN b.unconverted THEN 'unconverted_currency' END,
           CASE WHEN upper(b.entity_status) IN ('INACTIVE', 'DISSOLVED') AND b.open_account_count > 0
                THEN 'inactive_with_accounts' END
       ], lambda x: x IS NOT NULL) AS dq_flags
FROM base AS b
JOIN group_sum AS gs ON gs.group_id IS NOT DISTINCT FROM b.group_id
ORDER BY b.golden_id;
-- A full build (pipelines.marts dropped the table, _mart_scope is empty): the whole mart. An incremental
-- one (the last run's mart is there): the rows of the golden ids in _mart_scope recomputed.
CREATE TABLE IF NOT EXISTS customer_360 AS FROM _mart_customer_360(false, $reporting_currency);
DELETE FROM customer_360 WHERE golden_id IN (SELECT golden_id FROM _mart_scope);
INSERT INTO customer_360 BY NAME FROM _mart_customer_360(true, $reporting_currency);
