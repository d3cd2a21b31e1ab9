"""The transport under the generated methods: one httpx client, the credentials, JSON in and out, typed errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from pinhole_client.errors import NotFound, error_from

USER_AGENT = "pinhole-client-python/0.1.0"


def _headers(api_key: str | None, token: str | None, user_id: str | None) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if api_key:
        headers["X-API-Key"] = api_key
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if user_id:
        headers["X-User-Id"] = user_id
    return headers


def _query(query: Mapping[str, Any] | None) -> dict[str, str]:
    """Query values as the API reads them: None left out, booleans as true/false."""
    found: dict[str, str] = {}
    for key, value in (query or {}).items():
        if value is None:
            continue
        found[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return found


def _result(response: httpx.Response) -> Any:
    if response.is_error:
        raise error_from(response)
    if response.headers.get("X-Pinhole-Fallback"):
        # A missing image answers a placeholder (200) so pages show no broken image; code asked for that image.
        raise NotFound(404, "image_not_found", "No such image: the server answered its fallback placeholder.")
    if response.status_code == 204 or not response.content:
        return None
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response.content


class SyncCore:
    """A blocking client; use it as a context manager, or call `close()`."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        token: str | None = None,
        user_id: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.base_url, headers=_headers(api_key, token, user_id), timeout=timeout, transport=transport
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Any:
        response = self.http.request(
            method, path, params=_query(query), json=json, files=files, data=_query(data) or None
        )
        return _result(response)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SyncCore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncCore:
    """The asyncio client; use it as an async context manager, or await `aclose()`."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        token: str | None = None,
        user_id: str | None = None,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(
            base_url=self.base_url, headers=_headers(api_key, token, user_id), timeout=timeout, transport=transport
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Any:
        response = await self.http.request(
            method, path, params=_query(query), json=json, files=files, data=_query(data) or None
        )
        return _result(response)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncCore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
