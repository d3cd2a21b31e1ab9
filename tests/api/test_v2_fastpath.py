"""The warm fast path answers exactly as the route does, and only when it safely can."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pinhole.dialects.v2.fastpath import parse_simple_query
from pinhole.runtime import Runtime
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio

SAME = ("content-type", "content-length", "etag", "cache-control", "x-content-type-options")


@pytest.fixture
async def photo(http: httpx.AsyncClient, tenant: ApiClient) -> dict[str, Any]:
    return await upload(http, tenant, img.make_jpeg(300, 200), user="alice")


@pytest.mark.parametrize("params", [{}, {"w": 100}, {"w": 100, "format": "webp", "t": "9"}, {"thumb": "true"}])
async def test_warm_requests_are_answered_from_memory_with_the_same_headers(
    http: httpx.AsyncClient, photo: dict[str, Any], runtime: Runtime, params: dict[str, Any]
) -> None:
    url = f"/v2/images/{photo['id']}"
    cold = await http.get(url, params=params)
    hits = runtime.hot.hits
    warm = await http.get(url, params=params)
    warm_again = await http.get(url, params=params)  # the first warm request loaded the bytes; this one hits them
    assert runtime.hot.hits == hits + 1
    assert warm.content == cold.content == warm_again.content
    assert {h: warm.headers.get(h) for h in SAME} == {h: cold.headers.get(h) for h in SAME}
    not_modified = await http.get(url, params=params, headers={"If-None-Match": warm.headers["etag"]})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    head = await http.head(url, params=params)
    assert head.content == b""
    assert head.headers["content-length"] == cold.headers["content-length"]
    await runtime.usage.flush()
    info = await http.get(url, params={"info": "true"}, headers={"X-API-Key": "x"})
    assert info.status_code == 401  # credentials always go to the route


async def test_views_are_counted_on_the_fast_path(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], runtime: Runtime
) -> None:
    for _ in range(4):
        await http.get(f"/v2/images/{photo['id']}", params={"w": 80})
    assert runtime.hot.hits >= 2
    await runtime.usage.flush()
    info = await http.get(f"/v2/images/{photo['id']}", params={"info": "true"}, headers=tenant.headers())
    assert info.json()["views"] == 4


@pytest.mark.parametrize(
    "params",
    [{"w": "0"}, {"w": "abc"}, {"q": "500"}, {"format": "bmp"}, {"fit": "squash"}],
)
async def test_bad_options_still_get_the_routes_errors(
    http: httpx.AsyncClient, photo: dict[str, Any], params: dict[str, Any]
) -> None:
    await http.get(f"/v2/images/{photo['id']}")  # warm the record
    response = await http.get(f"/v2/images/{photo['id']}", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("invalid_transform", "invalid_input")


async def test_private_images_and_credentials_never_take_the_fast_path(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime
) -> None:
    private = await upload(http, tenant, img.make_png(20, 20), user="alice", fields={"isPrivate": "true"})
    url = f"/v2/images/{private['id']}"
    for _ in range(3):
        owner = await http.get(url, headers=tenant.headers("alice"))
        assert owner.headers["cache-control"] == "private, no-cache"
        assert (await http.get(url)).headers.get("x-pinhole-fallback") == "1"
    assert runtime.hot.hits == 0


@pytest.mark.parametrize("settings_overrides", [{"delivery": {"memory_cache_bytes": 0}}])
async def test_the_fast_path_can_be_turned_off(
    http: httpx.AsyncClient, photo: dict[str, Any], runtime: Runtime
) -> None:
    for _ in range(3):
        assert (await http.get(f"/v2/images/{photo['id']}", params={"w": 50})).status_code == 200
    assert runtime.hot.hits == 0
    assert runtime.hot.items == {}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", {}),
        (b"w=10&h=20&q=50&format=webp&fit=cover&t=1", {"w": 10, "h": 20, "q": 50, "format": "webp", "fit": "cover"}),
        (b"thumb=true&enlarge=0", {"thumb": True, "enlarge": False}),
        (b"w=10&w=20", None),
        (b"w=-1", None),
        (b"info=true", None),
        (b"token=shr_x", None),
        (b"fit=squash", None),
        (b"other=1", None),
        (b"thumb=perhaps", None),
    ],
)
def test_simple_query_parsing(query: bytes, expected: dict[str, object] | None) -> None:
    parsed = parse_simple_query(query)
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert {k: v for k, v in parsed.items() if v not in (None, False)} == {
            k: v for k, v in expected.items() if v not in (None, False)
        }


async def test_a_change_through_the_api_ends_the_fast_answer_at_once(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], runtime: Runtime
) -> None:
    url = f"/v2/images/{photo['id']}"
    for _ in range(3):
        await http.get(url, params={"w": 60})
    assert runtime.hot.hits >= 1
    await http.patch(url, headers=tenant.headers("alice"), json={"isPrivate": True})
    assert (await http.get(url, params={"w": 60})).headers.get("x-pinhole-fallback") == "1"
    await http.patch(url, headers=tenant.headers("alice"), json={"isPrivate": False})
    await http.delete(url, headers=tenant.headers("alice"))
    assert (await http.get(url, params={"w": 60})).headers.get("x-pinhole-fallback") == "1"
