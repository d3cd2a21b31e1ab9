"""Storage quotas and the per-client file-size limit: who gets which limit, refusals that change nothing, and
concurrent uploads that cannot together pass a limit (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from pinhole.db.models import ACCOUNTS_CLIENT_ID, Blob, Client, Image, User
from pinhole.errors import QuotaExceeded
from pinhole.runtime import Runtime
from pinhole.services.ingest import NewImage, ingest_image
from pinhole.services.quotas import QuotaDefaults, quota_report, resolve_limits
from pinhole.services.users import create_user
from pinhole.settings import Settings
from tests.api.v2helpers import stored_files, upload
from tests.conftest import ApiClient
from tests.support import images as img
from tests.uploads.bodies import CONTENT_TYPE, body, chunked, part

pytestmark = pytest.mark.anyio


async def set_client(runtime: Runtime, client_id: str, **values: Any) -> None:
    async with runtime.db.writer() as session:
        await session.execute(update(Client).where(Client.id == client_id).values(**values))


async def image_count(runtime: Runtime, client_id: str | None = None) -> int:
    stmt = select(func.count()).select_from(Image)
    if client_id is not None:
        stmt = stmt.where(Image.client_id == client_id)
    async with runtime.db.reader() as session:
        return await session.scalar(stmt) or 0


async def state(runtime: Runtime, settings: Settings) -> tuple[int, int, list[Path]]:
    """Everything a refused upload must leave as it was: image rows, blob rows, files."""
    async with runtime.db.reader() as session:
        blobs = await session.scalar(select(func.count()).select_from(Blob)) or 0
    return await image_count(runtime), blobs, stored_files(settings)


def png(n: int) -> bytes:
    """A different small image for each n (so no two uploads share content unless a test wants it)."""
    return img.make_png(8 + n, 8)


async def test_client_image_quota(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, runtime: Runtime, settings: Settings
) -> None:
    await set_client(runtime, tenant.id, quota_images=2)
    await upload(http, tenant, png(1))
    await upload(http, tenant, png(2), user="alice")
    before = await state(runtime, settings)

    refused = await upload(http, tenant, png(3), expect=403)

    assert refused["error"] == {
        "code": "quota_exceeded",
        "message": "This client may store 2 images and has 2. Delete images or ask for more.",
        "status": 403,
        "field": None,
        "details": {"quota": "client_images", "limit": 2, "used": 2, "requested": 1},
    }
    assert await state(runtime, settings) == before
    await upload(http, other_tenant, png(3))  # another client's quota is its own


async def test_client_bytes_quota(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, settings: Settings
) -> None:
    first = await upload(http, tenant, png(1))
    second_size = len(png(2))  # PNGs without metadata are stored as they are
    await set_client(runtime, tenant.id, quota_bytes=first["size"] + second_size - 1)
    before = await state(runtime, settings)

    refused = await upload(http, tenant, png(2), expect=403)

    assert refused["error"]["details"] == {
        "quota": "client_bytes",
        "limit": first["size"] + second_size - 1,
        "used": first["size"],
        "requested": second_size,
    }
    assert await state(runtime, settings) == before
    await set_client(runtime, tenant.id, quota_bytes=first["size"] + second_size)  # exactly full is allowed
    await upload(http, tenant, png(2))


async def test_refusing_known_bytes_keeps_the_stored_original(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, settings: Settings
) -> None:
    kept = await upload(http, tenant, png(1))
    await set_client(runtime, tenant.id, quota_images=1)
    before = await state(runtime, settings)
    await upload(http, tenant, png(1), expect=403)  # the same content as the stored image
    assert await state(runtime, settings) == before
    served = await http.get(f"/v2/images/{kept['id']}")
    assert (served.status_code, served.content) == (200, png(1))


async def test_user_quotas_from_the_client(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, settings: Settings
) -> None:
    await set_client(runtime, tenant.id, user_quota_images=1)
    await upload(http, tenant, png(1), user="alice")
    before = await state(runtime, settings)
    refused = await upload(http, tenant, png(2), user="alice", expect=403)
    assert refused["error"]["details"] == {"quota": "user_images", "limit": 1, "used": 1, "requested": 1}
    assert refused["error"]["message"].startswith("This user may store 1 images")
    assert await state(runtime, settings) == before
    await upload(http, tenant, png(2), user="bob")  # each user has their own
    await upload(http, tenant, png(3))  # images of the client as a whole belong to no user


@pytest.mark.parametrize("settings_overrides", [{"quotas": {"user_bytes": 1, "client_images": 1}}])
async def test_server_defaults_apply_unless_the_client_sets_its_own(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, runtime: Runtime
) -> None:
    assert (await upload(http, tenant, png(1), user="alice", expect=403))["error"]["details"]["quota"] == "user_bytes"
    await upload(http, tenant, png(1))
    assert (await upload(http, tenant, png(2), expect=403))["error"]["details"]["quota"] == "client_images"
    # 0 on the client row means unlimited: it exempts the client from the server's defaults.
    await set_client(runtime, other_tenant.id, quota_images=0, user_quota_bytes=0)
    for n in range(3):
        await upload(http, other_tenant, png(n), user="alice")


@pytest.mark.parametrize("settings_overrides", [{"quotas": {"user_images": 5}}])
async def test_an_accounts_own_quota_comes_first(runtime: Runtime, tmp_path: Path) -> None:
    user = await create_user(runtime.accounts, email="ada@example.com", password="a long enough passphrase 1")
    other = await create_user(runtime.accounts, email="bob@example.com", password="a long enough passphrase 2")
    await set_client(runtime, ACCOUNTS_CLIENT_ID, user_quota_images=3)  # the default for accounts
    async with runtime.db.writer() as session:
        await session.execute(update(User).where(User.id == user.id).values(quota_images=1))

    async def ingest(owner: str, n: int) -> Image:
        path = tmp_path / f"{owner}-{n}.png"
        path.write_bytes(png(n))
        new = NewImage(path=path, sha256="0" * 64, client_id=ACCOUNTS_CLIENT_ID, owner_id=owner)
        policy = runtime.ingest_policy
        return await ingest_image(db=runtime.db, store=runtime.store, pool=runtime.pool, policy=policy, upload=new)

    await ingest(user.id, 1)
    with pytest.raises(QuotaExceeded) as refused:
        await ingest(user.id, 2)
    assert refused.value.details == {"quota": "user_images", "limit": 1, "used": 1, "requested": 1}
    for n in range(3):  # the other account has the accounts tenant's default, 3 (not the server's 5)
        await ingest(other.id, n)
    with pytest.raises(QuotaExceeded):
        await ingest(other.id, 4)

    report = await quota_report(
        db=runtime.db, defaults=runtime.ingest_policy.quotas, client_id=ACCOUNTS_CLIENT_ID, owner_id=other.id
    )
    assert [(u.quota, u.limit, u.used) for u in report] == [
        ("client_bytes", None, sum(len(png(n)) for n in (1, 0, 1, 2))),
        ("client_images", None, 4),
        ("user_bytes", None, sum(len(png(n)) for n in range(3))),
        ("user_images", 3, 3),
    ]


@pytest.mark.parametrize(
    ("client", "user", "expected"),
    [
        ({}, None, (None, 7, 6, 8, 1000)),
        ({"quota_bytes": 50, "user_quota_images": 4}, None, (50, 7, 6, 4, 1000)),
        ({"quota_bytes": 0, "quota_images": 0}, None, (None, None, 6, 8, 1000)),
        ({"user_quota_bytes": 9}, {"quota_bytes": 3}, (None, 7, 3, 8, 1000)),
        ({"user_quota_bytes": 9}, {"quota_bytes": 0}, (None, 7, None, 8, 1000)),
        ({"max_file_bytes": 400}, None, (None, 7, 6, 8, 400)),
        ({"max_file_bytes": 5000}, None, (None, 7, 6, 8, 1000)),  # capped by the server's limit
    ],
)
def test_limits_come_from_the_most_specific_place(
    client: dict[str, int], user: dict[str, int] | None, expected: tuple[int | None, ...]
) -> None:
    defaults = QuotaDefaults(max_file_bytes=1000, client_bytes=0, client_images=7, user_bytes=6, user_images=8)
    limits = resolve_limits(defaults, Client(**client), User(**user) if user is not None else None)
    found = (limits.client_bytes, limits.client_images, limits.user_bytes, limits.user_images, limits.max_file_bytes)
    assert found == expected


async def test_a_clients_file_size_limit(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, runtime: Runtime, settings: Settings
) -> None:
    data = img.make_jpeg(200, 150)
    await set_client(runtime, tenant.id, max_file_bytes=len(data) - 1)
    before = await state(runtime, settings)
    refused = await upload(http, tenant, data, expect=413)
    assert refused["error"]["code"] == "file_too_large"
    assert refused["error"]["details"]["limit"] == len(data) - 1
    assert await state(runtime, settings) == before
    await upload(http, other_tenant, data)


@pytest.mark.parametrize("settings_overrides", [{"uploads": {"max_file_bytes": 256 * 1024}}])
async def test_the_file_size_limit_holds_while_streaming(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, settings: Settings
) -> None:
    await set_client(runtime, tenant.id, max_file_bytes=64 * 1024)
    data = body(part("file", b"\xff\xd8" + b"x" * (200 * 1024), filename="big.jpg", content_type="image/jpeg"))
    pulled: list[int] = []
    response = await http.post(
        "/v2/images",
        headers={**tenant.headers(), "content-type": CONTENT_TYPE},
        content=chunked(data, 16 * 1024, pulled),
    )
    assert response.status_code == 413
    assert response.json()["error"]["details"]["limit"] == 64 * 1024
    assert len(pulled) <= 6  # refused after ~64 KB of the 200 KB body, not at the server's 256 KB
    assert stored_files(settings) == []


async def test_the_server_limit_caps_a_clients_larger_one(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime
) -> None:
    await set_client(runtime, tenant.id, max_file_bytes=runtime.settings.uploads.max_file_bytes * 4)
    too_big = b"\xff\xd8" + b"x" * runtime.settings.uploads.max_file_bytes
    refused = await upload(http, tenant, too_big, expect=413)
    assert refused["error"]["details"]["limit"] == runtime.settings.uploads.max_file_bytes


@pytest.mark.parametrize(
    ("quota", "expected_images"),
    [({"quota_images": 3}, 3), ({"user_quota_images": 3}, 3), ("bytes", 3)],
    ids=["client-images", "user-images", "client-bytes"],
)
async def test_concurrent_uploads_cannot_pass_a_quota_together(
    http: httpx.AsyncClient,
    tenant: ApiClient,
    runtime: Runtime,
    settings: Settings,
    quota: dict[str, int] | str,
    expected_images: int,
) -> None:
    first = await upload(http, tenant, png(0), user="alice")
    if quota == "bytes":
        sizes = sorted(len(png(n)) for n in range(1, 8))
        room = sum(sizes[-2:])  # room for any two more, not for three
        assert room < sum(sizes[:3])
        quota = {"quota_bytes": first["size"] + room}
    assert isinstance(quota, dict)
    await set_client(runtime, tenant.id, **quota)

    results = await asyncio.gather(*(upload_any(http, tenant, png(n), user="alice") for n in range(1, 8)))

    assert sorted(results) == [201, 201] + [403] * 5
    assert await image_count(runtime, tenant.id) == expected_images
    assert len(stored_files(settings)) == expected_images  # one original each, no temp files


async def upload_any(http: httpx.AsyncClient, tenant: ApiClient, data: bytes, *, user: str) -> int:
    response = await http.post("/v2/images", headers=tenant.headers(user), files={"file": ("a.png", data, "image/png")})
    assert response.status_code in (201, 403), response.text
    return response.status_code
