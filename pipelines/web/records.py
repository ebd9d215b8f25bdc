"""Golden record pages, search, the audit log page and ``POST /api/match``.

``POST /api/match`` accepts either a signed-in session allowed to read golden records (the browser;
the session's CSRF token must come in the ``X-CSRF-Token`` header) or ``Authorization: Bearer <token>``
with the token given to ``mdm serve`` in ``MDM_API_TOKEN`` (programs such as the onboarding system).
Without either it answers 401.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mdm.survivorship import ATTRIBUTES
from pipelines import audit, control
from pipelines.review.onboard import MatchRequest, MatchResponse, api_match
from pipelines.web import data
from pipelines.web.common import api_token_ok, check_csrf, may, render, user_of, web
from pipelines.web.review import live_about

AUDIT_LIMIT = 200


def routes(app: FastAPI) -> None:
    @app.get("/golden/{gid}", response_class=HTMLResponse)
    def golden_page(request: Request, gid: str, item: str = "", attribute: str = "") -> Response:
        user = user_of(request, "records")
        with web(request).reader.cursor() as con:
            g, moved = data.golden(con, gid[:40])
            if g is None:
                if moved:
                    return RedirectResponse(f"/golden/{moved}", status_code=303)
                raise HTTPException(404, f"no golden record {gid!r}")
            members = [data.visible_record(user.role, m) for m in data.members(con, gid)]
            lineage = [
                data.visible_record(user.role, {**r, r["attribute"]: r["value"]})
                | {"value": data.visible_record(user.role, {r["attribute"]: r["value"]})[r["attribute"]]}
                for r in data.lineage(con, gid)
            ]
            history = [data.visible_record(user.role, h) for h in data.history(con, gid)]
            tree = data.hierarchy(con, gid)
        reviewer = may(user, "review")
        return render(
            request,
            "golden.html",
            {
                "user": user,
                "g": data.visible_record(user.role, g),
                "fields": data.GOLDEN_FIELDS,
                "members": members,
                "lineage": lineage,
                "history": history,
                "tree": tree,
                "item": item,
                "attribute": attribute,
                "attributes": ATTRIBUTES,
                "can_override": may(user, "override"),
                "can_decide": may(user, "decide"),
                "live": live_about(request, {m["rid"] for m in members}, {gid}) if reviewer else [],
                "back": f"/golden/{gid}",
            },
        )

    @app.get("/search", response_class=HTMLResponse)
    def search_page(request: Request, q: str = "") -> HTMLResponse:
        user = user_of(request, "records")
        with web(request).reader.cursor() as con:
            found = [data.visible_record(user.role, r) for r in data.search(con, q)] if q.strip() else []
        return render(request, "search.html", {"user": user, "q": q[:200], "found": found})

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request, action: str = "", actor: str = "") -> HTMLResponse:
        user = user_of(request, "audit")
        con = control.connect(web(request).config.warehouse)
        try:
            entries = audit.entries(
                con, limit=AUDIT_LIMIT, action=action.strip()[:100] or None, actor=actor.strip()[:100] or None
            )
            check = audit.verify(con)
        finally:
            con.close()
        return render(
            request,
            "audit.html",
            {"user": user, "entries": entries, "check": check, "f": {"action": action, "actor": actor}},
        )

    @app.post(
        "/api/match", response_model=MatchResponse, tags=["onboarding"], summary="Do we already know this company?"
    )
    def match(request: Request, body: MatchRequest) -> MatchResponse:
        """The best golden records for a prospective customer, with probabilities and the explanation
        `mdm explain` gives. Authenticate with `Authorization: Bearer <MDM_API_TOKEN>` or a workbench
        session plus its `X-CSRF-Token` header."""
        if not api_token_ok(request):
            user_of(request, "records")
            check_csrf(request, request.headers.get("x-csrf-token"))
        return api_match(web(request).config, body)
