-- Incremental runs: only the links between two records of cluster_scope are followed (the scope is closed
-- under links, cluster_scope_grow.sql, so this only drops links outside it).
DELETE FROM cluster_link
WHERE rid_a NOT IN (SELECT rid FROM cluster_scope) OR rid_b NOT IN (SELECT rid FROM cluster_scope);
