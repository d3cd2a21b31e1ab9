"""APIs whose documents list formats keep their lists (issue 16) unless `uploads.dialect_extra_formats` widens them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ApiClient
from tests.dialects.test_userimages_contract import assert_error, upload
from tests.support import pillow_images as fixtures

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("settings_overrides", [{}], ids=["documented"])
@pytest.mark.parametrize(
    "data",
    [fixtures.make_heic(60, 40), fixtures.make_tiff(60, 40), fixtures.make_bmp(60, 40)],
    ids=["heic", "tiff", "bmp"],
)
async def test_userimages_keeps_its_documented_list(http: httpx.AsyncClient, tenant: ApiClient, data: bytes) -> None:
    response = await upload(http, tenant, [("file", ("IMG.HEIC", data, "image/heic"))])
    assert_error(response, 415, "unsupported_format")


@pytest.mark.parametrize("settings_overrides", [{"uploads": {"dialect_extra_formats": ["heic"]}}], ids=["widened"])
async def test_a_setting_widens_it(
    http: httpx.AsyncClient, tenant: ApiClient, settings_overrides: dict[str, Any]
) -> None:
    response = await upload(http, tenant, [("file", ("IMG.HEIC", fixtures.make_heic(60, 40), "image/heic"))])
    assert response.status_code == 200, response.text
    assert response.json()["files"][0]["data"]["key"].endswith(".heic")
    tiff = await upload(http, tenant, [("file", ("scan.tif", fixtures.make_tiff(60, 40), "image/tiff"))])
    assert_error(tiff, 415, "unsupported_format")


async def test_mpo_is_a_jpeg_for_userimages(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    response = await upload(http, tenant, [("file", ("3d.jpg", fixtures.make_mpo(60, 40), "image/jpeg"))])
    assert response.status_code == 200, response.text
