-- One step of closing the cluster scope: add every record linked to a record the last step added (step
-- $step) by a link clustering follows (cluster_link: an identifier rule, a scored match, a steward
-- must-link) or that shared its golden record in the last published run, and that is still a record of the
-- run. Run with steps 0, 1, ... until a step adds nothing: the scope is then a union of whole clusters, old
-- and new. (A record's links are followed once, in the step after the one that added it.)
INSERT INTO cluster_scope
SELECT DISTINCT n.rid, $step + 1
FROM (
    SELECT l.rid_b AS rid FROM cluster_link AS l JOIN cluster_scope AS s ON l.rid_a = s.rid WHERE s.step = $step
    UNION ALL
    SELECT l.rid_a FROM cluster_link AS l JOIN cluster_scope AS s ON l.rid_b = s.rid WHERE s.step = $step
    UNION ALL
    SELECT m.rid
    FROM xref AS x JOIN cluster_scope AS s ON x.rid = s.rid JOIN xref AS m ON m.golden_id = x.golden_id
    WHERE s.step = $step
) AS n
WHERE n.rid NOT IN (SELECT rid FROM cluster_scope) AND n.rid NOT IN (SELECT rid FROM cluster_gone);
