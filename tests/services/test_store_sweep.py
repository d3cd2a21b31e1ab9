"""The store sweep on the test stack's store (local files, or the S3 server): leftovers of interrupted writes go,
blobs no row refers to go once past the grace period, recorded blobs without a file are reported, kept files go
after their retention. Uploads recorded in the database are never touched."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from pinhole.db.models import Blob, Image
from pinhole.runtime import Runtime
from pinhole.services.store_sweep import sweep
from pinhole.storage.keys import original_key, variants_prefix
from tests.conftest import ApiClient
from tests.support import images as img

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"storage": {"sweep_interval_seconds": 0}}  # the background task stays out of the way


async def upload(http: httpx.AsyncClient, tenant: ApiClient, data: bytes) -> str:
    response = await http.post("/v2/images", headers=tenant.headers(), files={"file": ("p.png", data)})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def stored_hash(runtime: Runtime, image_id: str) -> str:
    async with runtime.db.reader() as session:
        image = await session.get(Image, image_id)
        assert image is not None
        return image.content_hash


async def run_sweep(runtime: Runtime, *, grace: float, repair: bool, retention_days: int = 30) -> Any:
    return await sweep(
        db=runtime.db,
        store=runtime.store,
        tmp_dir=runtime.settings.tmp_dir,
        grace_seconds=grace,
        retention_days=retention_days,
        repair=repair,
    )


async def orphan(runtime: Runtime, data: bytes) -> tuple[str, str]:
    """An original stored with no row (what a kill between the file and the commit leaves), with a variant file."""
    content_hash = hashlib.sha256(data).hexdigest()
    await runtime.store.put_bytes(original_key(content_hash), data)
    await runtime.store.put_bytes(f"{variants_prefix(content_hash)}0123456789abcdef.webp", b"variant")
    return content_hash, original_key(content_hash)


async def test_orphans_past_the_grace_period_go_and_recorded_blobs_stay(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    kept_id = await upload(http, tenant, img.make_png(30, 20))
    served = await http.get(f"/v2/images/{kept_id}?w=10&format=webp")  # a recorded variant too
    assert served.status_code == 200
    content_hash, key = await orphan(runtime, img.make_png(31, 20))

    young = await run_sweep(runtime, grace=3600, repair=True)
    assert (young.orphans, young.young_orphans) == ([], 1)
    assert await runtime.store.stat(key) is not None

    checked = await run_sweep(runtime, grace=0, repair=False)
    assert checked.orphans == [key]
    assert not checked.ok
    assert await runtime.store.stat(key) is not None  # a check changes nothing

    repaired = await run_sweep(runtime, grace=0, repair=True)
    assert repaired.orphans == [key]
    assert repaired.ok
    assert await runtime.store.stat(key) is None
    assert [k async for k in runtime.store.list_keys(variants_prefix(content_hash))] == []
    async with runtime.db.reader() as session:
        assert await session.get(Blob, content_hash) is None  # the claim the sweep made is gone with the file

    again = await run_sweep(runtime, grace=0, repair=False)
    assert again.ok
    assert (again.originals, again.variants, again.missing) == (1, 1, [])
    assert (await http.get(f"/v2/images/{kept_id}")).status_code == 200
    assert (await http.get(f"/v2/images/{kept_id}?w=10&format=webp")).status_code == 200


async def test_a_recorded_blob_without_its_file_is_reported_not_repaired(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    image_id = await upload(http, tenant, img.make_png(33, 20))
    content_hash = await stored_hash(runtime, image_id)
    await runtime.store.delete(original_key(content_hash))
    report = await run_sweep(runtime, grace=0, repair=True)
    assert report.missing == [content_hash]
    assert not report.ok
    async with runtime.db.reader() as session:
        assert await session.get(Blob, content_hash) is not None  # reported, never guessed away


async def test_temp_files_past_the_grace_period_go(runtime: Runtime) -> None:
    tmp = runtime.settings.tmp_dir
    tmp.mkdir(parents=True, exist_ok=True)
    old, young, foreign = tmp / "upload-old.part", tmp / "original-young.jpg", tmp / "notes.txt"
    for path in (old, young, foreign):
        path.write_bytes(b"x")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    os.utime(foreign, (an_hour_ago, an_hour_ago))
    report = await run_sweep(runtime, grace=600, repair=True)
    assert report.temp_files == 1
    assert (old.exists(), young.exists(), foreign.exists()) == (False, True, True)


async def test_kept_files_go_after_their_retention(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    recent_id, old_id = (
        await upload(http, tenant, img.make_png(35, 20)),
        await upload(http, tenant, img.make_png(36, 20)),
    )
    recent_hash, old_hash = await stored_hash(runtime, recent_id), await stored_hash(runtime, old_id)
    async with runtime.db.writer() as session:
        admin_delete = select(Image).where(Image.id.in_([recent_id, old_id]))
        for image in await session.scalars(admin_delete):
            await session.delete(image)
        await session.execute(update(Blob).values(preserved=True, preserved_at=datetime.now(UTC)))
        await session.execute(
            update(Blob)
            .where(Blob.content_hash == old_hash)
            .values(preserved_at=datetime.now(UTC) - timedelta(days=40))
        )
    report = await run_sweep(runtime, grace=0, repair=True, retention_days=30)
    assert report.kept_purged == [old_hash]
    assert report.orphans == []  # kept blobs have their row: never orphans
    assert await runtime.store.stat(original_key(old_hash)) is None
    assert await runtime.store.stat(original_key(recent_hash)) is not None
    forever = await run_sweep(runtime, grace=0, repair=True, retention_days=0)
    assert forever.kept_purged == []
