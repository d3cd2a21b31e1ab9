"""Remote origins within pinhole's budgets: a stranger pays for each fetch it causes from the strangers' render
budget (`transforms.stranger_renders_per_minute`), so it cannot have pinhole fetch URL after URL; a client's own
signed URL does not pay; and the process's pruner evicts fetched originals with the variants, to the configured
`variant_cache.max_bytes`. imgproxy URLs against a real origin on loopback (private networks allowed by the test)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pinhole.runtime import Runtime
from tests.conftest import ApiClient
from tests.dialects.proxyhelpers import assert_centre_crop
from tests.dialects.test_remote_sources import IMGPROXY_KEY, IMGPROXY_SALT, imgproxy_url
from tests.proxies.test_remote_origins import blob_count, fill, origin_rows
from tests.support.photo_origin import PhotoOrigin, landscape, run_photo_origin

pytestmark = pytest.mark.anyio

BUDGET = 3
TTL = 600


@pytest.fixture(scope="module")
def origin() -> Iterator[PhotoOrigin]:
    with run_photo_origin() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_origin(origin: PhotoOrigin) -> None:
    origin.state.hits.clear()
    origin.state.conditional.clear()


@pytest.fixture
def settings_overrides(origin: PhotoOrigin, request: pytest.FixtureRequest) -> dict[str, Any]:
    extra: dict[str, Any] = getattr(request, "param", {})
    return {
        "dialects": {"imgproxy": {"enabled": True, **extra.get("imgproxy", {})}},
        "fetch": {"allow_private_networks": True},
        "proxy": {"allowed_sources": [f"{origin.base}/photos/"], "origin_ttl_seconds": TTL},
        "transforms": {"stranger_renders_per_minute": extra.get("budget", BUDGET)},
        "variant_cache": extra.get("variant_cache", {}),
    }


@pytest.fixture
def frozen_budget(runtime: Runtime) -> None:
    """The budget's minute does not pass during a test, however slow the machine."""
    assert runtime.variants.budget is not None
    runtime.variants.budget.clock = lambda: 1_000_000_000.0


def fetched(origin: PhotoOrigin) -> int:
    return sum(count for path, count in origin.state.hits.items() if path.startswith("/photos/"))


async def test_a_strangers_fetches_are_charged_to_the_render_budget(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin, frozen_budget: None
) -> None:
    first = origin.url("/photos/first.jpg")
    assert_centre_crop(await http.get(fill(first)), landscape(1), 200, 300)  # a fetch and a render: 2 of 3
    assert (await http.get(fill(first, 100, 100))).status_code == 200  # the copy is kept: a render only, 3 of 3
    refused = [await http.get(fill(origin.url(f"/photos/{n}.jpg"))) for n in range(8)]
    assert [response.status_code for response in refused] == [429] * 8  # imgproxy answers 429 as it is
    assert all(int(response.headers["retry-after"]) > 0 for response in refused)
    assert fetched(origin) == 1  # the refused URLs were never asked for
    assert [row.url for row in await origin_rows(runtime)] == [first]
    assert (await http.get(fill(first))).status_code == 200  # a warm answer costs nothing


async def test_a_revalidation_is_a_fetch_too(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin, frozen_budget: None
) -> None:
    now = [1_000_000_000.0]
    runtime.origins.clock = lambda: now[0]
    url = origin.url("/photos/kept.jpg")
    assert (await http.get(fill(url))).status_code == 200  # 2 of 3
    now[0] += TTL + 1
    assert (await http.get(fill(url))).status_code == 200  # asked again (304), the variant warm: 3 of 3
    assert origin.state.conditional["/photos/kept.jpg"] == 1
    now[0] += TTL + 1
    assert (await http.get(fill(url))).status_code == 429
    assert origin.state.hits["/photos/kept.jpg"] == 2


SIGNED = {"imgproxy": {"key": [IMGPROXY_KEY], "salt": [IMGPROXY_SALT]}}
PRUNED = {"budget": 0, "variant_cache": {"max_bytes": 1, "prune_interval_seconds": 0}}  # the pruner empties all


@pytest.mark.parametrize("settings_overrides", [SIGNED], indirect=True, ids=["signed"])
async def test_a_clients_own_signed_urls_do_not_pay(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin, tenant: ApiClient, frozen_budget: None
) -> None:
    runtime.settings.dialects.imgproxy.client_id = tenant.id  # the instance key acts for the tenant
    for n in range(2 * BUDGET):
        response = await http.get(imgproxy_url(f"/rs:fill:200:300/plain/{origin.url(f'/photos/own-{n}.jpg')}"))
        assert response.status_code == 200, (n, response.text)
    assert fetched(origin) == 2 * BUDGET


@pytest.mark.parametrize("settings_overrides", [PRUNED], indirect=True, ids=["tiny-cache"])
async def test_the_pruner_evicts_fetched_originals_to_the_configured_budget(
    http: httpx.AsyncClient, runtime: Runtime, origin: PhotoOrigin
) -> None:
    url = origin.url("/photos/pruned.jpg")
    assert (await http.get(fill(url))).status_code == 200
    (row,) = await origin_rows(runtime)
    assert (runtime.pruner.max_bytes, runtime.pruner.interval) == (1, 0)
    result = await runtime.pruner.prune_once()
    assert result.bytes_freed >= row.size
    assert await origin_rows(runtime) == []
    assert await blob_count(runtime) == 0
    assert_centre_crop(await http.get(fill(url)), landscape(1), 200, 300)  # fetched once more
    assert origin.state.hits["/photos/pruned.jpg"] == 2
