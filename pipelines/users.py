"""Users and roles of the control store (``app_user``): who may run, review, read and audit.

Roles (issue 12): an **engineer** runs and configures the pipeline and manages users; a **steward**
reviews matches and overrides golden attributes; an **analyst** reads masked data; an **auditor**
reads the audit log only. :data:`ROLES` maps each role to its permissions and :func:`can` answers
the question every entry point (CLI, ``mdm sql``, web workbench) asks.

Passwords are hashed with Argon2id (argon2-cffi, RFC 9106 parameters); a hash made with older
parameters is replaced at the next successful sign-in. A sign-in with an unknown or disabled name
costs the same hash computation as a wrong password, so timing does not reveal which names exist.
Every change and every sign-in (success or failure) is written to the audit log; users are never
deleted, only disabled. Rate limiting of sign-ins belongs to the caller (the web workbench).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipelines import audit
from pipelines.errors import MdmError

PERMISSIONS = ("run", "configure", "review", "override", "read_clear", "read_masked", "read_audit", "manage_users")
ROLES: dict[str, frozenset[str]] = {
    "engineer": frozenset({"run", "configure", "read_clear", "read_masked", "manage_users"}),
    "steward": frozenset({"review", "override", "read_clear", "read_masked"}),
    "analyst": frozenset({"read_masked"}),
    "auditor": frozenset({"read_audit"}),
}
NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # hashing is deliberately slow; do not let anyone feed it megabytes

HASHER = PasswordHasher()  # argon2id with argon2-cffi's RFC 9106 low-memory profile
_dummy_hash: str | None = None


class UserError(MdmError):
    """A user operation was refused: unknown or duplicate name, bad role, weak password."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    disabled: bool = False

    def can(self, permission: str) -> bool:
        return not self.disabled and can(self.role, permission)


def can(role: str, permission: str) -> bool:
    """Whether ``role`` has ``permission`` (unknown roles and permissions have none)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}")
    return permission in ROLES.get(role, frozenset())


def normalise_name(name: str) -> str:
    """The stored form of a sign-in name (lower case); refuses names outside ``[a-z0-9._@-]``."""
    n = (name or "").strip().lower()
    if not NAME.match(n):
        raise UserError(
            f"user name must be 1-64 characters of letters, digits, . _ @ - (starting with a letter "
            f"or digit), not {name[:80]!r}"
        )
    return n


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def check_password(name: str, password: str) -> None:
    """The password policy: at least MIN_PASSWORD characters, not the user name, not one repeated character."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"password must have at most {MAX_PASSWORD} characters")
    if password.strip().lower() == name.lower() or name.lower() in password.lower():
        raise UserError("password must not contain the user name")
    if len(set(password)) < 4:
        raise UserError("password must not be a few repeated characters")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _row(con: sqlite3.Connection, name: str) -> dict[str, Any] | None:
    r = con.execute("SELECT name, password_hash, role, disabled FROM app_user WHERE name = ?", (name,)).fetchone()
    return dict(zip(("name", "password_hash", "role", "disabled"), tuple(r), strict=True)) if r else None


def get_user(con: sqlite3.Connection, name: str) -> User | None:
    try:
        n = normalise_name(name)
    except UserError:
        return None
    r = _row(con, n)
    return User(r["name"], r["role"], bool(r["disabled"])) if r else None


def _require(con: sqlite3.Connection, name: str) -> dict[str, Any]:
    r = _row(con, normalise_name(name))
    if r is None:
        raise UserError(f"no user named {name!r}")
    return r


def add_user(con: sqlite3.Connection, name: str, password: str, role: str, *, actor: str = "system") -> User:
    """Add an active user; refuses a taken name, an unknown role and a weak password."""
    n, role = normalise_name(name), check_role(role)
    check_password(n, password)
    if _row(con, n) is not None:
        raise UserError(f"user {n!r} exists already (use set-role, or disable it)")
    now = _now()
    con.execute(
        "INSERT INTO app_user (name, password_hash, role, disabled, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)",
        (n, HASHER.hash(password), role, now, now),
    )
    audit.record(con, actor, audit.USER_ADD, n, {"role": role})
    return User(n, role, False)


