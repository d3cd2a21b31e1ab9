"""Helpers for the transform-proxy dialects' tests (thumbor, imgproxy, imgix): a hosted photo and the picture a
request should give, made independently with pyvips."""

from __future__ import annotations

from typing import Any

import httpx
import pyvips

from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img

PHOTO = (800, 600)


async def hosted(http: httpx.AsyncClient, tenant: ApiClient, *, private: bool = False) -> tuple[str, bytes]:
    """A photo uploaded through v2: its id and its bytes."""
    data = img.make_jpeg(*PHOTO, exif=False)
    fields: dict[str, Any] = {"isPrivate": "true"} if private else {}
    body = await upload(http, tenant, data, fields=fields)
    return str(body["id"]), data


def picture(response: httpx.Response) -> pyvips.Image:
    assert response.status_code == 200, response.text
    return pyvips.Image.new_from_buffer(response.content, "")


def loader(image: pyvips.Image) -> str:
    return str(image.get("vips-loader"))


def expected_crop(original: bytes, width: int, height: int, *, crop: str = "centre") -> bytes:
    """`original` scaled to cover `width` x `height` and cropped (`crop`: pyvips' interesting: centre, low, high)."""
    return bytes(pyvips.Image.thumbnail_buffer(original, width, height=height, crop=crop).pngsave_buffer())


def assert_centre_crop(response: httpx.Response, original: bytes, width: int, height: int) -> None:
    """The answer is `width` x `height`, and looks like the centre crop more than like a crop at an edge."""
    shown = picture(response)
    assert (shown.width, shown.height) == (width, height)
    centre = img.similarity(response.content, expected_crop(original, width, height))
    edge = img.similarity(response.content, expected_crop(original, width, height, crop="low"))
    assert centre > 0.9
    assert centre > edge
