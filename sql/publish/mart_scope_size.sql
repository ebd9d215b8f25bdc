-- The size of the affected scope (mart_scope.sql) and the number of golden records.
SELECT (SELECT count(*) FROM _mart_scope), (SELECT count(*) FROM golden_organization);
