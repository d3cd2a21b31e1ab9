"""Each proxy dialect's options, in URLs made by the official client libraries, give the picture v2 gives for the
same options: same size and format, and the same picture by SSIM (so crops land where v2's do). The photo has a
bright object in its bottom-right corner, so a crop at the wrong place would not look alike."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx
import pytest
from cloudinary import CloudinaryImage
from imgix import UrlBuilder
from libthumbor import CryptoURL

from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.dialects.proxyhelpers import picture
from tests.support import images as img
from tests.support.scenes import scene_png

pytestmark = pytest.mark.anyio

IMGPROXY_KEY, IMGPROXY_SALT = "0a1b2c3d", "4e5f6a7b"
THUMBOR_KEY, IMGIX_TOKEN, CLOUD_SECRET = "thumbor-key", "imgix-token", "cloud-secret"
CROP_V2 = "w=200&h=200&fit=cover"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "dialects": {
            "imgproxy": {"enabled": True, "key": [IMGPROXY_KEY], "salt": [IMGPROXY_SALT]},
            "thumbor": {"enabled": True, "security_key": THUMBOR_KEY},
            "imgix": {"enabled": True, "token": IMGIX_TOKEN},
            "cloudinary": {"enabled": True, "cloud_name": "demo", "api_secret": CLOUD_SECRET},
        },
        "transforms": {"stranger_renders_per_minute": 0, "presets": {"card": "w=120&h=80&fit=cover"}},
    }


@pytest.fixture
async def scene(http: httpx.AsyncClient, tenant: ApiClient) -> str:
    body = await upload(http, tenant, scene_png(800, 600, at=(1.0, 1.0)), filename="scene.png")
    return str(body["id"])


def imgproxy(path: str) -> str:
    """imgproxy's documented signing example."""
    message = bytes.fromhex(IMGPROXY_SALT) + path.encode()
    digest = hmac.new(bytes.fromhex(IMGPROXY_KEY), msg=message, digestmod=hashlib.sha256).digest()
    return f"/imgproxy/{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}{path}"


def thumbor(image_id: str, **options: Any) -> str:
    return "/thumbor" + str(CryptoURL(key=THUMBOR_KEY).generate(image_url=image_id, **options))


def imgix(image_id: str, **params: Any) -> str:
    built = str(UrlBuilder("a.imgix.net", sign_key=IMGIX_TOKEN).create_url(f"/{image_id}", params))
    return "/imgix" + built.removeprefix("https://a.imgix.net")


def cloudinary(image_id: str, **options: Any) -> str:
    built = CloudinaryImage(image_id).build_url(
        cloud_name="demo", api_secret=CLOUD_SECRET, api_key="1", secure=True,
        secure_distribution="testserver/cloudinary", sign_url=True, **options,
    )  # fmt: skip
    return str(built).removeprefix("https://testserver")


async def same_as_v2(http: httpx.AsyncClient, url: str, image_id: str, query: str) -> None:
    given = await http.get(url)
    reference = await http.get(f"/v2/images/{image_id}?{query}")
    shown, expected = picture(given), picture(reference)
    assert (shown.width, shown.height) == (expected.width, expected.height), (url, query)
    assert given.headers["content-type"] == reference.headers["content-type"], url
    assert img.similarity(given.content, reference.content) > 0.97, (url, query)


