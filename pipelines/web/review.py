"""Review pages of the workbench: the queue, a pair, a cluster, decisions and ``Apply decisions``.

Decisions go through :func:`pipelines.review.store.record` (validation, attribution, audit) and the
queue through :func:`pipelines.review.queue.items`; nothing here re-implements them.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pandas as pd
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mdm import decisions as dm
from pipelines import audit, control
from pipelines.errors import MdmError
from pipelines.review import inputs, queue, store
from pipelines.web import data
from pipelines.web.common import check_csrf, flash, render, safe_next, user_of, web

KINDS = (dm.ITEM_PAIR, dm.ITEM_WEAK_CLUSTER, dm.ITEM_CONFLICT)
BANDS = ("match", "review", "non-match", "none")
PAGE = 200
_apply_lock = threading.Lock()


def _band(score: Any, match_t: float, review_t: float) -> str:
    if score is None or pd.isna(score):
        return "none"
    return "match" if score >= match_t else "review" if score >= review_t else "non-match"


def _sources(row: pd.Series) -> set[str]:
    found = {str(r).split(":", 1)[0] for r in (row["rid_a"], row["rid_b"]) if isinstance(r, str)}
    try:
        detail = json.loads(row["detail"]) if isinstance(row["detail"], str) else []
    except ValueError:
        detail = []
    for d in detail if isinstance(detail, list) else []:
        if isinstance(d, dict) and d.get("source"):
            found.add(str(d["source"]))
    return found


def open_items(request: Request) -> pd.DataFrame:
    """The open queue with a ``band`` and ``sources`` column."""
    cfg = web(request).config
    q = queue.items(cfg).copy()
    q["band"] = [_band(s, cfg.matching.match_threshold, cfg.matching.review_threshold) for s in q["score"]]
    q["sources"] = [sorted(_sources(r)) for _, r in q.iterrows()]
    return q


def filtered(q: pd.DataFrame, kind: str, source: str, band: str) -> pd.DataFrame:
    if source:
        q = q[[source in s for s in q["sources"]]]
    if band:
        q = q[q["band"] == band]
    if kind:
        q = q[q["kind"] == kind]
    return q


def item_url(item: dict[str, Any]) -> str:
    if item["kind"] == dm.ITEM_PAIR:
        return f"/pair?a={item['rid_a']}&b={item['rid_b']}&item={item['item_id']}"
    if item["kind"] == dm.ITEM_WEAK_CLUSTER:
        return f"/cluster/{item['golden_id']}?item={item['item_id']}"
    return f"/golden/{item['golden_id']}?item={item['item_id']}&attribute={item['attribute']}"


def _neighbours(request: Request, item_id: str | None) -> tuple[str | None, str | None]:
    """Links to the previous and next open item of the queue (j / k)."""
    if not item_id:
        return None, None
    ids = [dict(r) for _, r in open_items(request).iterrows()]
    pos = next((i for i, r in enumerate(ids) if r["item_id"] == item_id), None)
    if pos is None:
        return None, (item_url(ids[0]) if ids else None)
    prev = item_url(ids[pos - 1]) if pos > 0 else None
    nxt = item_url(ids[pos + 1]) if pos + 1 < len(ids) else None
    return prev, nxt


def live_about(request: Request, rids: set[str], gids: set[str]) -> list[dm.Decision]:
    """Live decisions naming one of these records or golden ids (for undo buttons)."""
    res = dm.resolve(inputs.all_decisions(web(request).config))
    return [d for d in res.live if {d.rid_a, d.rid_b} & rids or (d.golden_id and d.golden_id in gids)]


def routes(app: FastAPI) -> None:
    @app.get("/review", response_class=HTMLResponse)
    def review_queue(request: Request, kind: str = "", source: str = "", band: str = "") -> HTMLResponse:
        user = user_of(request, "review")
        q = open_items(request)
        all_sources = sorted({s for ss in q["sources"] for s in ss})
        base = filtered(q, "", source, band)
        counts = {k: int((base["kind"] == k).sum()) for k in KINDS}
        shown = filtered(q, kind, source, band)
        items = [dict(r) | {"url": item_url(dict(r))} for _, r in shown.head(PAGE).iterrows()]
        return render(
            request,
            "queue.html",
            {
                "user": user,
                "items": items,
                "total": len(q),
                "matching": len(shown),
                "counts": counts,
                "kinds": KINDS,
                "bands": BANDS,
                "sources": all_sources,
                "f": {"kind": kind, "source": source, "band": band},
            },
        )

    @app.get("/pair", response_class=HTMLResponse)
    def pair_page(request: Request, a: str, b: str, item: str = "") -> HTMLResponse:
        user = user_of(request, "review")
        with web(request).reader.cursor() as con:
            left, right = data.record(con, a[:300]), data.record(con, b[:300])
            if left is None or right is None:
                raise HTTPException(404, f"no published record {a if left is None else b!r}")
            p = data.pair(con, a, b)
            model = data.model(con)
        prev, nxt = _neighbours(request, item)
        fields = [(f, left.get(f), right.get(f)) for f in data.RECORD_FIELDS]
        return render(
            request,
            "pair.html",
            {
                "user": user,
                "a": data.visible_record(user.role, left),
                "b": data.visible_record(user.role, right),
                "fields": [
                    (f, data.visible_record(user.role, {f: x})[f], data.visible_record(user.role, {f: y})[f])
                    for f, x, y in fields
                ],
                "pair": p,
                "model": model,
                "item": item,
                "prev": prev,
                "next": nxt,
                "live": live_about(request, {a, b}, set()),
                "back": f"/pair?a={a}&b={b}&item={item}",
            },
        )

    @app.get("/cluster/{gid}", response_class=HTMLResponse)
    def cluster_page(request: Request, gid: str, item: str = "") -> HTMLResponse:
        user = user_of(request, "review")
        with web(request).reader.cursor() as con:
            g, moved = data.golden(con, gid[:40])
            if g is None:
                if moved:
                    return RedirectResponse(f"/cluster/{moved}", status_code=303)  # type: ignore[return-value]
                raise HTTPException(404, f"no golden record {gid!r}")
            members = [data.visible_record(user.role, m) for m in data.members(con, gid)]
            pairs = data.cluster_pairs(con, gid)
        prev, nxt = _neighbours(request, item)
        return render(
            request,
            "cluster.html",
            {
                "user": user,
                "g": data.visible_record(user.role, g),
                "members": members,
                "pairs": pairs,
                "fields": data.RECORD_FIELDS,
                "item": item,
                "prev": prev,
                "next": nxt,
                "live": live_about(request, {m["rid"] for m in members}, {gid}),
                "back": f"/cluster/{gid}?item={item}",
            },
        )

    @app.post("/decide")
    async def decide(request: Request) -> Response:
        form = {k: str(v)[:4000] for k, v in (await request.form()).items()}
        check_csrf(request, form.get("csrf"))
        kind = form.get("kind", "")
        user = user_of(request, "override" if kind == "override" else "decide")
        back = safe_next(form.get("next"), "/review")
        draft = _draft(kind, form, user.name)
        try:
            d = store.record(web(request).config, draft)
        except MdmError as e:
            flash(request, f"Decision refused: {e}", "error")
            return RedirectResponse(back, status_code=303)
        flash(
            request,
            f"Decision {d.id} recorded ({d.kind}) by {d.user} at {d.decided_at}. Apply decisions to publish it.",
        )
        go = form.get("then") if form.get("then") else back
        return RedirectResponse(safe_next(go, back), status_code=303)

    @app.post("/apply")
    async def apply(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, str(form.get("csrf") or ""))
        user = user_of(request, "apply")
        back = safe_next(str(form.get("next") or ""), "/review")
        if not _apply_lock.acquire(blocking=False):
            flash(request, "Decisions are being applied already; wait for it to finish.", "error")
            return RedirectResponse(back, status_code=303)
        try:
            from pipelines import runner

            summary = runner.apply_decisions(web(request).config)
        except MdmError as e:
            flash(request, f"Apply failed, the warehouse is unchanged: {e}", "error")
            return RedirectResponse(back, status_code=303)
        finally:
            _apply_lock.release()
        con = control.connect(web(request).config.warehouse)
        try:
            audit.record(
                con,
                user.name,
                "review.apply",
                summary.run_id,
                {"channel": "web", "golden_records": summary.golden_records},
            )
        finally:
            con.close()
        flash(request, f"Decisions applied: run {summary.run_id} published {summary.golden_records} golden records.")
        return RedirectResponse(back, status_code=303)


def _draft(kind: str, form: dict[str, str], user: str) -> store.Draft:
    reason, item = form.get("reason", ""), form.get("item") or None
    if kind in ("match", "no_match"):
        return store.Draft(
            kind=kind, reason=reason, user=user, rid_a=form.get("a"), rid_b=form.get("b"), item_id=item, origin="web"
        )
    if kind == "split":
        return store.Draft(kind=kind, reason=reason, user=user, rid_a=form.get("rid"), item_id=item, origin="web")
    if kind == "override":
        return store.Draft(
            kind=kind,
            reason=reason,
            user=user,
            golden_id=form.get("golden_id"),
            attribute=form.get("attribute"),
            value=form.get("value"),
            item_id=item,
            origin="web",
        )
    if kind == "undo":
        return store.Draft(kind=kind, reason=reason, user=user, target_id=form.get("target"), origin="web")
    raise HTTPException(400, f"unknown decision kind {kind[:40]!r}")
