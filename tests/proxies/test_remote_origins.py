"""Remote originals through the real app (imgproxy `insecure` URLs): SSRF refusals with the default settings, the
ingest checks, the TTL and revalidation, single flight and the variant-cache budget, against a real origin on
loopback (reachable only where a test allows private networks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from pinhole.app import create_app
from pinhole.db.models import Blob, RemoteOriginal
from pinhole.fetch import Resolver, system_resolver
from pinhole.proxies.allowlist import Allowlist
from pinhole.runtime import Runtime
from pinhole.services.variant_cache import cache_stats, prune_variants
from pinhole.settings import Settings
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.dialects.proxyhelpers import assert_centre_crop, expected_crop, picture
from tests.support import images as img
from tests.support.photo_origin import PhotoOrigin, landscape, run_photo_origin
from tests.support.routing import PUBLIC, route_public_to_loopback

pytestmark = pytest.mark.anyio

TTL = 600


@pytest.fixture(scope="module")
def origin() -> Iterator[PhotoOrigin]:
    with run_photo_origin() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_origin(origin: PhotoOrigin) -> None:
    origin.state.version, origin.state.delay = 1, 0.0
    origin.state.hits.clear()
    origin.state.conditional.clear()


def overrides(origin: PhotoOrigin, *, private: bool, **proxy: Any) -> dict[str, Any]:
    return {
        "dialects": {"imgproxy": {"enabled": True}},
        "fetch": {"allow_private_networks": private},
        "proxy": {"allowed_sources": [f"{origin.base}/"], "origin_ttl_seconds": TTL, **proxy},
    }


@pytest.fixture
def settings_overrides(origin: PhotoOrigin, request: pytest.FixtureRequest) -> dict[str, Any]:
    extra: dict[str, Any] = getattr(request, "param", {})
    return overrides(origin, private=extra.pop("private", True), **extra)


def fill(url: str, width: int = 200, height: int = 300, extension: str = "") -> str:
    return f"/imgproxy/insecure/rs:fill:{width}:{height}/plain/{url}{extension}"


async def origin_rows(runtime: Runtime) -> list[RemoteOriginal]:
    async with runtime.db.reader() as session:
        return list(await session.scalars(select(RemoteOriginal)))


async def blob_count(runtime: Runtime) -> int:
    async with runtime.db.reader() as session:
        return await session.scalar(select(func.count()).select_from(Blob)) or 0


# --- SSRF: with the default settings no private, loopback or link-local target is fetched ---------------------


def resolver_of(table: dict[str, list[str]]) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        return table[host] if host in table else await system_resolver(host, port)

    return resolve


@pytest.fixture
def ssrf_targets(origin: PhotoOrigin) -> list[str]:
    port = origin.port
    return [
        f"http://127.0.0.1:{port}/photos/a.jpg",
        f"http://localhost:{port}/photos/a.jpg",  # the system resolver's name for loopback
        f"http://loopback.test:{port}/photos/a.jpg",  # a name this test maps to 127.0.0.1
        f"http://[::ffff:127.0.0.1]:{port}/photos/a.jpg",
        f"http://2130706433:{port}/photos/a.jpg",  # 127.0.0.1 as one number
        "http://[::1]/photos/a.jpg",
        "http://10.0.0.7/photos/a.jpg",
        "http://192.168.1.1/photos/a.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/photos/a.jpg",
        "http://metadata.test/computeMetadata/v1/",  # a name this test maps to the metadata address
    ]


@pytest.mark.parametrize("settings_overrides", [{"private": False}], indirect=True)
async def test_default_settings_refuse_every_private_target(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin, ssrf_targets: list[str]
) -> None:
    assert not runtime.settings.fetch.allow_private_networks
    runtime.origins.allowlist = Allowlist(ssrf_targets)  # allowed: the fetcher must refuse
    runtime.fetcher.resolver = resolver_of({"loopback.test": ["127.0.0.1"], "metadata.test": ["169.254.169.254"]})
    for target in ssrf_targets:
        response = await http.get(fill(target))
        assert response.status_code == 404, (target, response.status_code, response.text)  # imgproxy's answer
        assert "resolves to" in response.text, response.text
    assert sum(origin.state.hits.values()) == 0
    assert await origin_rows(runtime) == []


async def test_a_redirect_to_a_refused_target_is_refused(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin
) -> None:
    # Private networks are allowed here (the origin is on loopback): link-local and metadata never are, so the
    # redirect's target is what refuses (the targets are allowed, so the allowlist does not refuse them first).
    # With the default settings: `test_with_the_default_settings_a_public_origin_cannot_redirect_inward`.
    targets = ("http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://0.0.0.0/")
    runtime.origins.allowlist = Allowlist([f"{origin.base}/", *targets])
    for target in targets:
        response = await http.get(fill(quote(f"{origin.base}/to?url={target}", safe="")))
        assert response.status_code == 404, (target, response.text)
        assert "address" in response.text
    assert origin.state.hits["/to"] == 3
    assert await origin_rows(runtime) == []


@pytest.fixture
def routed_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    route_public_to_loopback(monkeypatch)


@pytest.mark.parametrize("settings_overrides", [{"private": False}], indirect=True)
async def test_with_the_default_settings_a_public_origin_cannot_redirect_inward(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin, routed_to_loopback: None
) -> None:
    assert not runtime.settings.fetch.allow_private_networks
    public = f"http://public.test:{origin.port}"
    runtime.fetcher.resolver = resolver_of({"public.test": [PUBLIC], "loopback.test": ["127.0.0.1"]})
    port = origin.port
    inward = [
        f"http://127.0.0.1:{port}/photos/in.jpg",
        f"http://localhost:{port}/photos/in.jpg",  # the system resolver's name for loopback
        f"http://loopback.test:{port}/photos/in.jpg",  # a DNS name resolving to loopback
        f"http://[::ffff:127.0.0.1]:{port}/photos/in.jpg",
        f"http://10.0.0.7:{port}/photos/in.jpg",
        "http://169.254.169.254/latest/meta-data/",
    ]
    runtime.origins.allowlist = Allowlist([f"{public}/", *inward])  # allowed: the fetcher must refuse
    for target in inward:
        response = await http.get(fill(quote(f"{public}/to?url={target}", safe="")))
        assert response.status_code == 404, (target, response.status_code, response.text)  # imgproxy's answer
        assert "resolves to" in response.text, response.text
    assert origin.state.hits["/to"] == len(inward)
    assert origin.state.hits["/photos/in.jpg"] == 0
    assert await origin_rows(runtime) == []
    # The same origin redirecting to itself is served: what refused above was where the redirects pointed.
    served = await http.get(fill(quote(f"{public}/to?url={public}/photos/in.jpg", safe="")))
    assert_centre_crop(served, landscape(1), 200, 300)
    assert origin.state.hits["/photos/in.jpg"] == 1


async def test_what_is_not_a_safe_image_is_refused_like_an_upload(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin
) -> None:
    for path in ("/polyglot.jpg", "/huge.png", "/page.html", "/missing.jpg"):
        response = await http.get(fill(origin.url(path)))
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert origin.state.hits[path] == 1
    assert await origin_rows(runtime) == []
    assert await blob_count(runtime) == 0


@pytest.mark.parametrize("settings_overrides", [{"max_origin_bytes": 4096}], indirect=True)
async def test_the_byte_limit(http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin) -> None:
    response = await http.get(fill(origin.url("/photos/big.jpg")))
    assert response.status_code == 413
    assert await origin_rows(runtime) == []


# --- keeping, revalidating and replacing the copy --------------------------------------------------------------


async def test_a_copy_is_kept_for_the_ttl_then_revalidated(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin
) -> None:
    now = [1_000_000_000.0]
    runtime.origins.clock = lambda: now[0]
    url = origin.url("/photos/kept.jpg")
    first = await http.get(fill(url))
    assert_centre_crop(first, landscape(1), 200, 300)
    assert first.headers["cache-control"].startswith(f"public, max-age={TTL}")
    await http.get(fill(url, 100, 100))  # another variant of the same copy
    assert origin.state.hits["/photos/kept.jpg"] == 1
    (row,) = await origin_rows(runtime)
    kept = row.content_hash

    now[0] += TTL + 1  # the origin answers 304 to the ETag: the copy stays
    assert_centre_crop(await http.get(fill(url)), landscape(1), 200, 300)
    assert (origin.state.hits["/photos/kept.jpg"], origin.state.conditional["/photos/kept.jpg"]) == (2, 1)
    (row,) = await origin_rows(runtime)
    assert row.content_hash == kept

    origin.state.version = 2  # the origin has new bytes: after the TTL the 200 replaces the copy
    assert_centre_crop(await http.get(fill(url)), landscape(1), 200, 300)  # still fresh: no request
    assert origin.state.hits["/photos/kept.jpg"] == 2
    now[0] += TTL + 1
    replaced = await http.get(fill(url))
    assert_centre_crop(replaced, landscape(2), 200, 300)
    before, after = (expected_crop(landscape(version), 200, 300) for version in (1, 2))
    assert img.similarity(replaced.content, before) < img.similarity(replaced.content, after)
    assert (origin.state.hits["/photos/kept.jpg"], origin.state.conditional["/photos/kept.jpg"]) == (3, 2)
    (row,) = await origin_rows(runtime)
    assert row.content_hash != kept
    assert await blob_count(runtime) == 1  # the old copy's blob went with its last reference


async def test_a_hosted_image_of_the_same_bytes_keeps_its_blob(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin, tenant: ApiClient
) -> None:
    hosted = await upload(http, tenant, landscape(1))
    assert (await http.get(fill(origin.url("/photos/same.jpg")))).status_code == 200
    (row,) = await origin_rows(runtime)
    assert await blob_count(runtime) == 1  # one content (the same checks made the same bytes), two references
    await prune_variants(db=runtime.db, store=runtime.store, max_bytes=1, target_bytes=0)
    assert await origin_rows(runtime) == []
    assert await blob_count(runtime) == 1
    served = await http.get(f"/v2/images/{hosted['id']}", headers=tenant.headers())
    assert served.status_code == 200
    assert img.similarity(served.content, landscape(1)) > 0.95
    assert await runtime.store.stat(f"originals/{row.content_hash[:2]}/{row.content_hash[2:4]}/{row.content_hash}")


async def test_one_fetch_for_many_concurrent_requests(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin
) -> None:
    origin.state.delay = 0.5
    url = origin.url("/slow/crowd.jpg")
    runtime.origins.allowlist = Allowlist([f"{origin.base}/slow/"])
    sizes = [(100 + 10 * n, 100) for n in range(8)]
    answers = await asyncio.gather(*(http.get(fill(url, w, h)) for w, h in sizes))
    for (width, height), response in zip(sizes, answers, strict=True):
        shown = picture(response)
        assert (shown.width, shown.height) == (width, height)
    assert origin.state.hits["/slow/crowd.jpg"] == 1
    assert runtime.origins.fetches == 1
    assert len(await origin_rows(runtime)) == 1


# --- the variant-cache budget ------------------------------------------------------------------------------------


async def test_fetched_originals_count_against_the_budget_and_are_evicted_with_variants(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin
) -> None:
    url = origin.url("/photos/budget.jpg")
    assert (await http.get(fill(url))).status_code == 200
    await runtime.usage.flush()
    (row,) = await origin_rows(runtime)
    stats = await cache_stats(db=runtime.db)
    assert stats.origins == 1
    assert stats.variants >= 1
    assert stats.bytes > row.size  # the variant and the original together

    result = await prune_variants(
        db=runtime.db, store=runtime.store, max_bytes=1, target_bytes=0, forget=runtime.pruner._forget
    )
    assert result.bytes_freed >= row.size
    assert await origin_rows(runtime) == []
    assert await blob_count(runtime) == 0  # nothing else referred to the fetched bytes
    assert (await cache_stats(db=runtime.db)).bytes == 0

    # This process still remembers the copy: the missing blob makes it fetch again, and serve the right picture.
    again = await http.get(fill(url))
    assert_centre_crop(again, landscape(1), 200, 300)
    assert origin.state.hits["/photos/budget.jpg"] == 2


async def test_the_least_recently_used_go_first(http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin) -> None:
    old, new = origin.url("/photos/old.jpg"), origin.url("/photos/new.jpg")
    now = [1_000_000_000.0]
    runtime.origins.clock = lambda: now[0]
    assert (await http.get(fill(old, 20, 20))).status_code == 200
    await runtime.usage.flush()
    await asyncio.sleep(0.05)
    assert (await http.get(fill(new, 20, 20))).status_code == 200
    await runtime.usage.flush()
    rows = {row.url: row.size for row in await origin_rows(runtime)}
    total = (await cache_stats(db=runtime.db)).bytes
    await prune_variants(db=runtime.db, store=runtime.store, max_bytes=total - 1, target_bytes=total - 1)
    left = [row.url for row in await origin_rows(runtime)]
    assert rows.keys() == {old, new}
    assert left == [new]


# --- instances sharing a database and a blob store -----------------------------------------------------------


@pytest.fixture
async def second_instance(settings: Settings, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Another app on the same settings (the same database, store and, on the scaled stack, Redis)."""
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_instances_share_the_fetched_copy(
    http: httpx.AsyncClient, second_instance: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin
) -> None:
    url = origin.url("/photos/shared.jpg")
    assert_centre_crop(await http.get(fill(url)), landscape(1), 200, 300)
    assert_centre_crop(await second_instance.get(fill(url, 100, 150)), landscape(1), 100, 150)
    assert origin.state.hits["/photos/shared.jpg"] == 1


async def test_instances_with_redis_fetch_once_together(
    http: httpx.AsyncClient, second_instance: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin
) -> None:
    if runtime.redis is None:
        pytest.skip("instances share one fetch through Redis (the scaled stack)")
    origin.state.delay = 0.5
    url = origin.url("/slow/together.jpg")
    clients = [http, second_instance] * 4
    answers = await asyncio.gather(*(client.get(fill(url, 50 + n, 50)) for n, client in enumerate(clients)))
    assert all(answer.status_code == 200 for answer in answers)
    assert origin.state.hits["/slow/together.jpg"] == 1
