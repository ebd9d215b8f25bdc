"""The workbench application: :func:`create_app` (config -> FastAPI), the session middleware and sign-in.

Pages and access rules: :mod:`pipelines.web.common`, :mod:`pipelines.web.review`, :mod:`pipelines.web.records`.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from pipelines import audit, control, users
from pipelines.config import Config
from pipelines.errors import MdmError
from pipelines.web import data, records, review
from pipelines.web.common import (
    HERE,
    HOME,
    SECURITY_HEADERS,
    SignInRequired,
    Web,
    check_csrf,
    may,
    render,
    safe_next,
    user_of,
    web,
)
from pipelines.web.security import COOKIE, SIGN_IN_LOCKED, RateLimiter, Sessions, load_secret


def _install_session_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def session_middleware(request: Request, call_next: Any) -> Response:
        w: Web = request.app.state.web
        raw = request.cookies.get(COOKIE)
        s = w.sessions.load(raw)
        request.state.session_dirty = s is None
        request.state.session = s or Sessions.new()
        flashed = request.cookies.get("mdm_flash")
        request.state.old_flash = (
            w.sessions.signer.loads(flashed, max_age=300) if flashed and _valid(w, flashed) else None
        )
        response = await call_next(request)
        secure = request.url.scheme == "https"
        if request.state.session_dirty:
            response.set_cookie(
                COOKIE,
                w.sessions.dump(request.state.session),
                max_age=w.sessions.max_age,
                httponly=True,
                samesite="strict",
                secure=secure,
                path="/",
            )
        new_flash = getattr(request.state, "flash", None)
        if new_flash:
            response.set_cookie(
                "mdm_flash",
                w.sessions.signer.dumps(list(new_flash)),
                max_age=300,
                httponly=True,
                samesite="strict",
                secure=secure,
                path="/",
            )
        elif flashed and response.status_code < 300:
            response.delete_cookie("mdm_flash", path="/")
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response


def _valid(w: Web, token: str) -> bool:
    try:
        w.sessions.signer.loads(token, max_age=300)
        return True
    except Exception:
        return False


def _auth_routes(app: FastAPI) -> None:
    @app.get("/signin", response_class=HTMLResponse)
    def signin_page(request: Request, next: str = "/") -> HTMLResponse:
        return render(request, "signin.html", {"next": safe_next(next), "error": None})

    @app.post("/signin")
    async def signin(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, str(form.get("csrf") or ""))
        name, password = str(form.get("name") or "")[:200], str(form.get("password") or "")[:2048]
        nxt = safe_next(str(form.get("next") or "/"))
        w = web(request)
        address = request.client.host if request.client else "unknown"
        con = control.connect(w.config.warehouse)
        try:
            wait = w.limiter.locked(name, address)
            if wait > 0:
                audit.record(
                    con, name[:64] or "(empty)", SIGN_IN_LOCKED, name[:64], {"channel": "web", "address": address}
                )
                return render(
                    request,
                    "signin.html",
                    {"next": nxt, "error": f"Too many failed sign-ins: try again in {int(wait // 60) + 1} minutes."},
                    429,
                )
            user = users.authenticate(con, name, password, channel="web")
        finally:
            con.close()
        if user is None:
            w.limiter.failed(name, address)
            return render(request, "signin.html", {"next": nxt, "error": "Wrong user name or password."}, 401)
        w.limiter.succeeded(name)
        request.state.session = Sessions.new(user.name)  # a new session (and CSRF token) at every sign-in
        request.state.session_dirty = True
        return RedirectResponse(nxt if nxt != "/" else _home(user), status_code=303)

    @app.post("/signout")
    async def signout(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, str(form.get("csrf") or ""))
        request.state.session = Sessions.new()
        request.state.session_dirty = True
        return RedirectResponse("/signin", status_code=303)

    @app.get("/")
    def home(request: Request) -> Response:
        return RedirectResponse(_home(user_of(request)), status_code=303)


def _home(user: users.User) -> str:
    return next((url for area, url in HOME if may(user, area)), "/signin")


def create_app(config: Config, api_token: str | None = None) -> FastAPI:
    """The workbench for ``config``'s warehouse. ``api_token`` (default: environment ``MDM_API_TOKEN``)
    lets programs call ``POST /api/match`` without a session."""
    app = FastAPI(
        title="mdm workbench",
        description="Data stewards' workbench and the onboarding match API.",
        docs_url="/docs",
        redoc_url=None,
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["visible"] = data.visible_record
    try:  # stewards and engineers read personal values in clear; without the key they see them as stored
        from pipelines.crypto import cipher_for

        data.use_cipher(cipher_for(config, create=False))
    except MdmError:
        data.use_cipher(None)
    app.state.web = Web(
        config=config,
        reader=data.Reader(config),
        sessions=Sessions(load_secret(config.warehouse)),
        limiter=RateLimiter(),
        templates=templates,
        api_token=api_token if api_token is not None else os.environ.get("MDM_API_TOKEN") or None,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        user = None
        with contextlib.suppress(SignInRequired):
            user = user_of(request)
        return render(
            request, "error.html", {"user": user, "status": exc.status_code, "message": exc.detail}, exc.status_code
        )

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "sign in or send an API token"}, status_code=401)
        return RedirectResponse("/signin?next=" + quote(request.url.path), status_code=303)

    _install_session_middleware(app)
    _auth_routes(app)
    review.routes(app)
    records.routes(app)
    return app
