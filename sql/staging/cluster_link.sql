-- name: cluster_link
-- kind: table
-- stage: cluster
-- lifetime: temp
-- description: The links clustering follows: identifier pairs and 'match' pairs of new_match_pair, and the
--  steward's must-links (decision_links, registered by the cluster stage) between two current records. The
--  records of no link are singletons; the others are clustered by connected component of these links
--  (mdm.clustering.components). Incremental runs keep the links inside cluster_scope (cluster_link_scope.sql).
-- column rid_a: One record of the link.
-- column rid_b: The other record of the link.
CREATE OR REPLACE TEMP TABLE cluster_link AS
SELECT rid_a, rid_b FROM new_match_pair WHERE rule <> 'score' OR band = 'match'
UNION ALL
SELECT d.rid_a, d.rid_b
FROM decision_links AS d
WHERE d.rid_a IN (SELECT rid FROM std_organization) AND d.rid_b IN (SELECT rid FROM std_organization);
