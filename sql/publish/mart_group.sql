-- name: _mart_group
-- kind: table
-- lifetime: temp
-- stage: publish
-- description: The group (v_organization_group's group_id, else the record itself) of every golden record,
--  computed once at publish for the affected scope (mart_scope.sql) and customer_360; dropped with the marts.
CREATE OR REPLACE TEMP TABLE _mart_group AS
SELECT g.golden_id, coalesce(o.group_id, g.golden_id) AS group_id
FROM golden_organization AS g
LEFT JOIN v_organization_group AS o USING (golden_id);
