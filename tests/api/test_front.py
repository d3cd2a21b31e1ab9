"""The front of the ASGI stack (api/front.py) and the event loop `pinhole serve` picks (`server.loop`).

The observability middleware and the warm fast paths run in front of FastAPI's own layers: a warm hit never enters
them, everything else still does, and the 500 that FastAPI's error layer answers now carries a request id.
"""

from __future__ import annotations

import sys
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.middleware.errors import ServerErrorMiddleware

from pinhole.api.front import PinholeApp
from pinhole.cli.serve import event_loop
from pinhole.dialects.v2.fastpath import WarmDelivery
from pinhole.observability.middleware import ObservabilityMiddleware
from pinhole.proxies.fastpath import WarmProxy
from pinhole.runtime import Runtime
from pinhole.settings import Settings
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio


def layers(app: FastAPI) -> list[type]:
    """The middleware classes a request meets, outermost first, down to FastAPI's error layer."""
    assert isinstance(app, PinholeApp)
    found: list[type] = []
    layer: Any = app.build_middleware_stack()
    while not isinstance(layer, ServerErrorMiddleware):
        found.append(type(layer))
        layer = layer.app
    return found


@pytest.mark.parametrize(
    "settings_overrides", [{"dialects": {"thumbor": {"enabled": True, "allow_unsafe": True, "security_key": "k"}}}]
)
async def test_observability_and_the_fast_paths_come_before_fastapis_layers(app: FastAPI) -> None:
    assert layers(app) == [ObservabilityMiddleware, WarmProxy, WarmDelivery]


async def test_a_warm_hit_never_enters_fastapis_stack(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = await upload(http, tenant, img.make_jpeg(300, 200), user="alice")
    url = f"/v2/images/{photo['id']}?w=120"
    for _ in range(2):  # the render, then the first read of its bytes
        assert (await http.get(url)).status_code == 200
    entered: list[str] = []
    original = ServerErrorMiddleware.__call__

    async def counting(self: ServerErrorMiddleware, scope: Any, receive: Any, send: Any) -> None:
        entered.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(ServerErrorMiddleware, "__call__", counting)
    hits = runtime.hot.hits
    warm = await http.get(url)
    assert (warm.status_code, runtime.hot.hits, entered) == (200, hits + 1, [])
    assert warm.headers["x-request-id"]  # still observed
    info = await http.get(f"/v2/images/{photo['id']}", params={"info": "true"}, headers=tenant.headers())
    assert info.status_code == 200
    assert entered == [f"/v2/images/{photo['id']}"]  # the routes still go through it


async def test_an_unhandled_error_is_answered_with_a_request_id(app: FastAPI) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug")

    app.router.add_api_route("/broken-for-test", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/broken-for-test")
    assert answer.status_code == 500
    assert answer.headers["x-request-id"]


async def test_front_middleware_cannot_be_added_once_started(app: FastAPI) -> None:
    assert isinstance(app, PinholeApp)
    app.middleware_stack = app.build_middleware_stack()
    with pytest.raises(RuntimeError):
        app.add_front_middleware(ObservabilityMiddleware)


def test_the_event_loop_is_uvloop_where_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert event_loop("auto") == "uvloop"  # a dependency here (Linux)
    assert event_loop("asyncio") == "asyncio"
    assert event_loop("uvloop") == "uvloop"
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if not installed: importing it fails
    assert event_loop("auto") == "asyncio"


def test_only_known_event_loops_are_accepted() -> None:
    assert Settings(server={"loop": "asyncio"}).server.loop == "asyncio"
    with pytest.raises(ValidationError):
        Settings(server={"loop": "rloop"})
