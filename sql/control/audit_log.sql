-- name: audit_log
-- kind: table
-- stage: control
-- lifetime: control
-- description: Append-only, hash-chained audit trail (pipelines/audit.py): runs, steward decisions, overrides, sign-ins, user changes, exports, backups and analysts' queries. Triggers refuse UPDATE and DELETE; the chain head is also kept in control.audit-head.json beside the store.
-- column id: Position in the chain, 1, 2, 3 ... without gaps.
-- column ts: When the entry was written (UTC, ISO 8601 with microseconds).
-- column actor: Who acted: an application user, os:<login> for the shell, or system.
-- column action: What was done, dotted lower case (run.publish, review.decide, sign_in.failure, user.add, sql.query ...).
-- column subject: What it was done to (a run id, a user name, SOURCE:ID, a golden id, a file); may be empty.
-- column detail: Canonical JSON object with the particulars (reason, role, query hash and text, row count ...).
-- column prev_hash: Hash of the previous entry (64 zeros for the first).
-- column hash: sha256 hex of prev_hash followed by the canonical JSON of this entry.
CREATE TABLE IF NOT EXISTS audit_log (
    id        INTEGER PRIMARY KEY,
    ts        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL UNIQUE
);

CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed');
END;

CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be deleted');
END;
