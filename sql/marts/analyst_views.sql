-- name: analyst
-- kind: view
-- stage: publish
-- description: Schema `analyst`: the views analysts read. Every sensitive value (mdm/classification.py: phone,
--   relationship_manager, sensitive attributes in lineage, quarantined values of sensitive columns) shows as a
--   token 'tok:' + 16 hex digits of the SHA-256 of its ciphertext: the same clear value gives the same token
--   in every view (tokens join), and nothing of the value shows. `extra` keeps its tokens (enc:v1:...).
--   Run at publish after sql/marts/views.sql. No analyst view is named like a table of `main` (queries of
--   information_schema by table name alone would see both).
-- column analyst.mask: macro mask(v): the analyst token of a stored sensitive value (NULL stays NULL).
-- column analyst.v_golden_organization: v_golden_organization with phone and relationship_manager masked.
-- column analyst.v_golden_organization_history: golden_organization_history with phone and relationship_manager masked.
-- column analyst.v_organization_record: organization_record with phone and relationship_manager masked.
-- column analyst.v_golden_attribute_lineage: golden_attribute_lineage with the values of sensitive attributes masked.
-- column analyst.v_quarantine: quarantine with the values of sensitive columns masked.
-- column analyst.v_xref, analyst.v_hierarchy, analyst.v_organization_group, analyst.v_golden_financials_latest,
--   analyst.v_financial_latest: the views of the same name (no sensitive column).

CREATE SCHEMA IF NOT EXISTS analyst;

CREATE OR REPLACE MACRO analyst.mask(v) AS
    CASE WHEN v IS NULL THEN NULL ELSE 'tok:' || left(sha256(v), 16) END;

CREATE OR REPLACE VIEW analyst.v_golden_organization AS
SELECT * REPLACE (analyst.mask(phone) AS phone, analyst.mask(relationship_manager) AS relationship_manager)
FROM main.v_golden_organization;

CREATE OR REPLACE VIEW analyst.v_golden_organization_history AS
SELECT * REPLACE (analyst.mask(phone) AS phone, analyst.mask(relationship_manager) AS relationship_manager)
FROM main.golden_organization_history;

CREATE OR REPLACE VIEW analyst.v_organization_record AS
SELECT * REPLACE (analyst.mask(phone) AS phone, analyst.mask(relationship_manager) AS relationship_manager)
FROM main.organization_record;

CREATE OR REPLACE VIEW analyst.v_golden_attribute_lineage AS
SELECT * REPLACE (CASE WHEN attribute IN ('phone', 'relationship_manager') THEN analyst.mask(value) ELSE value END
                  AS value)
FROM main.golden_attribute_lineage;

CREATE OR REPLACE VIEW analyst.v_quarantine AS
SELECT * REPLACE (CASE WHEN "column" IN ('phone', 'relationship_manager', 'extra') THEN analyst.mask(value)
                       ELSE value END AS value)
FROM main.quarantine;

CREATE OR REPLACE VIEW analyst.v_xref AS SELECT * FROM main.v_xref;
CREATE OR REPLACE VIEW analyst.v_hierarchy AS SELECT * FROM main.v_hierarchy;
CREATE OR REPLACE VIEW analyst.v_organization_group AS SELECT * FROM main.v_organization_group;
CREATE OR REPLACE VIEW analyst.v_golden_financials_latest AS SELECT * FROM main.v_golden_financials_latest;
CREATE OR REPLACE VIEW analyst.v_financial_latest AS SELECT * FROM main.v_financial_latest;
