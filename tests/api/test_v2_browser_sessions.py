"""Browser sessions: cookie flags on plain HTTP and behind proxies, CSRF on changing requests, rotation, logout."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pinhole.runtime import Runtime
from tests.api.signin import (
    LAN_PEER,
    PASSWORD,
    browser_login,
    client_at,
    error_code,
    make_user,
    session_cookie,
    with_cookie,
)

pytestmark = pytest.mark.anyio

PROXY_PEER = ("10.0.0.2", 40000)
LOGIN = {"login": "alice", "password": PASSWORD}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limits": {"enabled": False}, "server": {"trusted_proxies": ["10.0.0.0/8"]}}


@pytest.fixture(autouse=True)
async def alice(runtime: Runtime) -> None:
    await make_user(runtime, "alice")


async def test_cookie_on_plain_http_from_a_lan_peer_is_not_secure(app: FastAPI) -> None:
    async with client_at(app, LAN_PEER) as lan:
        response = await lan.post("/v2/auth/session", json=LOGIN)
    assert response.status_code == 200, response.text
    cookie = session_cookie(response)
    assert cookie.value.startswith("bs_")
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(14 * 86400)
    assert not cookie["secure"]
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["user"]["username"] == "alice"
    assert body["csrfToken"]


@pytest.mark.parametrize(
    ("peer", "headers", "base_url", "secure"),
    [
        pytest.param(PROXY_PEER, {"X-Forwarded-Proto": "https"}, "http://testserver", True, id="trusted-proxy-https"),
        pytest.param(PROXY_PEER, {"X-Forwarded-Proto": "http"}, "http://testserver", False, id="trusted-proxy-http"),
        pytest.param(PROXY_PEER, {}, "http://testserver", False, id="trusted-proxy-no-header"),
        pytest.param(LAN_PEER, {"X-Forwarded-Proto": "https"}, "http://testserver", False, id="untrusted-peer-claims"),
        pytest.param(LAN_PEER, {}, "https://testserver", True, id="direct-https"),
    ],
)
async def test_cookie_is_secure_exactly_when_the_request_came_over_https(
    app: FastAPI, peer: tuple[str, int], headers: dict[str, str], base_url: str, secure: bool
) -> None:
    async with client_at(app, peer, base_url=base_url) as client:
        response = await client.post("/v2/auth/session", json=LOGIN, headers=headers)
        assert response.status_code == 200, response.text
        assert bool(session_cookie(response)["secure"]) is secure
        csrf = response.json()["csrfToken"]
        cookie = session_cookie(response).value
        client.cookies.clear()
        out = await client.delete("/v2/auth/session", headers={**headers, **with_cookie(cookie, csrf)})
    assert out.status_code == 204
    assert bool(session_cookie(out)["secure"]) is secure


async def test_a_cookie_signs_in_reads_without_csrf(http: httpx.AsyncClient) -> None:
    cookie, csrf = await browser_login(http)
    me = await http.get("/v2/auth/me", headers=with_cookie(cookie))
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    again = await http.get("/v2/auth/session", headers=with_cookie(cookie))
    assert again.status_code == 200
    assert again.json()["csrfToken"] == csrf
    assert again.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("csrf", [None, "", "wrong-token"], ids=["missing", "empty", "wrong"])
async def test_state_changing_cookie_requests_need_the_csrf_token(http: httpx.AsyncClient, csrf: str | None) -> None:
    cookie, right = await browser_login(http)
    refused = [
        await http.patch("/v2/auth/me", json={"displayName": "Mallory"}, headers=with_cookie(cookie, csrf)),
        await http.post("/v2/auth/session/refresh", headers=with_cookie(cookie, csrf)),
        await http.delete("/v2/auth/session", headers=with_cookie(cookie, csrf)),
        await http.post(
            "/v2/auth/me/change-password",
            json={"currentPassword": PASSWORD, "newPassword": "staple purple giraffe"},
            headers=with_cookie(cookie, csrf),
        ),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert {error_code(r) for r in refused} == {"csrf_failed"}
    # Nothing happened: the session lives, the name is unchanged.
    me = await http.get("/v2/auth/me", headers=with_cookie(cookie))
    assert me.json()["displayName"] == "alice"
    accepted = await http.patch("/v2/auth/me", json={"displayName": "Alice"}, headers=with_cookie(cookie, right))
    assert accepted.status_code == 200
    assert accepted.json()["displayName"] == "Alice"


async def test_the_csrf_token_of_another_session_is_refused(http: httpx.AsyncClient) -> None:
    mine, _ = await browser_login(http)
    _, theirs = await browser_login(http)
    refused = await http.patch("/v2/auth/me", json={"displayName": "x"}, headers=with_cookie(mine, theirs))
    assert refused.status_code == 403


async def test_refresh_rotates_the_cookie_and_the_csrf_token(http: httpx.AsyncClient) -> None:
    cookie, csrf = await browser_login(http)
    response = await http.post("/v2/auth/session/refresh", headers=with_cookie(cookie, csrf))
    assert response.status_code == 200, response.text
    http.cookies.clear()
    new_cookie, new_csrf = session_cookie(response).value, response.json()["csrfToken"]
    assert new_cookie != cookie
    assert new_csrf != csrf
    assert session_cookie(response)["httponly"] is True
    # The old pair no longer opens anything; the new pair does.
    assert (await http.get("/v2/auth/me", headers=with_cookie(cookie))).status_code == 401
    stale = await http.patch("/v2/auth/me", json={"displayName": "x"}, headers=with_cookie(new_cookie, csrf))
    assert stale.status_code == 403
    fresh = await http.patch("/v2/auth/me", json={"displayName": "Al"}, headers=with_cookie(new_cookie, new_csrf))
    assert fresh.status_code == 200


async def test_reusing_a_rotated_cookie_ends_the_session(http: httpx.AsyncClient) -> None:
    cookie, csrf = await browser_login(http)
    rotated = await http.post("/v2/auth/session/refresh", headers=with_cookie(cookie, csrf))
    http.cookies.clear()
    new_cookie = session_cookie(rotated).value
    reused = await http.post("/v2/auth/session/refresh", headers=with_cookie(cookie, csrf))
    assert reused.status_code == 401
    assert error_code(reused) == "token_reused"
    assert (await http.get("/v2/auth/session", headers=with_cookie(new_cookie))).status_code == 401


async def test_logout_ends_the_session_and_clears_the_cookie(http: httpx.AsyncClient) -> None:
    cookie, csrf = await browser_login(http)
    out = await http.delete("/v2/auth/session", headers=with_cookie(cookie, csrf))
    assert out.status_code == 204
    cleared = session_cookie(out)
    assert cleared.value == ""
    assert cleared["max-age"] == "0"
    assert cleared["path"] == "/"
    gone = await http.get("/v2/auth/session", headers=with_cookie(cookie))
    assert gone.status_code == 401
    assert error_code(gone) == "session_expired"
    assert (await http.get("/v2/auth/me", headers=with_cookie(cookie))).status_code == 401
    assert (await http.delete("/v2/auth/session")).status_code == 204


async def test_signing_in_again_ends_the_browsers_previous_session(http: httpx.AsyncClient) -> None:
    old, _ = await browser_login(http)
    again = await http.post("/v2/auth/session", json=LOGIN, headers=with_cookie(old))
    assert again.status_code == 200
    http.cookies.clear()
    assert (await http.get("/v2/auth/me", headers=with_cookie(old))).status_code == 401
    assert (await http.get("/v2/auth/me", headers=with_cookie(session_cookie(again).value))).status_code == 200


async def test_a_stale_cookie_is_ignored_where_no_account_is_needed(http: httpx.AsyncClient) -> None:
    response = await http.get("/v2/status", headers=with_cookie("bs_stale"))
    assert response.status_code == 200
    assert (await http.get("/v2/auth/session", headers=with_cookie("bs_stale"))).status_code == 401
    assert (await http.get("/v2/auth/session")).status_code == 401


async def test_a_cookie_is_not_an_access_token(http: httpx.AsyncClient) -> None:
    cookie, _ = await browser_login(http)
    as_bearer = await http.get("/v2/auth/me", headers={"Authorization": f"Bearer {cookie}"})
    assert as_bearer.status_code == 401
