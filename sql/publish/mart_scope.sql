-- name: _mart_scope
-- kind: table
-- lifetime: temp
-- stage: publish
-- description: The golden ids whose rows of the per-golden-record marts (customer_month, customer_360,
--  customer_tier, financial_risk, churn_watchlist) an incremental publish recomputes; empty on a full build.
-- column golden_id: A golden id whose mart rows are deleted and computed again.
--
-- Runs after golden/publish and the golden steps, before any mart changes: customer_360 still holds the
-- last published run's rows. Parameter: $run = the run id. pipelines.marts uses it only when every global
-- input of the marts is unchanged (mart_state) and no account, balance or financial fact was loaded again
-- (run_reloaded); then a golden record's mart rows depend only on:
--   (1) its golden record, its records (xref -> accounts, balances, SEC facts -> golden_financial_fact) and
--       its attribute lineage (industry scheme). Survive recomputes, with run_id = $run, every golden record
--       that gained, lost or changed a record or is new (golden/affected.sql), and carries every other one
--       over unchanged with its old run id (golden/carry_over.sql, the contract golden/history.sql relies on
--       too); a golden id that lost all its records is gone from golden_organization (a retired id of
--       golden_id_redirect is one of those). So: golden_organization.run_id = $run, plus the ids of the
--       last run's customer_360 (one row per golden record) that are no longer golden records.
--   (2) its pending_review and invalid_identifier flags (match_pair review band, organization_record
--       .invalid_ids): a pair can change without its records changing clusters, so both flags are
--       recomputed for every golden record and compared with the last run's dq_flags.
--   (3) its group (v_organization_group over golden_hierarchy, rebuilt from relationship and xref):
--       compared for every golden record with the last run's customer_360.group_id.
--   (4) the other members of its group: group_size, group_total_balance and group_name (customer_360) and
--       group_watchlisted (churn_watchlist) sum over a group. Every member of the old and of the new group of
--       an id of (1)-(3) is added. One step closes it: an added member whose group did not change brings no
--       other group, and one whose group changed is already in (3).
-- Everything else a mart reads is global (latest balance month, fx_rate, industry mapping, tier rules,
-- parameters, source formats, financial_concept, the SQL) and is compared in mart_state instead.
CREATE OR REPLACE TEMP TABLE _mart_scope AS
WITH old AS (
    SELECT golden_id, group_id,
           list_contains(dq_flags, 'pending_review') AS in_review,
           list_contains(dq_flags, 'invalid_identifier') AS has_invalid
    FROM customer_360
),
review AS (
    SELECT DISTINCT r.golden_id
    FROM (SELECT rid_a AS rid FROM match_pair WHERE band = 'review'
          UNION SELECT rid_b FROM match_pair WHERE band = 'review') AS p
    JOIN organization_record AS r USING (rid)
),
invalid AS (
    SELECT DISTINCT golden_id FROM organization_record WHERE len(invalid_ids) > 0
),
now AS (
    SELECT g.golden_id, m.group_id, g.run_id = $run AS recomputed,
           rv.golden_id IS NOT NULL AS in_review, iv.golden_id IS NOT NULL AS has_invalid
    FROM golden_organization AS g
    JOIN _mart_group AS m USING (golden_id)
    LEFT JOIN review AS rv USING (golden_id)
    LEFT JOIN invalid AS iv USING (golden_id)
),
seed AS (
    SELECT coalesce(n.golden_id, o.golden_id) AS golden_id
    FROM now AS n
    FULL JOIN old AS o USING (golden_id)
    WHERE n.golden_id IS NULL OR o.golden_id IS NULL OR n.recomputed
       OR n.group_id IS DISTINCT FROM o.group_id
       OR n.in_review IS DISTINCT FROM o.in_review OR n.has_invalid IS DISTINCT FROM o.has_invalid
),
touched AS (
    SELECT n.group_id FROM now AS n SEMI JOIN seed USING (golden_id)
    UNION
    SELECT o.group_id FROM old AS o SEMI JOIN seed USING (golden_id)
)
SELECT golden_id FROM seed
UNION
SELECT n.golden_id FROM now AS n SEMI JOIN touched USING (group_id)
UNION
SELECT o.golden_id FROM old AS o SEMI JOIN touched USING (group_id);
