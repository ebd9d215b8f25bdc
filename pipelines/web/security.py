"""Sign-in, sessions, CSRF and rate limiting of the web workbench.

- **Sessions** are a signed cookie (itsdangerous, HMAC-SHA1 over a secret kept owner-only beside the
  control store, ``<warehouse>/control.web-secret``), HttpOnly, SameSite=Strict, Secure when the request
  came over https; they expire after :data:`SESSION_SECONDS`. The cookie names the user; the user's role
  and state are read from the control store on every request, so a disabled user or a new role counts at once.
- **CSRF**: every session (also the anonymous one the sign-in page gets) carries a random token; every
  POST form sends it back in a hidden field and is refused (403) when it differs. SameSite=Strict is a
  second line.
- **Rate limiting**: failed sign-ins are counted per user name and per client address in a sliding
  window; after :data:`MAX_FAILURES_USER` (or :data:`MAX_FAILURES_ADDRESS`) failures the name (address)
  is locked out for :data:`LOCKOUT_SECONDS`, even for the right password. Every attempt is audited by
  :func:`pipelines.users.authenticate`; a refused attempt during a lockout is audited as ``sign_in.locked``.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

SECRET_FILE = "control.web-secret"
COOKIE = "mdm_session"
SESSION_SECONDS = 8 * 3600
WINDOW_SECONDS = 15 * 60
LOCKOUT_SECONDS = 15 * 60
MAX_FAILURES_USER = 5
MAX_FAILURES_ADDRESS = 20
SIGN_IN_LOCKED = "sign_in.locked"


def load_secret(warehouse: Path) -> bytes:
    """The signing secret of the workbench, created owner-only (0600) on first use."""
    path = Path(warehouse) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        data = path.read_bytes().strip()
        if len(data) < 32:
            raise ValueError(f"{path} holds no usable secret; delete it to make a new one") from None
        return data
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_hex(32).encode())
    return path.read_bytes().strip()


@dataclass
class Session:
    csrf: str
    user: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"c": self.csrf, "u": self.user}


class Sessions:
    """Signs and reads the session cookie."""

    def __init__(self, secret: bytes, max_age: int = SESSION_SECONDS) -> None:
        self.signer = URLSafeTimedSerializer(secret, salt="mdm-web-session")
        self.max_age = max_age

    def load(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > 4096:
            return None
        try:
            data = self.signer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        user = data.get("u")
        return Session(csrf=data["c"], user=user if isinstance(user, str) else None)

    def dump(self, session: Session) -> str:
        return self.signer.dumps(session.as_dict())

    @staticmethod
    def new(user: str | None = None) -> Session:
        return Session(csrf=secrets.token_urlsafe(24), user=user)


def csrf_ok(session: Session | None, token: str | None) -> bool:
    return bool(session and token) and hmac.compare_digest(session.csrf, str(token))  # type: ignore[union-attr]


class RateLimiter:
    """Failed sign-ins per key (``user:NAME``, ``addr:IP``) in a sliding window, with lockouts."""

    def __init__(
        self,
        max_user: int = MAX_FAILURES_USER,
        max_address: int = MAX_FAILURES_ADDRESS,
        window: float = WINDOW_SECONDS,
        lockout: float = LOCKOUT_SECONDS,
    ) -> None:
        self.limits = {"user": max_user, "addr": max_address}
        self.window, self.lockout = window, lockout
        self.failures: dict[str, deque[float]] = defaultdict(deque)
        self.locked_until: dict[str, float] = {}
        self.lock = threading.Lock()

    @staticmethod
    def keys(user: str, address: str) -> list[str]:
        return [f"user:{(user or '').strip().lower()[:64]}", f"addr:{address}"]

    def locked(self, user: str, address: str, now: float | None = None) -> float:
        """Seconds left of the longest lockout on this user name or address (0: not locked)."""
        now = time.monotonic() if now is None else now
        with self.lock:
            return max([self.locked_until.get(k, 0.0) - now for k in self.keys(user, address)] + [0.0])

    def failed(self, user: str, address: str, now: float | None = None) -> bool:
        """Count a failure; True when it starts a lockout."""
        now = time.monotonic() if now is None else now
        started = False
        with self.lock:
            for key in self.keys(user, address):
                q = self.failures[key]
                q.append(now)
                while q and q[0] < now - self.window:
                    q.popleft()
                if len(q) >= self.limits[key.split(":", 1)[0]]:
                    self.locked_until[key] = now + self.lockout
                    q.clear()
                    started = True
        return started

    def succeeded(self, user: str) -> None:
        with self.lock:
            self.failures.pop(self.keys(user, "")[0], None)
