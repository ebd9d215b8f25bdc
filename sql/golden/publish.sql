-- Swap the run's freshly built tables (new_*) in place of the published ones, inside one transaction.
DROP TABLE IF EXISTS organization_record;
ALTER TABLE new_organization_record RENAME TO organization_record;
DROP TABLE IF EXISTS xref;
ALTER TABLE new_xref RENAME TO xref;
DROP TABLE IF EXISTS golden_organization;
ALTER TABLE new_golden_organization RENAME TO golden_organization;
DROP TABLE IF EXISTS golden_attribute_lineage;
ALTER TABLE new_golden_attribute_lineage RENAME TO golden_attribute_lineage;
DROP TABLE IF EXISTS match_pair;
ALTER TABLE new_match_pair RENAME TO match_pair;
DROP TABLE IF EXISTS relationship;
ALTER TABLE raw_relationship RENAME TO relationship;
DROP TABLE IF EXISTS financial_fact;
ALTER TABLE raw_financial_fact RENAME TO financial_fact;
DROP TABLE IF EXISTS account;
ALTER TABLE raw_account RENAME TO account;
DROP TABLE IF EXISTS balance;
ALTER TABLE raw_balance RENAME TO balance;
