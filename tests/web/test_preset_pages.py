"""The admin presets page without a browser: admins only, the configured preset read-only, add/change/delete
through forms, and the transform parser's message for a bad query."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from tests.api.accounthelpers import PASSWORD, make_account
from tests.web.conftest import ClientFactory
from tests.web.webhelpers import Browser, browser

pytestmark = pytest.mark.anyio

CONFIGURED: dict[str, Any] = {"transforms": {"presets": {"card": "w=120&h=90&fit=cover"}}}


@pytest.fixture
async def admin(runtime: Runtime, new_client: ClientFactory) -> Browser:
    await make_account(runtime, "root", role=Role.ADMIN)
    return await browser(await new_client(), "root", PASSWORD)


async def test_only_admins_see_the_presets_page(signed_in: Browser, http: httpx.AsyncClient) -> None:
    assert (await http.get("/admin/presets")).status_code == 403
    assert (await signed_in.post_form("/admin/presets", {"name": "x", "query": "w=1"})).status_code == 403
    assert (await signed_in.post_form("/admin/presets/x/delete", {})).status_code == 403


@pytest.mark.parametrize("settings_overrides", [CONFIGURED])
async def test_the_presets_page_adds_changes_and_deletes(admin: Browser, runtime: Runtime) -> None:
    page = await admin.http.get("/admin/presets")
    assert page.status_code == 200, page.text
    assert 'id="preset-card-configured"' in page.text
    assert 'action="/admin/presets/card"' not in page.text  # read-only

    bad = await admin.post_form("/admin/presets", {"name": "thumb", "query": "w=abc"})
    assert bad.status_code == 400
    assert "w: &#39;abc&#39; is not a valid value." in bad.text
    assert 'value="thumb"' in bad.text

    made = await admin.post_form("/admin/presets", {"name": "thumb", "query": "w=50", "eager": "on"})
    assert made.status_code == 303
    assert runtime.presets.current().queries["thumb"] == "w=50"
    assert runtime.presets.current().eager == ("thumb",)
    saved = await admin.post_form("/admin/presets/thumb", {"query": "w=70"})
    assert saved.status_code == 303
    assert runtime.presets.current().queries["thumb"] == "w=70"
    assert runtime.presets.current().eager == ()
    assert (await admin.post_form("/admin/presets/card/delete", {})).status_code == 409
    assert (await admin.post_form("/admin/presets/thumb/delete", {})).status_code == 303
    assert "thumb" not in runtime.presets.current().queries
