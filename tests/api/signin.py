"""Helpers for tests that sign in: accounts, token and cookie sign-in, and clients seen from other addresses."""

from __future__ import annotations

from http.cookies import Morsel, SimpleCookie
from typing import Any

import httpx
from fastapi import FastAPI

from pinhole.db.models import User
from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.services.users import create_user

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple purple giraffe"
LAN_PEER = ("192.168.1.20", 5000)


async def make_user(
    runtime: Runtime,
    username: str = "alice",
    *,
    email: str | None = None,
    role: Role = Role.USER,
    password: str = PASSWORD,
) -> User:
    return await create_user(
        runtime.accounts, email=email or f"{username}@example.com", password=password, username=username, role=role
    )


def client_at(
    app: FastAPI, peer: tuple[str, int] = LAN_PEER, *, base_url: str = "http://testserver"
) -> httpx.AsyncClient:
    """An httpx client whose requests arrive from `peer` (an async context manager)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=peer), base_url=base_url)


async def login(
    http: httpx.AsyncClient,
    login: str = "alice",
    password: str = PASSWORD,
    *,
    path: str = "/v2/auth/login",
    field: str = "login",
    expect: int = 200,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await http.post(path, json={field: login, "password": password}, headers=headers)
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def session_cookie(response: httpx.Response) -> Morsel[str]:
    """The `pinhole_session` Set-Cookie of a response, with its attributes."""
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if "pinhole_session" in jar:
            return jar["pinhole_session"]
    raise AssertionError(f"no pinhole_session cookie in {response.headers.get_list('set-cookie')}")


def with_cookie(cookie: str, csrf: str | None = None) -> dict[str, str]:
    headers = {"Cookie": f"pinhole_session={cookie}"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return headers


async def browser_login(http: httpx.AsyncClient, login: str = "alice", password: str = PASSWORD) -> tuple[str, str]:
    """Sign in a browser session; returns (cookie value, CSRF token). The client keeps no cookie of its own."""
    response = await http.post("/v2/auth/session", json={"login": login, "password": password})
    assert response.status_code == 200, response.text
    http.cookies.clear()
    csrf: str = response.json()["csrfToken"]
    return session_cookie(response).value, csrf
