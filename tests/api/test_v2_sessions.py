"""API sessions: sign-in by username or email, access tokens, refresh rotation and reuse, logout, the account's `me`,
password changes, and the admin portal of the v2 API document."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pinhole.db.models import SessionToken
from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.security.secrets import hash_token
from pinhole.security.tokens import AccessTokens
from pinhole.services import users
from pinhole.services.users import Status
from tests.api.signin import NEW_PASSWORD, PASSWORD, bearer, browser_login, error_code, login, make_user, with_cookie
from tests.conftest import ApiClient
from tests.security.clock import ManualClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limits": {"enabled": False}}


@pytest.fixture
async def alice(runtime: Runtime) -> None:
    await make_user(runtime, "alice", email="Alice@Example.com")


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("login", "alice"),
        ("login", "ALICE"),
        ("login", "  alice@example.com "),
        ("username", "Alice"),
        ("email", "ALICE@example.COM"),
    ],
)
async def test_sign_in_by_username_or_email_in_any_case(http: httpx.AsyncClient, field: str, value: str) -> None:
    response = await http.post("/v2/auth/login", json={field: value, "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["tokenType"] == "Bearer"
    assert tokens["expiresIn"] == 15 * 60
    assert tokens["refreshToken"].startswith("rt_")
    assert tokens["user"]["username"] == "alice"
    assert tokens["user"]["email"] == "alice@example.com"
    assert tokens["user"]["lastLoginAt"] is not None
    me = await http.get("/v2/auth/me", headers=bearer(tokens["accessToken"]))
    assert me.status_code == 200
    assert me.json()["id"] == tokens["user"]["id"]


@pytest.mark.usefixtures("alice")
async def test_wrong_password_and_unknown_account_get_the_same_401(http: httpx.AsyncClient) -> None:
    wrong = await http.post("/v2/auth/login", json={"login": "alice", "password": "not the password"})
    unknown = await http.post("/v2/auth/login", json={"login": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert error_code(wrong) == "unauthorized"


@pytest.mark.parametrize("status", [Status.INACTIVE, Status.SUSPENDED])
async def test_inactive_and_suspended_accounts_cannot_sign_in(
    http: httpx.AsyncClient, runtime: Runtime, status: Status
) -> None:
    user = await make_user(runtime)
    await users.set_status(runtime.db, user.id, status)
    refused = await http.post("/v2/auth/login", json={"login": "alice", "password": PASSWORD})
    assert refused.status_code == 401
    assert error_code(refused) == "unauthorized"
    browser = await http.post("/v2/auth/session", json={"login": "alice", "password": PASSWORD})
    assert browser.status_code == 401


async def test_suspending_an_account_stops_its_sessions(http: httpx.AsyncClient, runtime: Runtime) -> None:
    user = await make_user(runtime)
    tokens = await login(http)
    cookie, _ = await browser_login(http)
    await users.set_status(runtime.db, user.id, Status.SUSPENDED)
    assert (await http.get("/v2/auth/me", headers=bearer(tokens["accessToken"]))).status_code == 401
    assert (await http.get("/v2/auth/me", headers=with_cookie(cookie))).status_code == 401
    refresh = await http.post("/v2/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert refresh.status_code == 401
    # Suspension ends sessions for good: after reactivation the account signs in again.
    await users.set_status(runtime.db, user.id, Status.ACTIVE)
    assert (await http.get("/v2/auth/me", headers=bearer(tokens["accessToken"]))).status_code == 401
    fresh = await login(http)
    assert (await http.get("/v2/auth/me", headers=bearer(fresh["accessToken"]))).status_code == 200


async def test_me_needs_a_signed_in_account(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    assert (await http.get("/v2/auth/me")).status_code == 401
    assert (await http.get("/v2/auth/me", headers=tenant.headers("alice"))).status_code == 401
    garbage = await http.get("/v2/auth/me", headers=bearer("not.a.token"))
    assert garbage.status_code == 401
    assert error_code(garbage) == "session_expired"


@pytest.mark.usefixtures("alice")
async def test_an_expired_access_token_is_refused(http: httpx.AsyncClient, runtime: Runtime) -> None:
    clock = ManualClock()
    runtime.access_tokens = AccessTokens(runtime.secret, lifetime_seconds=60, clock=clock)
    tokens = await login(http)
    assert tokens["expiresIn"] == 60
    clock.advance(59)
    assert (await http.get("/v2/auth/me", headers=bearer(tokens["accessToken"]))).status_code == 200
    clock.advance(60)
    expired = await http.get("/v2/auth/me", headers=bearer(tokens["accessToken"]))
    assert expired.status_code == 401
    assert error_code(expired) == "session_expired"
    refreshed = (await http.post("/v2/auth/refresh", json={"refreshToken": tokens["refreshToken"]})).json()
    assert (await http.get("/v2/auth/me", headers=bearer(refreshed["accessToken"]))).status_code == 200


@pytest.mark.usefixtures("alice")
async def test_refresh_rotates_and_reusing_the_old_token_ends_the_session(http: httpx.AsyncClient) -> None:
    first = await login(http)
    response = await http.post("/v2/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["refreshToken"] != first["refreshToken"]
    assert second["user"]["username"] == "alice"
    assert (await http.get("/v2/auth/me", headers=bearer(second["accessToken"]))).status_code == 200

    reused = await http.post("/v2/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert reused.status_code == 401
    assert error_code(reused) == "token_reused"
    # The whole session is dead: the newest access and refresh tokens too.
    assert (await http.get("/v2/auth/me", headers=bearer(second["accessToken"]))).status_code == 401
    after = await http.post("/v2/auth/refresh", json={"refreshToken": second["refreshToken"]})
    assert after.status_code == 401


@pytest.mark.usefixtures("alice")
async def test_refresh_refuses_tokens_that_are_not_refresh_tokens(http: httpx.AsyncClient) -> None:
    tokens = await login(http)
    cookie, _ = await browser_login(http)
    for token in (tokens["accessToken"], cookie, "rt_made-up", ""):
        response = await http.post("/v2/auth/refresh", json={"refreshToken": token})
        assert response.status_code in (400, 401), token
    assert (await http.post("/v2/auth/refresh", json={"refreshToken": tokens["refreshToken"]})).status_code == 200


async def test_only_a_hash_of_the_refresh_token_is_stored(http: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_user(runtime)
    tokens = await login(http)
    async with runtime.db.reader() as session:
        stored = list(await session.scalars(select(SessionToken.token_hash)))
    assert stored == [hash_token(tokens["refreshToken"])]


@pytest.mark.usefixtures("alice")
async def test_logout_by_refresh_token_ends_the_session(http: httpx.AsyncClient) -> None:
    tokens = await login(http)
    expired_bearer = bearer("eyJ.expired.token")
    out = await http.post("/v2/auth/logout", json={"refreshToken": tokens["refreshToken"]}, headers=expired_bearer)
    assert out.status_code == 204
    assert (await http.get("/v2/auth/me", headers=bearer(tokens["accessToken"]))).status_code == 401
    refresh = await http.post("/v2/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert refresh.status_code == 401
    unknown = await http.post("/v2/auth/logout", json={"refreshToken": "rt_unknown"})
    assert unknown.status_code == 204


@pytest.mark.usefixtures("alice")
async def test_logout_by_bearer_ends_only_its_own_session(http: httpx.AsyncClient) -> None:
    phone, laptop = await login(http), await login(http)
    assert (await http.post("/v2/auth/logout", headers=bearer(phone["accessToken"]))).status_code == 204
    assert (await http.get("/v2/auth/me", headers=bearer(phone["accessToken"]))).status_code == 401
    assert (await http.post("/v2/auth/refresh", json={"refreshToken": phone["refreshToken"]})).status_code == 401
    assert (await http.get("/v2/auth/me", headers=bearer(laptop["accessToken"]))).status_code == 200
    nobody = await http.post("/v2/auth/logout")
    assert nobody.status_code == 401


@pytest.mark.usefixtures("alice")
async def test_change_password_ends_every_other_session(http: httpx.AsyncClient) -> None:
    here, elsewhere = await login(http), await login(http)
    cookie, _ = await browser_login(http)
    changed = await http.post(
        "/v2/auth/me/change-password",
        json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=bearer(here["accessToken"]),
    )
    assert changed.status_code == 204, changed.text
    assert (await http.get("/v2/auth/me", headers=bearer(here["accessToken"]))).status_code == 200
    assert (await http.post("/v2/auth/refresh", json={"refreshToken": here["refreshToken"]})).status_code == 200
    assert (await http.get("/v2/auth/me", headers=bearer(elsewhere["accessToken"]))).status_code == 401
    assert (await http.post("/v2/auth/refresh", json={"refreshToken": elsewhere["refreshToken"]})).status_code == 401
    assert (await http.get("/v2/auth/me", headers=with_cookie(cookie))).status_code == 401
    await login(http, password=PASSWORD, expect=401)
    await login(http, password=NEW_PASSWORD)


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize(
    "new_password", ["short", "password1234", "alice@example.com"], ids=["too-short", "common", "own-email"]
)
async def test_change_password_enforces_the_policy(http: httpx.AsyncClient, new_password: str) -> None:
    here, elsewhere = await login(http), await login(http)
    refused = await http.post(
        "/v2/auth/me/change-password",
        json={"currentPassword": PASSWORD, "newPassword": new_password},
        headers=bearer(here["accessToken"]),
    )
    assert refused.status_code == 400
    assert error_code(refused) == "weak_password"
    assert refused.json()["error"]["field"] == "password"
    assert (await http.get("/v2/auth/me", headers=bearer(elsewhere["accessToken"]))).status_code == 200
    await login(http, password=PASSWORD)


@pytest.mark.usefixtures("alice")
async def test_change_password_needs_the_current_password(http: httpx.AsyncClient) -> None:
    tokens = await login(http)
    refused = await http.post(
        "/v2/auth/me/change-password",
        json={"currentPassword": "a wrong guess", "newPassword": NEW_PASSWORD},
        headers=bearer(tokens["accessToken"]),
    )
    assert refused.status_code == 401
    assert refused.json()["error"]["field"] == "currentPassword"
    await login(http, password=PASSWORD)


async def test_update_profile(http: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_user(runtime, "alice")
    await make_user(runtime, "bob")
    auth = bearer((await login(http))["accessToken"])
    change = {"displayName": " Alice A. ", "email": "A@Example.org"}
    updated = await http.patch("/v2/auth/me", json=change, headers=auth)
    assert updated.status_code == 200, updated.text
    assert updated.json()["displayName"] == "Alice A."
    assert updated.json()["email"] == "a@example.org"
    await login(http, "a@example.org")
    taken = await http.patch("/v2/auth/me", json={"email": "bob@example.com"}, headers=auth)
    assert taken.status_code == 409
    invalid = await http.patch("/v2/auth/me", json={"email": "not an email"}, headers=auth)
    assert invalid.status_code == 400
    unknown_field = await http.patch("/v2/auth/me", json={"role": "admin"}, headers=auth)
    assert unknown_field.status_code == 400
    assert (await http.get("/v2/auth/me", headers=auth)).json()["role"] == "user"


async def test_login_body_must_name_the_account_and_be_json(http: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_user(runtime)
    assert (await http.post("/v2/auth/login", json={"password": PASSWORD})).status_code == 400
    assert (await http.post("/v2/auth/login", json={"login": " ", "password": PASSWORD})).status_code == 400
    # A cross-site form can send text/plain or form bodies without a CORS preflight; neither signs in.
    body = json.dumps({"login": "alice", "password": PASSWORD})
    as_text = await http.post("/v2/auth/login", content=body, headers={"Content-Type": "text/plain"})
    assert as_text.status_code == 400
    as_form = await http.post("/v2/auth/session", data={"login": "alice", "password": PASSWORD})
    assert as_form.status_code == 400


async def test_admin_portal_signs_in_admins_only(http: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_user(runtime, "root", role=Role.ADMIN)
    await make_user(runtime, "alice")
    admin = await login(http, "root", path="/v2/admin/auth/login")
    assert admin["user"]["role"] == "admin"
    assert (await http.get("/v2/admin/auth/me", headers=bearer(admin["accessToken"]))).status_code == 200

    refused = await http.post("/v2/admin/auth/login", json={"login": "alice", "password": PASSWORD})
    assert refused.status_code == 403
    assert error_code(refused) == "forbidden"
    wrong = await http.post("/v2/admin/auth/login", json={"login": "alice", "password": "wrong password"})
    assert wrong.status_code == 401
    user_tokens = await login(http, "alice")
    assert (await http.get("/v2/admin/auth/me", headers=bearer(user_tokens["accessToken"]))).status_code == 403
    patch = await http.patch("/v2/admin/auth/me", json={"displayName": "x"}, headers=bearer(user_tokens["accessToken"]))
    assert patch.status_code == 403
    refresh = await http.post("/v2/admin/auth/refresh", json={"refreshToken": user_tokens["refreshToken"]})
    assert refresh.status_code == 403
    # Refused before rotating: the token still works where it belongs.
    assert (await http.post("/v2/auth/refresh", json={"refreshToken": user_tokens["refreshToken"]})).status_code == 200


async def test_admin_portal_endpoints_of_the_v2_document(http: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_user(runtime, "root", role=Role.ADMIN)
    first = await login(http, "root@example.com", path="/v2/admin/auth/login", field="email")
    refreshed = await http.post("/v2/admin/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    auth = bearer(refreshed.json()["accessToken"])
    me = await http.get("/v2/admin/auth/me", headers=auth)
    assert me.json()["username"] == "root"
    patched = await http.patch("/v2/admin/auth/me", json={"displayName": "The Admin"}, headers=auth)
    assert patched.json()["displayName"] == "The Admin"
    changed = await http.post(
        "/v2/admin/auth/me/change-password",
        json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=auth,
    )
    assert changed.status_code == 204
    assert (await http.post("/v2/admin/auth/logout", headers=auth)).status_code == 204
    assert (await http.get("/v2/admin/auth/me", headers=auth)).status_code == 401
    await login(http, "root", NEW_PASSWORD, path="/v2/admin/auth/login")


async def test_demoted_admin_cannot_refresh_in_the_portal(http: httpx.AsyncClient, runtime: Runtime) -> None:
    root = await make_user(runtime, "root", role=Role.ADMIN)
    tokens = await login(http, "root", path="/v2/admin/auth/login")
    await users.set_role(runtime.db, root.id, Role.USER)
    assert (await http.get("/v2/admin/auth/me", headers=bearer(tokens["accessToken"]))).status_code == 403
    refresh = await http.post("/v2/admin/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert refresh.status_code == 403


async def test_tokens_and_passwords_stay_out_of_the_log(
    http: httpx.AsyncClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    await make_user(runtime)
    caplog.set_level(logging.DEBUG)
    tokens = await login(http)
    await http.post("/v2/auth/login", json={"login": "alice", "password": "a wrong guess"})
    refreshed = (await http.post("/v2/auth/refresh", json={"refreshToken": tokens["refreshToken"]})).json()
    await http.post(
        "/v2/auth/me/change-password",
        json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=bearer(refreshed["accessToken"]),
    )
    secrets = [PASSWORD, NEW_PASSWORD, "a wrong guess", tokens["refreshToken"], refreshed["refreshToken"]]
    secrets += [tokens["accessToken"], refreshed["accessToken"]]
    assert not [secret for secret in secrets if secret in caplog.text]
