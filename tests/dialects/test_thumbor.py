"""thumbor URLs made by libthumbor (the official URL builder) against the real app, over hosted images."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from libthumbor import CryptoURL

from pinhole.runtime import Runtime
from tests.conftest import ApiClient
from tests.dialects.proxyhelpers import assert_centre_crop, hosted, loader, picture
from tests.support import images as img

pytestmark = pytest.mark.anyio

KEY = "my-thumbor-security-key"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"dialects": {"thumbor": {"enabled": True, "security_key": KEY}}}


def thumbor_url(**options: Any) -> str:
    return "/thumbor" + str(CryptoURL(key=KEY).generate(**options))


async def test_a_signed_crop_gives_the_centre_crop(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, original = await hosted(http, tenant)
    response = await http.get(thumbor_url(width=200, height=300, image_url=f"pinhole://{image_id}"))
    assert_centre_crop(response, original, 200, 300)
    assert loader(picture(response)).startswith("jpeg")


async def test_the_bare_id_names_the_picture_and_smart_is_v2s_smart_crop(
    http: httpx.AsyncClient, tenant: ApiClient
) -> None:
    image_id, original = await hosted(http, tenant)
    response = await http.get(thumbor_url(width=200, height=300, image_url=image_id))
    assert_centre_crop(response, original, 200, 300)
    smart = await http.get(thumbor_url(width=200, height=300, smart=True, image_url=image_id))
    v2 = await http.get(f"/v2/images/{image_id}?w=200&h=300&fit=cover&gravity=smart")
    assert picture(smart).width == picture(v2).width == 200
    assert img.similarity(smart.content, v2.content) > 0.97


async def test_fit_in_fits_inside_without_enlarging(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    fitted = picture(await http.get(thumbor_url(width=300, height=300, fit_in=True, image_url=image_id)))
    assert (fitted.width, fitted.height) == (300, 225)
    big = picture(await http.get(thumbor_url(width=1600, height=1600, fit_in=True, image_url=image_id)))
    assert (big.width, big.height) == (800, 600)
    upscaled = thumbor_url(width=1600, height=1600, fit_in=True, filters=["upscale()"], image_url=image_id)
    enlarged = picture(await http.get(upscaled))
    assert (enlarged.width, enlarged.height) == (1600, 1200)


async def test_one_side_keeps_the_aspect_ratio(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    shown = picture(await http.get(thumbor_url(width=400, height=0, image_url=image_id)))
    assert (shown.width, shown.height) == (400, 300)


async def test_filters_pick_format_and_quality(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    url = thumbor_url(
        width=160, height=120, filters=["format(webp)", "quality(60)", "strip_exif()"], image_url=image_id
    )
    response = await http.get(url)
    shown = picture(response)
    assert response.headers["content-type"] == "image/webp"
    assert (shown.width, shown.height, loader(shown).startswith("webp")) == (160, 120, True)


async def test_a_tampered_signature_is_refused_like_thumbor(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    good = thumbor_url(width=100, height=100, image_url=image_id)
    signature = good.split("/")[2]
    tampered = good.replace(signature, ("A" if signature[0] != "A" else "B") + signature[1:])
    assert (await http.get(tampered)).status_code == 400
    # The signature covers the options: the same signature over another size is refused.
    assert (await http.get(good.replace("100x100", "101x100"))).status_code == 400
    other_key = "/thumbor" + CryptoURL(key="another-key").generate(width=100, height=100, image_url=image_id)
    assert (await http.get(other_key)).status_code == 400


async def test_unsafe_only_when_allowed(http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime) -> None:
    image_id, _ = await hosted(http, tenant)
    url = f"/thumbor/unsafe/100x0/{image_id}"
    assert (await http.get(url)).status_code == 400
    runtime.settings.dialects.thumbor.allow_unsafe = True  # as PINHOLE_DIALECTS__THUMBOR__ALLOW_UNSAFE=true would
    assert picture(await http.get(url)).width == 100


async def test_private_images_open_only_signed_for_their_own_client(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, runtime: Runtime
) -> None:
    mine, _ = await hosted(http, tenant, private=True)
    theirs, _ = await hosted(http, other_tenant)
    signed = thumbor_url(width=100, height=100, image_url=mine)
    assert (await http.get(signed)).status_code == 404  # no client named: public images only
    runtime.settings.dialects.thumbor.client_id = tenant.id
    runtime.settings.dialects.thumbor.allow_unsafe = True
    assert picture(await http.get(signed)).width == 100
    assert (await http.get(f"/thumbor/unsafe/100x100/{mine}")).status_code == 404  # private: never unsigned
    assert (await http.get(thumbor_url(width=100, height=100, image_url=theirs))).status_code == 404


async def test_errors_answer_as_thumbor_does(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    image_id, _ = await hosted(http, tenant)
    missing = await http.get(thumbor_url(width=100, height=100, image_url="00000000-0000-4000-8000-000000000000"))
    assert missing.status_code == 404
    trimmed = await http.get(thumbor_url(width=100, height=100, trim=True, image_url=image_id))
    assert trimmed.status_code == 400
    assert "trim" in trimmed.text
    remote = await http.get(thumbor_url(width=100, height=100, image_url="https://example.com/a.jpg"))
    assert remote.status_code == 400
    unknown = await http.get(thumbor_url(width=100, height=100, filters=["sepia()"], image_url=image_id))
    assert unknown.status_code == 400
