"""Signing in and out of the web app: cookies, messages for every refusal, the pre-session form token, sign-up."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pinhole.runtime import Runtime
from pinhole.services import users
from pinhole.services.users import Status
from tests.api.accounthelpers import PASSWORD, Account
from tests.web.webhelpers import Browser, hidden, sign_in

pytestmark = pytest.mark.anyio


async def test_pages_need_a_session_and_send_to_sign_in(http: httpx.AsyncClient) -> None:
    for path in ("/images", "/account", "/images/00000000-0000-4000-8000-000000000000"):
        response = await http.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"
    home = await http.get("/")
    assert (home.status_code, home.headers["location"]) == (303, "/login")
    assert (await http.get("/upload")).headers["location"] == "/login?next=/upload"


async def test_sign_in_sets_the_session_cookie_and_goes_to_next(http: httpx.AsyncClient, alice: Account) -> None:
    page = await http.get("/login?next=/account")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    response = await http.post(
        "/login", data={"csrf": hidden(page.text), "login": alice.email, "password": PASSWORD, "next": "/account"}
    )
    assert (response.status_code, response.headers["location"]) == (303, "/account")
    cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("pinhole_session="))
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain HTTP on a LAN
    account = await http.get("/account")
    assert account.status_code == 200
    assert "Signed in as <strong>alice</strong>" in account.text


async def test_sign_in_behind_a_tls_proxy_sets_a_secure_cookie(http: httpx.AsyncClient, alice: Account) -> None:
    page = await http.get("/login")
    response = await http.post(
        "/login",
        data={"csrf": hidden(page.text), "login": "alice", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},  # the test client's address, 127.0.0.1, is a trusted proxy
    )
    assert response.status_code == 303
    assert any("Secure" in value for value in response.headers.get_list("set-cookie") if "pinhole_session" in value)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
async def test_next_never_leaves_the_site(http: httpx.AsyncClient, alice: Account, target: str) -> None:
    page = await http.get("/login")
    response = await http.post(
        "/login", data={"csrf": hidden(page.text), "login": "alice", "password": PASSWORD, "next": target}
    )
    assert response.headers["location"] == "/images"


async def test_wrong_password_says_so(http: httpx.AsyncClient, alice: Account) -> None:
    response = await sign_in(http, "alice", "not the password")
    assert response.status_code == 401
    assert "Wrong username, email or password." in response.text
    assert 'value="alice"' in response.text  # the login is kept, the password is not
    assert "pinhole_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(("status", "word"), [(Status.SUSPENDED, "suspended"), (Status.INACTIVE, "not active")])
async def test_inactive_accounts_are_named_to_whoever_knows_the_password(
    http: httpx.AsyncClient, runtime: Runtime, alice: Account, status: Status, word: str
) -> None:
    await users.set_status(runtime.db, alice.id, status)
    right = await sign_in(http, "alice", PASSWORD)
    assert right.status_code == 403
    assert f"This account is {word}" in right.text
    wrong = await sign_in(http, "alice", "not the password")
    assert wrong.status_code == 401
    assert word not in wrong.text


@pytest.mark.parametrize("settings_overrides", [{"accounts": {"login_account_threshold": 2}}])
async def test_back_off_says_how_long_to_wait(http: httpx.AsyncClient, alice: Account) -> None:
    for _ in range(2):
        assert (await sign_in(http, "alice", "wrong password!")).status_code == 401
    locked = await sign_in(http, "alice", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts. Try again in" in locked.text
    assert int(locked.headers["retry-after"]) >= 1


async def test_sign_in_form_needs_its_token(http: httpx.AsyncClient, alice: Account) -> None:
    await http.get("/login")
    response = await http.post("/login", data={"csrf": "forged", "login": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert "form had expired" in response.text
    fresh = httpx.AsyncClient(transport=http._transport, base_url="http://testserver")  # no form cookie at all
    async with fresh:
        response = await fresh.post("/login", data={"csrf": "", "login": "alice", "password": PASSWORD})
    assert response.status_code == 403


async def test_sign_out_needs_the_csrf_token_and_ends_the_session(http: httpx.AsyncClient, signed_in: Browser) -> None:
    refused = await http.post("/logout", data={"csrf": "wrong"})
    assert refused.status_code == 403
    assert (await http.get("/account")).status_code == 200
    response = await signed_in.post_form("/logout")
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert (await http.get("/account")).status_code == 303
    assert "You are signed out." in (await http.get("/login")).text


async def test_sign_up_is_off_by_default(http: httpx.AsyncClient) -> None:
    assert (await http.get("/signup")).status_code == 404
    assert (await http.post("/signup", data={"email": "x@example.com"})).status_code == 404
    assert "Sign up" not in (await http.get("/login")).text


SIGNUP: dict[str, Any] = {"web": {"signup": True}}


@pytest.mark.parametrize("settings_overrides", [SIGNUP])
async def test_sign_up_creates_an_account_and_signs_in(http: httpx.AsyncClient, runtime: Runtime) -> None:
    page = await http.get("/signup")
    assert page.status_code == 200
    form = {"csrf": hidden(page.text), "email": "New@Example.com", "username": "", "password": "x" * 3}
    weak = await http.post("/signup", data=form | {"password2": "x" * 3})
    assert weak.status_code == 400
    assert 'value="New@Example.com"' in weak.text
    mismatch = await http.post("/signup", data=form | {"csrf": hidden(weak.text), "password": PASSWORD})
    assert mismatch.status_code == 400
    assert "not the same" in mismatch.text
    good = form | {"csrf": hidden(mismatch.text), "password": PASSWORD, "password2": PASSWORD}
    response = await http.post("/signup", data=good)
    assert (response.status_code, response.headers["location"]) == (303, "/images")
    assert (await http.get("/images")).status_code == 200
    created = await users.find_user(runtime.db, "new@example.com")
    assert created is not None
    assert created.username == "new"
    again = await http.get("/signup")
    assert again.status_code == 303


@pytest.mark.parametrize("settings_overrides", [SIGNUP])
async def test_sign_up_refuses_a_taken_email(http: httpx.AsyncClient, alice: Account) -> None:
    page = await http.get("/signup")
    data = {"csrf": hidden(page.text), "email": alice.email, "password": PASSWORD, "password2": PASSWORD}
    response = await http.post("/signup", data=data)
    assert response.status_code == 409
    assert "already exists" in response.text
