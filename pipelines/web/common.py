"""What every workbench page shares: the app's state, the signed-in user, access areas, CSRF checks,
flash messages and rendering.

Who sees what (roles of :mod:`pipelines.users`):

- **steward**: the review queue, pairs, clusters, decisions (match, no-match, split, override, undo),
  ``Apply decisions``, golden records and search;
- **engineer**: every page and ``Apply decisions``; decisions themselves belong to stewards (the
  ``review``/``override`` permissions), so an engineer's decision is refused with 403;
- **analyst**: golden records and search, read-only, personal data masked (:func:`data.visible_record`);
- **auditor**: the audit log page only.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pipelines import control, users
from pipelines.config import Config
from pipelines.web import data
from pipelines.web.security import RateLimiter, Session, Sessions, csrf_ok

HERE = Path(__file__).parent
AREAS: dict[str, tuple[str, ...]] = {  # area -> permissions of which one suffices
    "review": ("review", "run"),
    "decide": ("review",),
    "override": ("override",),
    "apply": ("run", "review"),
    "records": ("read_clear", "read_masked"),
    "audit": ("read_audit", "manage_users"),
}
HOME = (("review", "/review"), ("records", "/search"), ("audit", "/audit"))
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
}


class SignInRequired(Exception):
    """Raised by :func:`user_of` for a page that needs a signed-in user."""


@dataclass
class Web:
    config: Config
    reader: data.Reader
    sessions: Sessions
    limiter: RateLimiter
    templates: Jinja2Templates
    api_token: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def web(request: Request) -> Web:
    return request.app.state.web


def may(user: users.User, area: str) -> bool:
    return not user.disabled and any(users.can(user.role, p) for p in AREAS[area])


def session_of(request: Request) -> Session:
    return request.state.session


def user_of(request: Request, area: str | None = None) -> users.User:
    """The signed-in, enabled user (read from the control store now); 403 when ``area`` is not theirs."""
    s = session_of(request)
    if not s.user:
        raise SignInRequired()
    con = control.connect(web(request).config.warehouse)
    try:
        user = users.get_user(con, s.user)
    finally:
        con.close()
    if user is None or user.disabled:
        request.state.session = Sessions.new()
        request.state.session_dirty = True
        raise SignInRequired()
    if area is not None and not may(user, area):
        raise HTTPException(403, f"your role ({user.role}) may not use this page")
    return user


def check_csrf(request: Request, token: str | None) -> None:
    if not csrf_ok(session_of(request), token):
        raise HTTPException(403, "the form's security token is missing or stale: reload the page and try again")


def flash(request: Request, message: str, kind: str = "ok") -> None:
    request.state.flash = (kind, message[:500])
    request.state.session_dirty = True


def render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    s = session_of(request)
    user = ctx.get("user")
    areas = {a: may(user, a) for a in AREAS} if user else {}
    base = {"request": request, "csrf": s.csrf, "areas": areas, "flash": getattr(request.state, "old_flash", None)}
    return web(request).templates.TemplateResponse(request, name, {**base, **ctx}, status_code=status)


def safe_next(target: str | None, default: str = "/") -> str:
    t = (target or "").strip()
    return t if t.startswith("/") and not t.startswith("//") and "\\" not in t and len(t) < 2000 else default


def api_token_ok(request: Request) -> bool:
    token = web(request).api_token
    header = request.headers.get("authorization", "")
    return bool(token) and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token or "")
