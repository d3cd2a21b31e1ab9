"""Driving the real app in-process from a synchronous test: schemathesis (with hypothesis) generates requests
synchronously, the app needs one event loop for its whole life (its database pool and background tasks live there).

`running_app` starts the app's lifespan in a blocking portal (an event loop in a thread) and gives a `Driver` that
sends `requests`-prepared requests (what schemathesis serializes) through httpx's ASGI transport on that loop.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import requests
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI
from schemathesis.core.transport import Response as CheckedResponse
from sqlalchemy import select

from pinhole.app import create_app
from pinhole.db.migrate import upgrade
from pinhole.db.models import Client
from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.services.clients import create_client
from pinhole.settings import Settings
from tests.api.accounthelpers import make_account, personal_key_headers, upload_key_headers
from tests.support import images as img

T = TypeVar("T")
BASE_URL = "http://testserver"


@dataclass
class Driver:
    app: FastAPI
    portal: BlockingPortal
    http: httpx.AsyncClient

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        return self.portal.call(fn)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            return await self.http.request(method, url, **kwargs)

        return self.run(send)

    def send(self, prepared: requests.PreparedRequest) -> CheckedResponse:
        """Send what schemathesis serialized; answer in the form its checks read."""
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        started = time.perf_counter()
        response = self.request(str(prepared.method), str(prepared.url), headers=dict(prepared.headers), content=body)
        headers: dict[str, list[str]] = {}
        for name, value in response.headers.multi_items():
            headers.setdefault(name.lower(), []).append(value)
        return CheckedResponse(
            status_code=response.status_code,
            headers=headers,
            content=response.content,
            request=prepared,
            elapsed=time.perf_counter() - started,
            verify=True,
            message=response.reason_phrase,
        )


@contextlib.contextmanager
def running_app(settings: Settings) -> Iterator[Driver]:
    with start_blocking_portal() as portal:
        app = create_app(settings)
        runtime: Runtime = app.state.runtime
        if settings.is_sqlite:
            portal.call(upgrade, runtime.db)
        with portal.wrap_async_context_manager(app.router.lifespan_context(app)):
            http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
            try:
                yield Driver(app=app, portal=portal, http=http)
            finally:
                portal.call(http.aclose)


async def client_id_of(runtime: Runtime, name: str = "fuzz-client") -> str:
    async with runtime.db.reader() as session:
        found = await session.scalar(select(Client.id).where(Client.name == name))
    assert found is not None
    return str(found)


async def make_callers(runtime: Runtime) -> dict[str, dict[str, str]]:
    """One set of credentials per kind of caller every API knows (see docs/security.md)."""
    client = await create_client(db=runtime.db, name="fuzz-client")
    user = await make_account(runtime, "fuzzuser")
    admin = await make_account(runtime, "fuzzadmin", role=Role.ADMIN)
    return {
        "anonymous": {},
        "client key": {"X-API-Key": client.api_key},
        "client key for a user": {"X-API-Key": client.api_key, "X-User-Id": "fuzz-user"},
        "client key as bearer": {"Authorization": f"Bearer {client.api_key}"},
        "user": user.headers(),
        "admin": admin.headers(),
        "personal key": await personal_key_headers(runtime, user),
        "upload key": await upload_key_headers(runtime, user),
    }


def seed_images(driver: Driver, callers: dict[str, dict[str, str]]) -> list[str]:
    """A few images for the listing and reading routes to find: one per uploading kind of caller."""
    ids = []
    for name in ("client key for a user", "user", "admin"):
        data = img.make_png(64, 48)
        response = driver.request("POST", "/v2/images", headers=callers[name], files={"file": ("seed.png", data)})
        assert response.status_code == 201, response.text
        ids.append(str(response.json()["id"]))
    return ids
