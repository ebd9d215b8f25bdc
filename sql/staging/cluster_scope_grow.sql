-- One step of closing the cluster scope: add every record linked to a record of the scope by a pair
-- that clustering follows (an identifier rule, a scored match, a steward must-link in
-- decision_links) or that shared its golden record in the last published run. Run until it adds
-- nothing: the scope is then a union of whole clusters, old and new.
INSERT INTO cluster_scope
SELECT DISTINCT n.rid FROM (
    SELECT p.rid_b AS rid FROM new_match_pair AS p JOIN cluster_scope AS s ON p.rid_a = s.rid
    WHERE p.rule <> 'score' OR p.band = 'match'
    UNION ALL
    SELECT p.rid_a FROM new_match_pair AS p JOIN cluster_scope AS s ON p.rid_b = s.rid
    WHERE p.rule <> 'score' OR p.band = 'match'
    UNION ALL
    SELECT d.rid_b FROM decision_links AS d JOIN cluster_scope AS s ON d.rid_a = s.rid
    UNION ALL
    SELECT d.rid_a FROM decision_links AS d JOIN cluster_scope AS s ON d.rid_b = s.rid
    UNION ALL
    SELECT m.rid FROM xref AS x JOIN cluster_scope AS s ON x.rid = s.rid JOIN xref AS m ON m.golden_id = x.golden_id
) AS n
WHERE n.rid NOT IN (SELECT rid FROM cluster_scope)
  AND n.rid IN (SELECT rid FROM std_organization);
