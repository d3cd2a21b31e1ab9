"""Photo details read at upload from EXIF (date taken, camera, lens; the position only for accounts that keep it),
shown in v2's image info and lists, while the served file carries no metadata; garbage EXIF never fails an upload."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from PIL import Image

from pinhole.imaging.photo_details import MAX_TEXT
from pinhole.runtime import Runtime
from pinhole.services import account_choices
from tests.api.accounthelpers import Account, make_account
from tests.conftest import ApiClient
from tests.support.exif import (
    CONTAINERS,
    DATETIME,
    EIFFEL,
    EXIF_IFD,
    GPS_IFD,
    MAKE,
    MODEL,
    camera_exif,
    photo_with_exif,
)
from tests.support.images import exif_fields, metadata_fields

pytestmark = pytest.mark.anyio


async def upload_as(http: httpx.AsyncClient, account: Account, data: bytes, name: str = "photo.jpg") -> dict[str, Any]:
    response = await http.post("/v2/images", headers=account.headers(), files={"file": (name, data, "image/jpeg")})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def camera_tags(data: bytes) -> set[int]:
    """The EXIF tags of `data` that say something about the photo (a TIFF's own structure tags are left out)."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        found = set(exif) & {MAKE, MODEL, DATETIME, EXIF_IFD, GPS_IFD}
        return found | set(exif.get_ifd(EXIF_IFD)) | set(exif.get_ifd(GPS_IFD))


@pytest.mark.parametrize("container", sorted(CONTAINERS))
async def test_details_are_read_and_the_served_original_has_no_exif(
    http: httpx.AsyncClient, runtime: Runtime, container: str
) -> None:
    owner = await make_account(runtime)
    body = await upload_as(http, owner, photo_with_exif(camera_exif(), container), f"photo.{container}")
    assert body["takenAt"] == "2021-07-04T18:30:05Z"
    assert body["camera"] == "Canon EOS R5"  # the make is not repeated before a model that starts with it
    assert body["lens"] == "RF24-105mm F4 L IS USM"
    assert body["location"] is None  # the account did not choose to keep locations: never stored
    info = await http.get(f"/v2/images/{body['id']}?info=true", headers=owner.headers())
    assert (info.json()["takenAt"], info.json()["camera"], info.json()["location"]) == (
        body["takenAt"],
        body["camera"],
        None,
    )
    served = await http.get(f"/v2/images/{body['id']}")
    assert served.status_code == 200
    assert camera_tags(served.content) == set()
    if container != "heic":  # libvips without HEIF in some builds: Pillow's answer above covers it
        assert exif_fields(served.content) == {}
        assert "exif-data" not in metadata_fields(served.content)


async def test_the_position_is_kept_only_for_an_account_that_chose_it(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    owner, stranger = await make_account(runtime), await make_account(runtime)
    photo = photo_with_exif(camera_exif())
    before = await upload_as(http, owner, photo)
    await account_choices.set_choices(runtime.db, owner.id, keep_location=True, show_name=False)
    after = await upload_as(http, owner, photo)
    assert after["location"]["latitude"] == pytest.approx(EIFFEL[0], abs=1e-5)
    assert after["location"]["longitude"] == pytest.approx(EIFFEL[1], abs=1e-5)
    async with runtime.db.reader() as session:
        from pinhole.db.models import Image as ImageRow

        rows = {image_id: await session.get(ImageRow, image_id) for image_id in (before["id"], after["id"])}
    assert (rows[before["id"]].latitude, rows[before["id"]].longitude) == (None, None)  # type: ignore[union-attr]
    # Another account may read a public image's info (the accounts tenant), but never its position.
    info = await http.get(f"/v2/images/{after['id']}?info=true", headers=stranger.headers())
    assert info.status_code == 200
    assert info.json()["location"] is None
    assert info.json()["camera"] == "Canon EOS R5"
    # Nor may a share link's holder (who reads the info of a private image too).
    await http.patch(f"/v2/images/{after['id']}", headers=owner.headers(), json={"isPrivate": True})
    share = await http.post(f"/v2/images/{after['id']}/share", headers=owner.headers(), json={})
    assert share.status_code == 201, share.text
    shared = await http.get(f"/v2/images/{after['id']}?info=true&token={share.json()['token']}")
    assert shared.status_code == 200
    assert shared.json()["location"] is None
    listed = await http.get("/v2/images", headers=owner.headers())
    by_id = {item["id"]: item for item in listed.json()["data"]}
    assert by_id[after["id"]]["location"] is not None
    assert by_id[before["id"]]["location"] is None
    # A client's uploads (no account) never keep a position.
    client_upload = await http.post(
        "/v2/images", headers=tenant.headers("ext-user"), files={"file": ("a.jpg", photo, "image/jpeg")}
    )
    assert client_upload.json()["location"] is None


async def test_the_choices_are_part_of_the_account_api(http: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await make_account(runtime)
    me = await http.get("/v2/auth/me", headers=owner.headers())
    assert (me.json()["keepLocation"], me.json()["showName"]) == (False, False)
    changed = await http.patch("/v2/auth/me", headers=owner.headers(), json={"keepLocation": True})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["keepLocation"], changed.json()["showName"]) == (True, False)
    body = await upload_as(http, owner, photo_with_exif(camera_exif()))
    assert body["location"] is not None
    refused = await http.patch("/v2/auth/me", headers=owner.headers(), json={"showName": "perhaps"})
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "showName"


async def test_an_offset_makes_the_date_utc(http: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await make_account(runtime)
    body = await upload_as(http, owner, photo_with_exif(camera_exif(taken="2021:07:04 18:30:05", offset="+02:00")))
    assert body["takenAt"] == "2021-07-04T16:30:05Z"


GARBAGE: dict[str, dict[str, Any]] = {
    "impossible date": {"taken": "2021:02:30 25:61:00"},
    "year zero": {"taken": "0000:00:00 00:00:00"},
    "far future": {"taken": "9999:12:31 23:59:59"},
    "not a date": {"taken": "yesterday-ish"},
    "binary date": {"taken": b"\xff\xfe\x00\x01garbage"},
    "huge make and model": {"make": "M" * 5000, "model": "X" * 60000},
    "control characters": {"make": "Evil\x00\x1b[31m", "model": b"Cam\xe2\x80\xaeera\n\t"},
    "offset nonsense": {"offset": "+99:99"},
    "gps out of range": {"position": (123.0, 500.0)},
}


@pytest.mark.parametrize("case", sorted(GARBAGE))
async def test_garbage_exif_is_bounded_and_never_fails(http: httpx.AsyncClient, runtime: Runtime, case: str) -> None:
    owner = await make_account(runtime)
    await account_choices.set_choices(runtime.db, owner.id, keep_location=True, show_name=False)
    body = await upload_as(http, owner, photo_with_exif(camera_exif(**GARBAGE[case])))
    if "taken" in GARBAGE[case]:
        assert body["takenAt"] is None
    for field in ("camera", "lens"):
        value = body[field]
        assert value is None or (len(value) <= MAX_TEXT and value.isprintable()), value
    if case == "offset nonsense":
        assert body["takenAt"] == "2021-07-04T18:30:05Z"  # the date stands; the offset is ignored
    if case == "gps out of range":
        assert body["location"] is None
    if case == "control characters":
        assert body["camera"] == "Evil [31m Cam era"


@pytest.mark.parametrize(
    "block",
    [b"Exif\x00\x00" + b"\xff" * 64, b"MM\x00\x2a\x00\x00\xff\xff" + b"\x00" * 32, b"II*\x00" + b"\x08\x00\x00\x00"],
)
async def test_a_broken_exif_block_gives_no_details(http: httpx.AsyncClient, runtime: Runtime, block: bytes) -> None:
    owner = await make_account(runtime)
    body = await upload_as(http, owner, photo_with_exif(block))
    assert (body["takenAt"], body["camera"], body["lens"], body["location"]) == (None, None, None, None)


async def test_a_photo_without_exif_has_no_details(http: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await make_account(runtime)
    body = await upload_as(http, owner, photo_with_exif(Image.Exif()))
    assert (body["takenAt"], body["camera"], body["lens"]) == (None, None, None)


def test_taken_at_column_is_utc() -> None:
    from pinhole.imaging.photo_details import _taken_at

    assert _taken_at("2020:01:02 03:04:05", "-05:30") == datetime(2020, 1, 2, 8, 34, 5, tzinfo=UTC)
