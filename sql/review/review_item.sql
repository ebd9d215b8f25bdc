-- name: review_item
-- kind: table
-- stage: publish
-- description: The data stewards' review queue, rebuilt by every run, most important first. Three kinds of
--   item: a pair in the review band whose two golden records could actually merge (no two keys of one
--   register, no different valid identifiers of one scheme in the two clusters); a weak cluster (a member
--   held in its cluster only by scored links below the strong level); a survivorship conflict (the sources
--   of one cluster disagree on the legal name, the registered address or an identifier). Items answered by
--   a live steward decision (steward_decision_live) are left out; an item a later run resolves is simply
--   not produced again. An incremental run recomputes only the items of the golden records it changed
--   (pipelines.review.queue; the rows of the other golden records are kept).
-- column item_id: Stable id: R + 16 hex digits of md5('<kind>|<subject>') (mdm.decisions.item_id).
-- column kind: pair | weak_cluster | conflict.
-- column subject: pair: 'rid_a|rid_b'; weak_cluster: the golden id; conflict: 'golden_id|attribute'.
-- column priority: 1 = review first: customers with accounts first, then by balance, then by uncertainty.
-- column golden_id: The golden record concerned (pair: the one of rid_a).
-- column other_golden_id: pair: the golden record of rid_b.
-- column rid_a: pair: first record (SOURCE:ID); weak_cluster: the weakest held member.
-- column rid_b: pair: second record; weak_cluster: the member it is held by.
-- column attribute: conflict: legal_name, address (registered), lei, uscc or ein.
-- column score: pair: match probability; weak_cluster: strength of the weakest member's best link.
-- column uncertainty: 0..1, higher is less certain: 1 - |2 p - 1| for a probability p; conflicts 1 - 1/values.
-- column accounts: Accounts of the customers concerned (both clusters for a pair).
-- column balance: Sum of the latest monthly balance of those accounts (amounts in their own currencies).
-- column detail: JSON: pair and weak cluster the records' names; conflict the disagreeing values per source.
-- An incremental build (pipelines.review.queue) fills both from sql/review/review_scope.sql first; a full one
-- leaves them empty.
CREATE TEMP TABLE IF NOT EXISTS _review_scope (golden_id VARCHAR);
CREATE TEMP TABLE IF NOT EXISTS _review_kept (golden_id VARCHAR);
-- The queue's items before ranking: of every golden record (scoped = false), or only those that involve a
-- golden id of _review_scope (scoped = true: a pair with either end in it; a weak cluster or a conflict of one
-- in it). Every input of an item is one of its golden records' (records, names, identifiers, the pairs and
-- links of their records, accounts and balances) or global (the decisions, the parameters).
CREATE OR REPLACE TEMP MACRO _review_items(scoped, p_register_formats, p_strong) AS TABLE
WITH decided AS (
    SELECT item_id AS id FROM steward_decision_live WHERE item_id IS NOT NULL
    UNION
    SELECT subject_item_id FROM steward_decision_live WHERE subject_item_id IS NOT NULL
),
-- The authoritative keys of every cluster, as mdm.standardise.identity_keys names them.
rec_keys AS (
    SELECT golden_id, 'LEI' AS scheme, id_LEI::VARCHAR AS value FROM organization_record WHERE id_LEI IS NOT NULL
    UNION ALL
    SELECT golden_id, 'USCC', id_USCC::VARCHAR FROM organization_record WHERE id_USCC IS NOT NULL
    UNION ALL
    SELECT golden_id, 'CN-REG', id_CN_REG::VARCHAR FROM organization_record WHERE id_CN_REG IS NOT NULL
    UNION ALL
    SELECT golden_id, 'GB-COH', id_GB_COH::VARCHAR FROM organization_record WHERE id_GB_COH IS NOT NULL
    UNION ALL
    SELECT golden_id, 'CIK', id_CIK::VARCHAR FROM organization_record WHERE id_CIK IS NOT NULL
    UNION ALL
    SELECT golden_id, 'KEY:' || source, source_id FROM organization_record
    WHERE list_contains(p_register_formats, source_format)
),
names AS (SELECT rid, golden_id, name FROM organization_record),
review_pairs AS (
    SELECT p.rid_a, p.rid_b, p.score, xa.golden_id, xb.golden_id AS other_golden_id
    FROM match_pair AS p
    JOIN xref AS xa ON xa.rid = p.rid_a
    JOIN xref AS xb ON xb.rid = p.rid_b
    WHERE p.band = 'review' AND p.rule = 'score' AND xa.golden_id <> xb.golden_id
      AND (NOT scoped OR xa.golden_id IN (SELECT golden_id FROM _review_scope)
           OR xb.golden_id IN (SELECT golden_id FROM _review_scope))
),
-- The keys of the clusters at either end of a review pair (only those are compared).
cluster_keys AS (
    SELECT DISTINCT golden_id, scheme, value FROM rec_keys
    WHERE value <> ''
      AND golden_id IN (SELECT golden_id FROM review_pairs UNION SELECT other_golden_id FROM review_pairs)
),
-- Review pairs whose clusters hold different values of one scheme: they can never merge. (Joined from
-- the pairs outwards: a join of the key table with itself would be quadratic in a register's keys.)
clashing AS (
    SELECT DISTINCT r.rid_a, r.rid_b
    FROM review_pairs AS r
    JOIN cluster_keys AS ka ON ka.golden_id = r.golden_id
    JOIN cluster_keys AS kb ON kb.golden_id = r.other_golden_id AND kb.scheme = ka.scheme
    WHERE ka.value <> kb.value
),
pair_items AS (
    SELECT 'pair' AS kind, r.rid_a || '|' || r.rid_b AS subject, r.golden_id, r.other_golden_id,
           r.rid_a, r.rid_b, NULL::VARCHAR AS attribute, r.score,
           to_json({a: na.name, b: nb.name})::VARCHAR AS detail
    FROM review_pairs AS r
    ANTI JOIN clashing AS c ON c.rid_a = r.rid_a AND c.rid_b = r.rid_b
    LEFT JOIN names AS na ON na.rid = r.rid_a
    LEFT JOIN names AS nb ON nb.rid = r.rid_b
),
-- Links clustering followed inside a cluster: identifier rules and steward must-links count as certain.
links AS (
    SELECT rid_a, rid_b, CASE WHEN rule <> 'score' THEN 1.0 ELSE score END AS strength
    FROM match_pair WHERE rule <> 'score' OR band = 'match'
    UNION ALL
    SELECT rid_a, rid_b, 1.0 FROM steward_decision_live WHERE kind = 'match'
),
inside AS (
    SELECT xa.golden_id, l.rid_a, l.rid_b, l.strength
    FROM links AS l JOIN xref AS xa ON xa.rid = l.rid_a JOIN xref AS xb ON xb.rid = l.rid_b
    WHERE xa.golden_id = xb.golden_id AND (NOT scoped OR xa.golden_id IN (SELECT golden_id FROM _review_scope))
),
held AS (  -- each member's best link inside its cluster, and the member at its other end
    SELECT golden_id, rid, other, strength FROM (
        SELECT golden_id, rid_a AS rid, rid_b AS other, strength FROM inside
        UNION ALL
        SELECT golden_id, rid_b, rid_a, strength FROM inside)
    QUALIFY row_number() OVER (PARTITION BY rid ORDER BY strength DESC, other) = 1
),
weak_items AS (
    SELECT 'weak_cluster' AS kind, h.golden_id AS subject, h.golden_id, NULL::VARCHAR AS other_golden_id,
           h.rid AS rid_a, h.other AS rid_b, NULL::VARCHAR AS attribute, h.strength AS score,
           to_json({a: na.name, b: nb.name, weak_members: w.weak_members})::VARCHAR AS detail
    FROM held AS h
    JOIN (SELECT golden_id, count(*) AS weak_members FROM held WHERE strength < p_strong GROUP BY golden_id) AS w
      USING (golden_id)
    LEFT JOIN names AS na ON na.rid = h.rid
    LEFT JOIN names AS nb ON nb.rid = h.other
    WHERE h.strength < p_strong
    QUALIFY row_number() OVER (PARTITION BY h.golden_id ORDER BY h.strength, h.rid) = 1
),
-- Values of the conflict attributes per record: standardised forms where they exist (case, punctuation,
-- legal form and script variants do not count as disagreement), names compared within one script.
-- Only clusters with records of two sources can disagree (a conflict needs two sources): the others are left
-- out before the values are compared.
multi_source AS (
    SELECT golden_id FROM organization_record
    WHERE NOT scoped OR golden_id IN (SELECT golden_id FROM _review_scope)
    GROUP BY golden_id HAVING min(source) <> max(source)
),
multi_record AS (
    SELECT r.* FROM organization_record AS r SEMI JOIN multi_source AS m ON m.golden_id IS NOT DISTINCT FROM r.golden_id
),
attr_values AS (
    SELECT golden_id, source, 'legal_name' AS attribute, name_cjk::VARCHAR AS part, name_core AS cmp, name AS shown
    FROM multi_record WHERE coalesce(name_core, '') <> ''
    UNION ALL
    SELECT golden_id, source, 'address', '', address_norm, address FROM multi_record
    WHERE coalesce(address_norm, '') <> ''
    UNION ALL
    SELECT golden_id, source, 'lei', '', upper(trim(lei)), lei FROM multi_record WHERE coalesce(trim(lei), '') <> ''
    UNION ALL
    SELECT golden_id, source, 'uscc', '', upper(trim(uscc)), uscc FROM multi_record
    WHERE coalesce(trim(uscc), '') <> ''
    UNION ALL
    SELECT golden_id, source, 'ein', '', regexp_replace(ein, '[^0-9]', '', 'g'), ein FROM multi_record
    WHERE coalesce(trim(ein), '') <> ''
),
-- The groups holding two values from two sources, found with min <> max (no distinct aggregate over every
-- record); the distinct values and the detail are computed for those few groups only.
conflict_keys AS (
    SELECT golden_id, attribute, part
    FROM attr_values
    GROUP BY golden_id, attribute, part
    HAVING min(cmp) <> max(cmp) AND min(source) <> max(source)
),
conflict_groups AS (
    SELECT v.golden_id, v.attribute, count(DISTINCT v.cmp) AS n_values,
           to_json(list_sort(list(DISTINCT {source: v.source, value: v.shown})))::VARCHAR AS detail
    FROM attr_values AS v
    SEMI JOIN conflict_keys AS k
      ON k.golden_id IS NOT DISTINCT FROM v.golden_id AND k.attribute = v.attribute
     AND k.part IS NOT DISTINCT FROM v.part
    GROUP BY v.golden_id, v.attribute, v.part
),
conflict_items AS (
    SELECT 'conflict' AS kind, golden_id || '|' || attribute AS subject, golden_id, NULL::VARCHAR AS other_golden_id,
           NULL::VARCHAR AS rid_a, NULL::VARCHAR AS rid_b, attribute, NULL::DOUBLE AS score, detail,
           1 - 1 / n_values AS uncertainty
    FROM conflict_groups
    QUALIFY row_number() OVER (PARTITION BY golden_id, attribute ORDER BY n_values DESC, detail) = 1
),
items AS (
    SELECT *, 1 - abs(2 * score - 1) AS uncertainty FROM pair_items
    UNION ALL BY NAME
    SELECT *, 1 - abs(2 * score - 1) AS uncertainty FROM weak_items
    UNION ALL BY NAME
    SELECT * FROM conflict_items
),
-- The business impact of the golden records the items name: their accounts and the latest balance of each.
item_golden AS (SELECT golden_id FROM items UNION SELECT other_golden_id FROM items),
impact_account AS (
    SELECT x.golden_id, a.source, a.account_id
    FROM xref AS x
    JOIN account AS a ON a.source = x.source AND a.source_id = x.source_id
    WHERE x.golden_id IN (SELECT golden_id FROM item_golden)
),
latest_balance AS (
    SELECT b.source, b.account_id, b.balance FROM balance AS b
    SEMI JOIN impact_account AS i ON i.source = b.source AND i.account_id = b.account_id
    QUALIFY row_number() OVER (PARTITION BY b.source, b.account_id ORDER BY b.month DESC) = 1
),
impact AS (
    SELECT i.golden_id, count(DISTINCT i.account_id) AS accounts, coalesce(sum(b.balance), 0) AS balance
    FROM impact_account AS i
    LEFT JOIN latest_balance AS b ON b.source = i.source AND b.account_id = i.account_id
    GROUP BY i.golden_id
),
scored AS (
    SELECT 'R' || md5(i.kind || '|' || i.subject)[1:16] AS item_id, i.*,
           coalesce(ia.accounts, 0) + coalesce(ib.accounts, 0) AS accounts,
           coalesce(ia.balance, 0) + coalesce(ib.balance, 0) AS balance
    FROM items AS i
    LEFT JOIN impact AS ia ON ia.golden_id = i.golden_id
    LEFT JOIN impact AS ib ON ib.golden_id = i.other_golden_id
)
SELECT item_id, kind, subject, golden_id, other_golden_id, rid_a, rid_b, attribute, score, uncertainty, accounts,
       balance, detail
FROM scored
WHERE item_id NOT IN (SELECT id FROM decided);
-- The items computed by this run: every item on a full build, the scope's on an incremental one.
CREATE OR REPLACE TEMP TABLE _review_new AS FROM _review_items($scoped, $register_formats, $strong);
CREATE TABLE IF NOT EXISTS review_item AS SELECT *, 0::BIGINT AS priority FROM _review_new LIMIT 0;
-- The queue, ranked: customers with accounts first, then by balance, then by uncertainty. An incremental build
-- keeps the last run's items whose golden records this run carried over unchanged (_review_kept): every input
-- of such an item is as it was (pipelines.review.queue checks the global ones).
CREATE OR REPLACE TABLE review_item AS
WITH items AS (
    SELECT * EXCLUDE (priority) FROM review_item
    WHERE golden_id IN (SELECT golden_id FROM _review_kept)
      AND (other_golden_id IS NULL OR other_golden_id IN (SELECT golden_id FROM _review_kept))
    UNION ALL BY NAME
    FROM _review_new
)
SELECT item_id, kind, subject,
       row_number() OVER (ORDER BY accounts > 0 DESC, balance DESC, uncertainty DESC, item_id)::BIGINT AS priority,
       golden_id, other_golden_id, rid_a, rid_b, attribute, score, uncertainty, accounts, balance, detail
FROM items
ORDER BY priority;
DROP TABLE _review_new;
DROP TABLE _review_kept;
DROP TABLE _review_scope;
DROP MACRO TABLE _review_items;
