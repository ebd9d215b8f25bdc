-- name: steward_decision_live
-- kind: table
-- stage: publish
-- description: The steward decisions live at this run (from the control store, see mdm/decisions.py), one row
--   per decision and review item it answers; review_item leaves those items out.
-- column decision_id: Id of the decision in the control store's steward_decision.
-- column kind: match | no_match | split | override.
-- column rid_a: match/no_match: first record (SOURCE:ID); split: the record split out.
-- column rid_b: match/no_match: second record.
-- column golden_id: override: the golden record; split: the golden record the record was split from.
-- column attribute: override: the golden attribute.
-- column value: override: the value.
-- column item_id: The review item the decision was made on, if any.
-- column subject_item_id: A review item this decision settles (the pair, the cluster or the golden attribute).
-- column user_name: Who decided.
-- column decided_at: When (UTC).
-- column reason: Why.
CREATE OR REPLACE TABLE steward_decision_live (
    decision_id     VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    rid_a           VARCHAR,
    rid_b           VARCHAR,
    golden_id       VARCHAR,
    attribute       VARCHAR,
    value           VARCHAR,
    item_id         VARCHAR,
    subject_item_id VARCHAR,
    user_name       VARCHAR NOT NULL,
    decided_at      VARCHAR NOT NULL,
    reason          VARCHAR NOT NULL
);
