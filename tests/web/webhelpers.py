"""Driving the web app's pages with httpx: sign in through the form, read hidden tokens, upload as the browser does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.images import make_jpeg

_HIDDEN = re.compile(r'<input type="hidden" name="(?P<name>[a-z]+)" value="(?P<value>[^"]*)">')


def hidden(html: str, name: str = "csrf") -> str:
    """The first hidden field of that name on the page."""
    for match in _HIDDEN.finditer(html):
        if match["name"] == name:
            return match["value"]
    raise AssertionError(f"no hidden {name!r} field on the page")


@dataclass
class Browser:
    """A signed-in httpx client: its cookie jar holds the session, `csrf` is the session's token."""

    http: httpx.AsyncClient
    csrf: str

    async def post_form(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return await self.http.post(url, data={"csrf": self.csrf, **(data or {})}, **kwargs)

    async def upload(self, data: bytes | None = None, *, fields: dict[str, Any] | None = None) -> dict[str, Any]:
        """What upload.js does: POST /v2/images with the cookie and X-CSRF-Token."""
        response = await self.http.post(
            "/v2/images",
            headers={"X-CSRF-Token": self.csrf},
            files={"file": ("photo.jpg", data or make_jpeg(64, 48), "image/jpeg")},
            data=fields or {},
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result


async def sign_in(http: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    page = await http.get("/login")
    assert page.status_code == 200
    return await http.post(
        "/login", data={"csrf": hidden(page.text), "login": login, "password": password, "next": "/images"}
    )


async def browser(http: httpx.AsyncClient, login: str, password: str) -> Browser:
    response = await sign_in(http, login, password)
    assert response.status_code == 303, response.text
    page = await http.get("/account")
    assert page.status_code == 200
    return Browser(http=http, csrf=hidden(page.text))