def set_role(con: sqlite3.Connection, name: str, role: str, *, actor: str = "system") -> User:
    r = _require(con, name)
    role = check_role(role)
    con.execute("UPDATE app_user SET role = ?, updated_at = ? WHERE name = ?", (role, _now(), r["name"]))
    audit.record(con, actor, audit.USER_SET_ROLE, r["name"], {"from": r["role"], "to": role})
    return User(r["name"], role, bool(r["disabled"]))


def _set_disabled(con: sqlite3.Connection, name: str, disabled: bool, actor: str) -> User:
    r = _require(con, name)
    con.execute("UPDATE app_user SET disabled = ?, updated_at = ? WHERE name = ?", (int(disabled), _now(), r["name"]))
    audit.record(con, actor, audit.USER_DISABLE if disabled else audit.USER_ENABLE, r["name"], {})
    return User(r["name"], r["role"], disabled)


def disable(con: sqlite3.Connection, name: str, *, actor: str = "system") -> User:
    """Stop a user from signing in (users are never deleted: the audit log names them)."""
    return _set_disabled(con, name, True, actor)


def enable(con: sqlite3.Connection, name: str, *, actor: str = "system") -> User:
    return _set_disabled(con, name, False, actor)


def set_password(con: sqlite3.Connection, name: str, password: str, *, actor: str = "system") -> None:
    r = _require(con, name)
    check_password(r["name"], password)
    con.execute(
        "UPDATE app_user SET password_hash = ?, updated_at = ? WHERE name = ?",
        (HASHER.hash(password), _now(), r["name"]),
    )
    audit.record(con, actor, audit.USER_PASSWORD, r["name"], {})


def list_users(con: sqlite3.Connection) -> list[User]:
    return [
        User(r[0], r[1], bool(r[2]))
        for r in con.execute("SELECT name, role, disabled FROM app_user ORDER BY name").fetchall()
    ]


def _dummy() -> str:
    """A hash of a random password with the current parameters, verified for unknown names."""
    global _dummy_hash
    if _dummy_hash is None or HASHER.check_needs_rehash(_dummy_hash):
        import secrets

        _dummy_hash = HASHER.hash(secrets.token_urlsafe(24))
    return _dummy_hash


def _matches(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(con: sqlite3.Connection, name: str, password: str, *, channel: str = "cli") -> User | None:
    """The user when ``name`` and ``password`` are right and the user is active, else None.

    Unknown names, disabled users and wrong passwords all cost one Argon2 verification and return
    None; each attempt is written to the audit log (``sign_in.success`` / ``sign_in.failure`` with the
    channel, e.g. cli, web, sql). A hash with outdated parameters is replaced on success."""
    try:
        n = normalise_name(name)
    except UserError:
        n = None
    r = _row(con, n) if n else None
    password = (password or "")[: MAX_PASSWORD + 1]
    ok = _matches(r["password_hash"] if r else _dummy(), password)
    subject = n or str(name)[:64]
    if r is None or not ok or r["disabled"]:
        reason = "unknown user" if r is None else ("wrong password" if not ok else "disabled")
        audit.record(con, subject, audit.SIGN_IN_FAILURE, subject, {"channel": channel, "reason": reason})
        return None
    if HASHER.check_needs_rehash(r["password_hash"]):
        con.execute("UPDATE app_user SET password_hash = ? WHERE name = ?", (HASHER.hash(password), n))
    assert n is not None  # r is only looked up for a valid name
    audit.record(con, n, audit.SIGN_IN_SUCCESS, n, {"channel": channel, "role": r["role"]})
    return User(r["name"], r["role"], False)