async def test_imgproxy_options(http: httpx.AsyncClient, scene: str) -> None:
    source = f"plain/pinhole://{scene}"
    cases = {
        f"/rs:fill:200:200/g:soea/{source}": f"{CROP_V2}&gravity=se",
        f"/rs:fill:200:200/g:sm/{source}": f"{CROP_V2}&gravity=smart",
        f"/rs:fill:200:200/g:fp:0.9:0.85/{source}": f"{CROP_V2}&fp=0.9,0.85",
        f"/rs:fit:300:300/ex:1/bg:32:64:96/{source}": "w=300&h=300&fit=pad&bg=204060",
        f"/rs:fit:300:300/ex:1:soea/bg:204060/{source}": "w=300&h=300&fit=pad&bg=204060&gravity=se",
        f"/rs:fit:300:300:0:1:nowe/bg:204060/{source}": "w=300&h=300&fit=pad&bg=204060&gravity=nw",
        f"/c:400:300:soea/w:200/{source}": "crop=400,300,400,300&w=200",
        f"/c:0.5:0.5:ce/w:200/{source}": "crop=200,150,400,300&w=200",
        f"/w:200/bl:3/sh:1/{source}": "w=200&blur=3&sharpen=1",
        f"/w:200/rot:90/{source}": "h=200&rotate=90",
        f"/pr:card/{source}": "preset=card",
    }
    for path, query in cases.items():
        await same_as_v2(http, imgproxy(path), scene, query)
    refused = [f"/g:no:10:5/w:100/{source}", f"/pr:a:b/{source}", f"/rs:fill:100:100/c:50:50:sm/{source}"]
    for path in refused:
        answer = await http.get(imgproxy(path))
        assert (answer.status_code, answer.text.startswith("Invalid URL")) == (404, True), path


async def test_thumbor_options(http: httpx.AsyncClient, tenant: ApiClient, scene: str) -> None:
    mark = str((await upload(http, tenant, img.make_png(64, 64)))["id"])
    cases: list[tuple[dict[str, Any], str]] = [
        ({"width": 200, "height": 200, "halign": "right", "valign": "bottom"}, f"{CROP_V2}&gravity=se"),
        ({"width": 200, "height": 200, "smart": True}, f"{CROP_V2}&gravity=smart"),
        ({"crop": ((400, 300), (800, 600)), "width": 200}, "crop=400,300,400,300&w=200"),
        ({"width": 200, "height": 150, "flip": True}, "w=200&h=150&fit=cover&flop=true"),  # -W: mirrored
        ({"width": 200, "height": 150, "flop": True}, "w=200&h=150&fit=cover&flip=true"),  # -H: upside down
        ({"width": 300, "height": 300, "fit_in": True, "filters": ["fill(204060)"]}, "w=300&h=300&fit=pad&bg=204060"),
        ({"width": 200, "filters": ["blur(3)", "grayscale()"]}, "w=200&blur=3&grayscale=true"),
        ({"width": 200, "filters": ["sharpen(2,1.5,true)"]}, "w=200&sharpen=1.5"),
        ({"width": 200, "height": 200, "filters": ["focal(700x500:800x600)"]}, f"{CROP_V2}&fp=0.9375,0.9167"),
        ({"width": 200, "filters": ["rotate(90)"]}, "h=200&rotate=90"),
        ({"width": 400, "filters": ["proportion(0.5)"]}, "w=200"),
        ({"width": 300, "filters": ["strip_icc()", "strip_exif()", "quality(70)"]}, "w=300&q=70"),
        (
            {"width": 300, "filters": [f"watermark(pinhole://{mark},-10,-10,50,25)"]},
            f"w=300&wm={mark}&wm_gravity=se&wm_margin=10&wm_opacity=0.5&wm_scale=0.25",
        ),
    ]
    for options, query in cases:
        await same_as_v2(http, thumbor(scene, **options), scene, query)
    refused = ["round_corners(20,255,255,255)", "max_bytes(1000)", "fill(blur)"]
    cases_refused: list[dict[str, Any]] = [{"width": 100, "trim": True}]
    cases_refused += [{"width": 100, "filters": [name]} for name in refused]
    for options in cases_refused:
        answer = await http.get(thumbor(scene, **options))
        assert answer.status_code == 400, options


