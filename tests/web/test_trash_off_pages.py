"""With `web.trash_days = 0` a web delete is final at once: no Undo, no trash link, the file released."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pinhole.db.models import TrashedImage
from pinhole.runtime import Runtime
from tests.web.webhelpers import Browser

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"web": {"trash_days": 0}}


async def test_deletes_are_final_without_a_trash(runtime: Runtime, signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload()
    deleted = await signed_in.post_form(f"/images/{image['id']}/delete")
    assert deleted.headers["location"] == "/images"
    page = (await http.get("/images")).text
    assert "Deleted 1 image." in page
    assert 'id="undo"' not in page
    assert 'href="/trash"' not in page
    async with runtime.db.reader() as session:
        assert list(await session.scalars(select(TrashedImage.id))) == []
    assert (await signed_in.post_form("/trash/restore", {"ids": image["id"]})).status_code == 404
