"""The workbench through FastAPI's TestClient on a generated sample: sign-in, lockout, CSRF, roles,
cookies, every page, decisions and the match API."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from pipelines import audit, control, users
from pipelines.config import load_config
from pipelines.review import inputs, queue
from pipelines.web import create_app
from pipelines.web.security import COOKIE, RateLimiter
from tests.pipelines.web.conftest import PASSWORD, copy_warehouse, csrf_of, sign_in

TOKEN = "test-api-token-0123456789"


@pytest.fixture(scope="module")
def cfg(web_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_warehouse(web_sample, tmp_path_factory.mktemp("web-client"))


@pytest.fixture
def app(cfg: Path):
    return create_app(load_config(cfg), api_token=TOKEN)


def client_as(app, name: str, base_url: str = "http://testserver") -> TestClient:
    c = TestClient(app, base_url=base_url)
    assert sign_in(c, name).status_code == 303
    return c


def audit_actions(cfg: Path, action: str) -> list[audit.Entry]:
    con = control.connect(load_config(cfg).warehouse)
    try:
        return audit.entries(con, limit=1000, action=action)
    finally:
        con.close()


def published(cfg: Path, sql: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(load_config(cfg).warehouse / "mdm.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


# --- sign-in, sessions, CSRF, lockout ----------------------------------------------------------------


def test_wrong_password_is_refused_and_audited(app, cfg: Path) -> None:
    c = TestClient(app)
    before = len(audit_actions(cfg, "sign_in.failure"))
    r = sign_in(c, "stew", "not the password at all")
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    assert c.get("/review", follow_redirects=False).headers["location"].startswith("/signin")
    failures = audit_actions(cfg, "sign_in.failure")
    assert len(failures) == before + 1 and failures[0].detail["channel"] == "web"


def test_lockout_per_user_then_per_address(app, cfg: Path) -> None:
    app.state.web.limiter = RateLimiter(max_user=3, max_address=5)
    c = TestClient(app)
    for _ in range(3):
        assert sign_in(c, "eng", "wrong password here").status_code == 401
    r = sign_in(c, "eng")  # the right password, but the name is locked out
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text
    assert audit_actions(cfg, "sign_in.locked")[0].subject == "eng"
    assert sign_in(c, "stew").status_code == 303  # another name from the same address still may (3 < 5)
    for name in ("ana", "aud"):
        sign_in(c, name, "wrong password here")
    assert sign_in(c, "aud").status_code == 429  # the address reached 5 failures: locked for every name


def test_post_without_or_with_a_foreign_csrf_token_is_refused(app, cfg: Path) -> None:
    c = TestClient(app)
    r = c.post("/signin", data={"name": "stew", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403 and "security token" in r.text
    assert c.get("/review", follow_redirects=False).headers["location"].startswith("/signin")  # not signed in
    s = client_as(app, "stew")
    other = TestClient(app)
    foreign = csrf_of(other.get("/signin").text)
    item = queue.items(load_config(cfg), kind="pair").iloc[0]
    before = len(inputs.all_decisions(load_config(cfg)))
    r = s.post(
        "/decide",
        data={
            "csrf": foreign,
            "kind": "match",
            "a": item.rid_a,
            "b": item.rid_b,
            "reason": "csrf test",
            "next": "/review",
        },
        follow_redirects=False,
    )
    assert r.status_code == 403 and "security token" in r.text
    assert len(inputs.all_decisions(load_config(cfg))) == before


def test_session_cookie_flags(app) -> None:
    r = sign_in(TestClient(app), "stew")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    r = sign_in(TestClient(app, base_url="https://testserver"), "stew")
    assert "; secure" in r.headers["set-cookie"].lower()


def test_forged_or_tampered_session_is_anonymous(app) -> None:
    c = client_as(app, "stew")
    value = c.cookies.get(COOKIE)
    c.cookies.set(COOKIE, value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert c.get("/review", follow_redirects=False).status_code == 303


def test_a_disabled_user_loses_the_session(app, cfg: Path) -> None:
    con = control.connect(load_config(cfg).warehouse)
    users.add_user(con, "temp", PASSWORD, "steward")
    c = client_as(app, "temp")
    assert c.get("/review").status_code == 200
    users.disable(con, "temp")
    con.close()
    assert c.get("/review", follow_redirects=False).headers["location"].startswith("/signin")


@pytest.mark.parametrize(
    ("name", "url", "method"),
    [
        ("ana", "/review", "get"),
        ("aud", "/golden/X", "get"),
        ("aud", "/review", "get"),
        ("stew", "/audit", "get"),
        ("ana", "/search?q=x", None),
        ("ana", "/apply", "post"),
        ("aud", "/apply", "post"),
        ("eng", "/decide", "post"),
    ],
)
def test_roles(app, name: str, url: str, method: str | None) -> None:
    c = client_as(app, name)
    if method is None:  # allowed
        assert c.get(url).status_code == 200
    elif method == "get":
        r = c.get(url)
        assert r.status_code == 403 and "may not use this page" in r.text
    else:
        token = csrf_of(c.get("/signin").text)
        r = c.post(url, data={"csrf": token, "kind": "match", "a": "x:1", "b": "x:2", "reason": "r"})
        assert r.status_code == 403


def test_auditor_sees_the_verified_audit_log(app) -> None:
    r = client_as(app, "aud").get("/audit?action=sign_in")
    assert r.status_code == 200 and "verified" in r.text and "sign_in.success" in r.text
    assert "Review queue" not in r.text


# --- pages --------------------------------------------------------------------------------------------


def test_queue_counts_and_filters(app, cfg: Path) -> None:
    c = client_as(app, "stew")
    q = queue.items(load_config(cfg))
    page = c.get("/review").text
    assert f"{len(q)} open items" in page
    for kind in ("pair", "conflict", "weak_cluster"):
        n = int((q["kind"] == kind).sum())
        assert f">{kind}</a> <b>{n}</b>" in page
        assert f"{n} shown with these filters" in c.get(f"/review?kind={kind}").text
    crm = sum(1 for _, r in q.iterrows() if "crm" in (r.rid_a or "") + (r.rid_b or "") + (r.detail or ""))
    assert f"{crm} shown" in c.get("/review?source=crm").text
    t = load_config(cfg).matching
    high = int((q["score"] >= t.match_threshold).sum())
    review = int(((q["score"] >= t.review_threshold) & (q["score"] < t.match_threshold)).sum())
    assert f"{high} shown" in c.get("/review?band=match").text
    assert f"{review} shown" in c.get("/review?band=review").text
    assert f"{int(q['score'].isna().sum())} shown" in c.get("/review?band=none").text


def test_pair_page_shows_fields_contributions_and_lineage(app, cfg: Path) -> None:
    item = queue.items(load_config(cfg), kind="pair").iloc[0]
    page = client_as(app, "stew").get(f"/pair?a={item.rid_a}&b={item.rid_b}&item={item.item_id}").text
    ((contrib, score, a_file, a_line),) = published(
        cfg,
        "SELECT p.contributions, p.score, r.src_file, r.src_line FROM match_pair p JOIN organization_record r "
        "ON r.rid = p.rid_a WHERE p.rid_a = $a AND p.rid_b = $b",
        {"a": item.rid_a, "b": item.rid_b},
    )
    assert f"{score:.3f}" in page
    for feature, v in json.loads(contrib).items():
        if isinstance(v, dict):
            assert f"<td>{feature}</td><td>{v['level']}</td>" in page and f"{v['weight']:+.2f}" in page
    assert f"{Path(a_file).name} line {a_line}" in page
    assert 'id="btn-match"' in page and 'name="reason"' in page and "required" in page


def test_cluster_golden_and_search_pages(app, cfg: Path) -> None:
    c = client_as(app, "stew")
    ((gid, name, lei, n),) = published(
        cfg,
        "SELECT golden_id, legal_name, lei, record_count FROM golden_organization "
        "WHERE lei IS NOT NULL ORDER BY record_count DESC, golden_id LIMIT 1",
    )
    cluster = c.get(f"/cluster/{gid}").text
    rids = [r for (r,) in published(cfg, "SELECT rid FROM xref WHERE golden_id = $g", {"g": gid})]
    assert len(rids) == n and all(r in cluster for r in rids)
    page = c.get(f"/golden/{gid}").text
    lineage = published(cfg, "SELECT count(*) FROM golden_attribute_lineage WHERE golden_id = $g", {"g": gid})[0][0]
    assert page.split('id="lineage"')[1].split("</table>")[0].count("<tr>") == lineage + 1
    assert 'id="history"' in page and 'id="hierarchy"' in page
    for q in (lei.lower(), name):
        assert f"/golden/{gid}" in c.get("/search", params={"q": q}).text


def test_search_finds_a_chinese_name_written_in_traditional_characters(app, cfg: Path) -> None:
    ((gid, name),) = published(
        cfg,
        "SELECT golden_id, legal_name FROM golden_organization "
        "WHERE legal_name LIKE '%服饰%' ORDER BY golden_id LIMIT 1",
    )
    page = client_as(app, "ana").get("/search", params={"q": name.replace("服饰", "服飾")}).text
    assert f"/golden/{gid}" in page


def test_analyst_sees_personal_data_masked(app, cfg: Path) -> None:
    ((gid, phone),) = published(
        cfg, "SELECT golden_id, phone FROM golden_organization WHERE phone IS NOT NULL ORDER BY golden_id LIMIT 1"
    )
    from pipelines.config import load_config
    from pipelines.crypto import cipher_for

    clear = cipher_for(load_config(cfg, check_files=False), create=False).decrypt_text(phone)
    assert phone.startswith("enc:v1:") and clear and not clear.startswith("enc:")  # stored encrypted
    assert clear in client_as(app, "stew").get(f"/golden/{gid}").text  # stewards read it in clear
    page = client_as(app, "ana").get(f"/golden/{gid}").text
    # analysts see the token the analyst views show: neither the clear value nor the ciphertext
    assert clear not in page and phone not in page and "tok:" in page and "Override" not in page


def test_refused_decision_shows_the_clear_error(app, cfg: Path) -> None:
    c = client_as(app, "stew")
    token = csrf_of(c.get("/review").text)
    r = c.post(
        "/decide",
        data={
            "csrf": token,
            "kind": "match",
            "a": "crm:NO-SUCH-ID",
            "b": "gleif:NOPE",
            "reason": "test",
            "next": "/review",
        },
    )
    assert r.status_code == 200 and "Decision refused" in r.text and "NO-SUCH-ID" in r.text
    r = c.post(
        "/decide", data={"csrf": token, "kind": "match", "a": "crm:1", "b": "crm:2", "reason": " ", "next": "/review"}
    )
    assert "Decision refused" in r.text


def test_decision_is_attributed_to_the_signed_in_user(app, cfg: Path) -> None:
    c = client_as(app, "stew")
    item = queue.items(load_config(cfg), kind="pair").iloc[-1]
    token = csrf_of(c.get("/review").text)
    r = c.post(
        "/decide",
        data={
            "csrf": token,
            "kind": "no_match",
            "a": item.rid_a,
            "b": item.rid_b,
            "item": item.item_id,
            "reason": "different companies",
            "next": "/review",
        },
    )
    assert r.status_code == 200 and "recorded (no_match) by stew" in r.text
    d = inputs.all_decisions(load_config(cfg))[-1]
    assert (d.kind, d.user, d.reason, d.origin, {d.rid_a, d.rid_b}) == (
        "no_match",
        "stew",
        "different companies",
        "web",
        {item.rid_a, item.rid_b},
    )
    assert item.item_id not in set(queue.items(load_config(cfg))["item_id"])
    assert audit_actions(cfg, "review.decide")[0].actor == "stew"


# --- the match API ------------------------------------------------------------------------------------


def test_match_api_needs_a_token_or_a_session(app, cfg: Path) -> None:
    ((name, lei, gid),) = published(
        cfg,
        "SELECT legal_name, lei, golden_id FROM golden_organization WHERE lei IS NOT NULL ORDER BY golden_id LIMIT 1",
    )
    body = {"name": name, "lei": lei}
    anon = TestClient(app)
    assert anon.post("/api/match", json=body).status_code == 401
    assert anon.post("/api/match", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = anon.post("/api/match", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json()["candidates"][0]["golden_id"] == gid
    s = client_as(app, "ana")
    assert s.post("/api/match", json=body).status_code == 403  # a session must send its CSRF header
    token = csrf_of(s.get("/search").text)
    assert s.post("/api/match", json=body, headers={"X-CSRF-Token": token}).status_code == 200
    assert client_as(app, "aud").post("/api/match", json=body, headers={"X-CSRF-Token": token}).status_code == 403
    assert "/api/match" in anon.get("/openapi.json").json()["paths"]
    assert anon.get("/docs").status_code == 200
