"""The render budget for strangers (issue 15) in every API that renders: the cold render past the budget is a 429
with Retry-After, in that API's own error shape; the same variant again (warm) is not counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pinhole.services.short_ids import short_id
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio

Shape = Callable[[Any], bool]

APIS: dict[str, tuple[Callable[[str], tuple[str, str]], Shape]] = {
    "v2": (
        lambda i: (f"/v2/images/{i}?w=10", f"/v2/images/{i}?w=11"),
        lambda body: body["error"]["code"] == "rate_limited" and body["error"]["status"] == 429,
    ),
    "slink": (
        lambda i: (f"/image/{i}.jpg?w=10", f"/image/{i}.jpg?w=11"),
        lambda body: set(body["error"]) == {"title", "message", "violations"},
    ),
    "userphotos": (
        lambda i: (f"/{short_id(i)}?w=10", f"/{short_id(i)}?w=11"),
        lambda body: set(body) == {"success", "error"} and body["success"] is False,
    ),
    "uploadkey": (
        lambda i: (f"/uploadkey/{i}.webp", f"/uploadkey/{i}.png"),
        lambda body: list(body) == ["error"] and isinstance(body["error"], str),
    ),
}


@pytest.mark.parametrize("api", sorted(APIS))
@pytest.mark.parametrize("settings_overrides", [{"transforms": {"stranger_renders_per_minute": 1}}])
async def test_the_render_budget_answers_in_each_apis_shape(
    http: httpx.AsyncClient, tenant: ApiClient, api: str
) -> None:
    image = await upload(http, tenant, img.make_jpeg(400, 300), user="alice")
    urls, shape = APIS[api]
    first, second = urls(image["id"])
    assert (await http.get(first)).status_code == 200  # the one cold render allowed
    refused = await http.get(second)
    assert refused.status_code == 429, refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert shape(refused.json()), refused.text
    assert (await http.get(first)).status_code == 200  # made before: warm, not counted
