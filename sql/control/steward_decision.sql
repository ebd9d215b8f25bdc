-- name: steward_decision
-- kind: table
-- stage: control
-- description: Every steward decision ever made, append-only (triggers refuse UPDATE and DELETE). Which
--   decisions are live (and which later decision or undo superseded each one) is computed from the whole
--   list by mdm/decisions.py: per subject the latest decision wins, an undo takes its target back to the
--   model's view. An append-only table cannot hold a superseded_by column filled in later.
-- column seq: Order of the decisions (later wins); assigned by SQLite.
-- column id: Opaque decision id (D + 16 hex digits).
-- column kind: match | no_match | split | override | undo.
-- column rid_a: match/no_match: the first record (SOURCE:ID, rid_a < rid_b); split: the record split out.
-- column rid_b: match/no_match: the second record.
-- column golden_id: override: the golden record; split: the golden record the record was split from.
-- column attribute: override: the golden attribute (mdm.survivorship.ATTRIBUTES).
-- column value: override: the value that beats every survivorship rule.
-- column target_id: undo: the id of the decision taken back.
-- column cannot_link: split: JSON list of the records the split record must never join again (its cluster's
--   other members at decision time).
-- column item_id: The review_item the decision answers, when made from the queue.
-- column reason: Why (required).
-- column user_name: Who decided.
-- column decided_at: When (UTC, ISO 8601).
-- column origin: cli | web | api | import.
-- column import_key: For decisions imported from a legacy CSV: a digest of file kind, line and row (unique, so
--   importing twice adds nothing).
CREATE TABLE IF NOT EXISTS steward_decision (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('match', 'no_match', 'split', 'override', 'undo')),
    rid_a       TEXT,
    rid_b       TEXT,
    golden_id   TEXT,
    attribute   TEXT,
    value       TEXT,
    target_id   TEXT REFERENCES steward_decision (id),
    cannot_link TEXT,
    item_id     TEXT,
    reason      TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    user_name   TEXT NOT NULL CHECK (length(trim(user_name)) > 0),
    decided_at  TEXT NOT NULL,
    origin      TEXT NOT NULL,
    import_key  TEXT UNIQUE,
    CHECK (kind NOT IN ('match', 'no_match') OR (rid_a IS NOT NULL AND rid_b IS NOT NULL AND rid_a < rid_b)),
    CHECK (kind <> 'split' OR (rid_a IS NOT NULL AND golden_id IS NOT NULL AND cannot_link IS NOT NULL)),
    CHECK (kind <> 'override' OR (golden_id IS NOT NULL AND attribute IS NOT NULL AND value IS NOT NULL)),
    CHECK (kind <> 'undo' OR target_id IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS steward_decision_pair ON steward_decision (rid_a, rid_b);
CREATE INDEX IF NOT EXISTS steward_decision_golden ON steward_decision (golden_id);
CREATE TRIGGER IF NOT EXISTS steward_decision_no_update BEFORE UPDATE ON steward_decision
BEGIN
    SELECT RAISE(ABORT, 'steward_decision is append-only: record a new decision (or an undo) instead');
END;
CREATE TRIGGER IF NOT EXISTS steward_decision_no_delete BEFORE DELETE ON steward_decision
BEGIN
    SELECT RAISE(ABORT, 'steward_decision is append-only: no decision is ever deleted (record an undo)');
END;