async def test_imgix_options(http: httpx.AsyncClient, scene: str) -> None:
    crop = {"w": 200, "h": 200, "fit": "crop", "q": 80}
    cases: list[tuple[dict[str, Any], str]] = [
        (crop | {"crop": "bottom,right"}, f"{CROP_V2}&q=80&gravity=se"),
        (crop | {"crop": "focalpoint", "fp-x": 0.9, "fp-y": 0.85}, f"{CROP_V2}&q=80&fp=0.9,0.85"),
        (crop | {"crop": "faces"}, f"{CROP_V2}&q=80&gravity=smart"),
        (crop | {"crop": "entropy"}, f"{CROP_V2}&q=80&gravity=entropy"),
        ({"w": 300, "h": 300, "fit": "fill", "fill-color": "204060", "q": 80}, "w=300&h=300&fit=pad&bg=204060&q=80"),
        ({"w": 200, "blur": 60, "sharp": 20, "q": 80}, "w=200&blur=3&sharpen=2&q=80"),
        ({"w": 200, "rot": 90, "flip": "h", "q": 80}, "w=200&rotate=90&flop=true&q=80"),
        ({"w": 200, "flip": "v", "bg": "ff204060", "q": 80}, "w=200&flip=true&bg=204060&q=80"),
    ]
    for params, query in cases:
        await same_as_v2(http, imgix(scene, **params), scene, query)
    for params in ({"w": 100, "fit": "facearea"}, {"w": 100, "rot": 45}, {"w": 100, "flip": "x"}):
        assert (await http.get(imgix(scene, **params))).status_code == 400, params


async def test_cloudinary_options(http: httpx.AsyncClient, scene: str) -> None:
    fill = {"width": 200, "height": 200, "crop": "fill"}
    cases: list[tuple[dict[str, Any], str]] = [
        (fill | {"gravity": "south_east"}, f"{CROP_V2}&gravity=se"),
        (fill | {"gravity": "auto"}, f"{CROP_V2}&gravity=smart"),
        (fill | {"gravity": "xy_center", "x": 700, "y": 500}, f"{CROP_V2}&fp=0.875,0.8333"),
        ({"width": 300, "height": 300, "crop": "pad", "background": "rgb:204060"}, "w=300&h=300&fit=pad&bg=204060"),
        ({"width": 400, "height": 300, "crop": "crop", "gravity": "south_east"}, "crop=400,300,400,300"),
        (
            {
                "transformation": [
                    {"crop": "crop", "width": 400, "height": 300, "x": 400, "y": 300},
                    {"width": 200, "crop": "scale"},
                ]
            },
            "crop=400,300,400,300&w=200",
        ),
        ({"width": 200, "crop": "scale", "effect": "blur:60"}, "w=200&blur=3"),
        ({"width": 200, "crop": "scale", "effect": "grayscale"}, "w=200&grayscale=true"),
        ({"width": 200, "crop": "scale", "effect": "sharpen:400"}, "w=200&sharpen=2"),
        ({"width": 200, "crop": "scale", "angle": 90}, "h=200&rotate=90"),
        ({"width": 200, "crop": "scale", "angle": "hflip"}, "w=200&flop=true"),
    ]
    for options, query in cases:
        await same_as_v2(http, cloudinary(scene, **options), scene, query)
    refused: list[dict[str, Any]] = [{"effect": "sepia"}, {"angle": 45}, {"crop": "imagga_crop"}]
    for options in refused:
        options["width"] = 100
        answer = await http.get(cloudinary(scene, **options))
        assert answer.status_code == 400, options
        assert answer.headers["x-cld-error"]


async def test_hostile_values_are_4xx_in_every_dialect(http: httpx.AsyncClient, scene: str) -> None:
    source = f"plain/pinhole://{scene}"
    urls = [
        *(imgproxy(f"/{option}/{source}") for option in ("c:nan:inf", "c:10:10:fp:nan:0", "g:fp:inf:0", "bl:nan",
                                                          "rot:45", "bg:zz", "rs:fill:99999:99999", "dpr:nan")),
        *(thumbor(scene, width=100, filters=[name]) for name in ("watermark(x,1,1,50,abc)", "blur(nan)",
                                                                   "focal(zz)", "proportion(inf)", "rotate(45)")),
        *(imgix(scene, **params) for params in ({"w": "nan"}, {"w": "inf"}, {"blur": "nan"}, {"crop": "focalpoint",
                                                  "fit": "crop", "w": 10, "h": 10, "fp-x": "nan"})),
        *(cloudinary(scene, **options) for options in ({"width": "nan"}, {"width": 10, "height": 10, "crop": "crop",
                                                          "x": "abc"}, {"width": "inf"}, {"effect": "blur:nan"})),
    ]  # fmt: skip
    for url in urls:
        answer = await http.get(url)
        assert 400 <= answer.status_code < 500, (url, answer.status_code)
