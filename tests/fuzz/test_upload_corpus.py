"""The hostile files the imaging tests make, sent to every upload endpoint of every API.

Each answer is a success or the API's own 4xx (JSON in its documented shape), never a 5xx; a refused file leaves
nothing behind in the temp folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pinhole.runtime import Runtime
from tests.fuzz.harness import client_id_of, make_callers
from tests.support import images as img

pytestmark = pytest.mark.anyio

CORPUS: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "not an image": lambda: b"%PDF-1.4 not an image at all\n" * 20,
    "jpeg orientation 6": lambda: img.make_jpeg(40, 30, orientation=6),
    "jpeg orientation 8 with icc": lambda: img.make_jpeg(40, 30, orientation=8, icc=True),
    "cmyk jpeg": lambda: img.make_cmyk_jpeg(40, 30, profile=True),
    "png 16-bit alpha": lambda: img.make_png(40, 30, alpha=True, sixteen_bit=True),
    "png with exif": lambda: img.make_png(40, 30, exif=True),
    "webp animated": lambda: img.make_webp(40, 30, frames=3),
    "gif animated": lambda: img.make_gif(40, 30, frames=4),
    "avif": lambda: img.make_avif(40, 30, alpha=True),
    "truncated jpeg": lambda: img.truncated(img.make_jpeg(64, 48)),
    "truncated png": lambda: img.truncated(img.make_png(64, 48)),
    "truncated webp": lambda: img.truncated(img.make_webp(64, 48)),
    "polyglot jpeg+zip": lambda: img.polyglot(img.make_jpeg(40, 30)),
    "polyglot png+zip": lambda: img.polyglot(img.make_png(40, 30)),
    "png header 100000x100000": lambda: img.make_png_header(100_000, 100_000),
    "gif header 60000x60000": lambda: img.make_gif_header(60_000, 60_000),
    "jpeg magic then junk": lambda: b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8,
}


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    caller: str
    field: str
    data: dict[str, str]


ENDPOINTS = [
    Endpoint("v2 images", "/v2/images", "client key for a user", "file", {}),
    Endpoint("v2 images (account)", "/v2/images", "user", "file", {}),
    Endpoint("v2 avatars", "/v2/avatars", "client key for a user", "file", {}),
    Endpoint("v2 admin images", "/v2/admin/images", "admin", "file", {"clientId": "", "userId": "fuzz-user"}),
    Endpoint("userphotos", "/v1/upload", "client key as bearer", "image", {"user_id": "fuzz-user"}),
    Endpoint("uploadkey", "/uploadkey/api/upload", "upload key", "file", {}),
    Endpoint("userimages", "/api/users/user/fuzz-user/images", "client key", "file", {}),
    Endpoint("slink", "/api/upload", "user", "image", {}),
    Endpoint("slink external", "/api/external/upload", "personal key", "image", {}),
    Endpoint("slink guest", "/api/guest/upload", "anonymous", "image", {}),
]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "rate_limits": {"enabled": False},
        "accounts": {"guest_uploads": True},
        "uploads": {"max_pixels": 4_000_000, "max_frames": 20},
    }


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
async def test_hostile_files_get_an_answer_in_the_apis_shape(
    http: httpx.AsyncClient, runtime: Runtime, endpoint: Endpoint
) -> None:
    callers = await make_callers(runtime)
    client_id = await client_id_of(runtime)
    data = {name: value or client_id for name, value in endpoint.data.items()}
    problems, accepted = [], 0
    for name, make in CORPUS.items():
        upload = await http.post(
            endpoint.path,
            headers=callers[endpoint.caller],
            data=data,
            files={endpoint.field: ("upload.bin", make(), "application/octet-stream")},
        )
        if upload.status_code >= 500:
            problems.append(f"{name}: {upload.status_code} {upload.text[:200]}")
        elif upload.status_code >= 400 and not upload.headers.get("content-type", "").startswith("application/json"):
            problems.append(f"{name}: {upload.status_code} not in the API's JSON error shape: {upload.text[:200]}")
        else:
            accepted += upload.status_code < 300
    assert not problems, "\n".join(problems)
    assert accepted >= 2, "the endpoint accepted none of the valid images: it was never really exercised"
    assert [p.name for p in runtime.settings.tmp_dir.glob("*")] == []
