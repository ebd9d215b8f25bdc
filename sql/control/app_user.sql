-- name: app_user
-- kind: table
-- stage: control
-- lifetime: control
-- description: People who may use the workbench, mdm sql and the review commands (pipelines/users.py); never deleted, only disabled. Every change is in audit_log.
-- column name: Sign-in name, lower case (letters, digits, . _ @ -).
-- column password_hash: Argon2id hash in PHC string form (parameters, salt and hash); never the password.
-- column role: engineer, steward, analyst or auditor (see pipelines/users.py ROLES).
-- column disabled: 1 when the user may no longer sign in.
-- column created_at: When the user was added (UTC, ISO 8601).
-- column updated_at: Last change of role, password or state (UTC, ISO 8601).
CREATE TABLE IF NOT EXISTS app_user (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('engineer', 'steward', 'analyst', 'auditor')),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
