"""`pinhole migrate db`, run as a subprocess: a SQLite app full of data copied into a fresh PostgreSQL database, then
an app on PostgreSQL sees the same data (listings, sign-in, keys, share links, album tokens) and no counter drifts."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest

from pinhole.app import create_app
from pinhole.runtime import Runtime
from pinhole.services import keys
from pinhole.settings import DatabaseSettings, Settings
from tests.api.signin import PASSWORD, bearer, login, make_user
from tests.api.v2helpers import upload
from tests.conftest import POSTGRES_ADMIN_URL, ApiClient, _admin, _with_database
from tests.support import images as img
from tests.test_cli_cache import Completed, pinhole

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


@pytest.fixture
def database_url() -> None:
    """The source: SQLite in the data folder."""


@pytest.fixture
def target_url() -> Iterator[str]:
    """A new, empty PostgreSQL database (not migrated: the command does that), dropped afterwards."""
    name = f"pinhole_migrate_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(f"POSTGRESQL UNREACHABLE ({exc}); `migrate db` not tested")
    yield _with_database(POSTGRES_ADMIN_URL, name)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@asynccontextmanager
async def app_on(settings: Settings, url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The same data folder (secret, blobs), the PostgreSQL database."""
    application = create_app(settings.model_copy(update={"database": DatabaseSettings(url=url)}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def migrate_db(settings: Settings, url: str, *args: str) -> tuple[Completed, Any]:
    result = await pinhole(settings, "migrate", "db", "--to", url, *args, "--json")
    return result, json.loads(result.stdout) if result.stdout else None


async def fill(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> dict[str, Any]:
    """One of everything: a user with a personal key, tagged images, a group, an album with a token, an avatar,
    a share link, a variant."""
    user = await make_user(runtime, "alice")
    personal = await keys.create_personal_key(runtime.db, user_id=user.id, name="laptop")
    tagged = await upload(http, tenant, img.make_jpeg(120, 80), user="alice", fields={"tags": "sea,sun"})
    private = await upload(http, tenant, img.make_png(40, 30), user="alice", fields={"isPrivate": "true"})
    files = [("file", (n, img.make_jpeg(30 + i, 20), "image/jpeg")) for i, n in enumerate(("a.jpg", "b.jpg"))]
    group = await http.post("/v2/images", headers=tenant.headers("alice"), files=files)
    assert group.status_code == 201, group.text
    album = (await http.post("/v2/albums", headers=tenant.headers("alice"), json={"name": "Trip"})).json()
    added = await http.post(
        f"/v2/albums/{album['id']}/images", headers=tenant.headers("alice"), json={"imageIds": [tagged["id"]]}
    )
    assert added.status_code == 200, added.text
    album_token = (
        await http.post(f"/v2/albums/{album['id']}/tokens", headers=tenant.headers("alice"), json={})
    ).json()["token"]
    avatar = await http.post(
        "/v2/avatars",
        headers=tenant.headers(),
        files={"file": ("me.png", img.make_png(64, 64), "image/png")},
        data={"externalUserId": "alice"},
    )
    assert avatar.status_code == 201, avatar.text
    share = (await http.post(f"/v2/images/{private['id']}/share", headers=tenant.headers("alice"))).json()
    assert (await http.get(f"/v2/images/{tagged['id']}", params={"w": 60})).status_code == 200
    return {
        "personal_key": personal.key,
        "tagged": tagged,
        "album": album,
        "album_token": album_token,
        "share": share["token"],
    }


async def test_sqlite_to_postgres(
    settings: Settings, runtime: Runtime, http: httpx.AsyncClient, tenant: ApiClient, target_url: str
) -> None:
    data = await fill(http, runtime, tenant)
    # Views still buffered in this process would reach the source after the copy (the listing shows them): an
    # operator stops the old instance first, which flushes them.
    await runtime.usage.flush()

    result, report = await migrate_db(settings, target_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["ok"] is True
    assert report["counterDrift"] == []
    tables = report["tables"]
    for name in (
        "clients",
        "users",
        "api_keys",
        "images",
        "image_tags",
        "image_groups",
        "albums",
        "album_images",
        "album_tokens",
        "avatars",
        "share_links",
        "blobs",
        "variants",
    ):
        assert tables[name]["source"] == tables[name]["target"] > 0, name
    assert "client_counters" not in tables  # rebuilt by the triggers, checked by `counterDrift`

    # Listed after the copy: views are counted in memory first, and were flushed before the copy read them.
    before = (await http.get("/v2/images", headers=tenant.headers("alice"), params={"limit": 100})).json()
    async with app_on(settings, target_url) as moved:
        listing = (await moved.get("/v2/images", headers=tenant.headers("alice"), params={"limit": 100})).json()
        assert len(listing["data"]) == 4
        assert listing["data"] == before["data"]
        tagged = next(i for i in listing["data"] if i["id"] == data["tagged"]["id"])
        assert sorted(tagged["tags"]) == ["sea", "sun"]
        signed_in = await login(moved, "alice", PASSWORD)
        assert signed_in["accessToken"]
        by_key = await moved.get("/v2/images", headers=bearer(data["personal_key"]))
        assert by_key.status_code == 200, by_key.text
        assert (await moved.get("/v2/images", headers=bearer(data["personal_key"] + "x"))).status_code == 401
        assert (await moved.get(f"/v2/images/share/{data['share']}")).status_code == 200
        opened = await moved.get(f"/v2/albums/{data['album']['id']}", params={"token": data["album_token"]})
        assert opened.status_code == 200, opened.text
        # New rows after the copy: the variants sequence was moved past the copied ids.
        for width in (61, 62):
            assert (await moved.get(f"/v2/images/{data['tagged']['id']}", params={"w": width})).status_code == 200

    pg = settings.model_copy(update={"database": DatabaseSettings(url=target_url)})
    recount = await pinhole(pg, "stats", "recount", "--dry-run", "--json")
    assert recount.returncode == 0, recount.stderr
    assert json.loads(recount.stdout)["drift"] == []


async def test_a_non_empty_target_needs_force(
    settings: Settings, runtime: Runtime, http: httpx.AsyncClient, tenant: ApiClient, target_url: str
) -> None:
    await upload(http, tenant, img.make_jpeg(50, 40), user="alice")
    result, _ = await migrate_db(settings, target_url)
    assert result.returncode == 0, result.stdout + result.stderr
    await upload(http, tenant, img.make_jpeg(60, 40), user="alice")

    refused = await pinhole(settings, "migrate", "db", "--to", target_url)
    assert refused.returncode == 1
    assert "not empty" in refused.stderr
    assert "--force" in refused.stderr

    result, report = await migrate_db(settings, target_url, "--force", "--batch-size", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["tables"]["images"] == {"source": 2, "target": 2}
    assert report["counterDrift"] == []


async def test_unusable_targets_are_refused(settings: Settings, runtime: Runtime, free_tcp_port: int) -> None:
    unreachable = await pinhole(settings, "migrate", "db", "--to", f"postgresql://postgres@127.0.0.1:{free_tcp_port}/x")
    assert unreachable.returncode == 1
    assert "error: database error: ConnectionRefusedError" in unreachable.stderr
    itself = await pinhole(settings, "migrate", "db", "--to", settings.database_url)
    assert (itself.returncode, "the target database is the configured database" in itself.stderr) == (2, True)
