"""`pinhole migrate storage`, run as a subprocess: local folder to S3 (moto on loopback) and back, resuming after
failures, and `--verify` finding damaged or missing blobs; an app configured on the target then serves the images."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from pinhole.app import create_app
from pinhole.runtime import Runtime
from pinhole.settings import Settings, StorageSettings
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.support import images as img
from tests.support.env import settings_env
from tests.support.s3server import S3Server, s3_server

__all__ = ["s3_server"]  # the session fixture
from tests.test_cli_cache import Completed, _run_pinhole, pinhole

pytestmark = pytest.mark.anyio


@pytest.fixture
def database_url() -> None:
    """The database is not what is migrated here: SQLite alone (`test_migrate_db` covers PostgreSQL)."""


def s3_env(server: S3Server, bucket: str, prefix: str = "moved/") -> dict[str, str]:
    return {
        "PINHOLE_STORAGE__BACKEND": "s3",
        "PINHOLE_STORAGE__S3__ENDPOINT_URL": server.endpoint_url,
        "PINHOLE_STORAGE__S3__BUCKET": bucket,
        "PINHOLE_STORAGE__S3__PREFIX": prefix,
        "PINHOLE_STORAGE__S3__PATH_STYLE": "true",
        "PINHOLE_STORAGE__S3__ACCESS_KEY_ID": server.access_key_id,
        "PINHOLE_STORAGE__S3__SECRET_ACCESS_KEY": server.secret_access_key,
        "PINHOLE_STORAGE__S3__MAX_ATTEMPTS": "1",
    }


def env_file(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return path


async def migrate(settings: Settings, *args: str, env: dict[str, str] | None = None) -> tuple[Completed, Any]:
    result = await pinhole(settings, "migrate", "storage", *args, "--json", env=env)
    assert result.returncode in (0, 1), result.stderr
    return result, json.loads(result.stdout)


@asynccontextmanager
async def app_on(settings: Settings, storage: StorageSettings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database, configured with the target store."""
    application = create_app(settings.model_copy(update={"storage": storage}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def photos_with_variants(http: httpx.AsyncClient, tenant: ApiClient, count: int) -> list[dict[str, Any]]:
    photos = []
    for n in range(count):
        photo = await upload(http, tenant, img.make_jpeg(200 + 20 * n, 100), user="alice")
        variant = await http.get(f"/v2/images/{photo['id']}", params={"w": 50, "format": "png"})
        assert variant.status_code == 200
        photos.append(photo)
    return photos


async def assert_served(client: httpx.AsyncClient, photo: dict[str, Any], originals: dict[str, bytes]) -> None:
    served = await client.get(f"/v2/images/{photo['id']}")
    assert served.status_code == 200
    assert served.content in originals.values()
    assert len(served.content) == photo["size"]
    variant = await client.get(f"/v2/images/{photo['id']}", params={"w": 50, "format": "png"})
    assert variant.status_code == 200
    assert (img.format_of(variant.content), img.open_image(variant.content).width) == ("png", 50)


async def stored(runtime: Runtime, prefix: str) -> dict[str, bytes]:
    return {key: await runtime.store.get_bytes(key) async for key in runtime.store.list_keys(prefix)}


async def test_local_to_s3_then_nothing_left_to_copy(
    settings: Settings,
    runtime: Runtime,
    http: httpx.AsyncClient,
    tenant: ApiClient,
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    [photo] = await photos_with_variants(http, tenant, 1)
    originals = await stored(runtime, "originals/")
    bucket = s3_server.new_bucket()
    target = env_file(tmp_path / "target.env", s3_env(s3_server, bucket))

    result, first = await migrate(settings, "--to", str(target), "--verify")
    assert result.returncode == 0, result.stdout
    assert first["copy"] | {"failures": None} == {
        "total": 2,
        "copied": 2,
        "skipped": 0,
        "bytesCopied": first["copy"]["bytesCopied"],
        "failed": 0,
        "failures": None,
    }
    assert first["verify"]["failed"] == 0
    # Not a terminal: plain progress lines on stderr instead of a bar.
    assert "copying blobs: 2/2" in result.stderr
    assert "verifying blobs: 2/2" in result.stderr
    listed = s3_server.client.list_objects_v2(Bucket=bucket, Prefix="moved/")
    names = sorted(item["Key"] for item in listed["Contents"])
    assert [name.split("/")[1] for name in names] == ["originals", "variants"]

    result, second = await migrate(settings, "--to", str(target))
    assert result.returncode == 0
    assert (second["copy"]["copied"], second["copy"]["skipped"]) == (0, 2)

    async with app_on(settings, s3_storage(s3_server, bucket)) as moved:
        await assert_served(moved, photo, originals)


def s3_storage(server: S3Server, bucket: str, prefix: str = "moved/") -> StorageSettings:
    s3 = server.settings(bucket, prefix=prefix).model_dump() | {"secret_access_key": server.secret_access_key}
    return StorageSettings.model_validate({"backend": "s3", "s3": s3})


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The local store, or S3 for tests parametrized with `"s3"` (indirect): a fresh bucket, prefix `app/`."""
    if getattr(request, "param", None) != "s3":
        return {}
    server: S3Server = request.getfixturevalue("s3_server")
    return {"storage": s3_storage(server, server.new_bucket(), prefix="app/").model_dump()}


def source_env(settings: Settings, server: S3Server) -> dict[str, str]:
    assert settings.storage.s3.bucket is not None
    return s3_env(server, settings.storage.s3.bucket, prefix="app/")


def local_target(tmp_path: Path, *, toml: bool = False) -> tuple[Path, Path]:
    """A folder, described by an env file or by a TOML settings file (whose other sections are ignored)."""
    root = tmp_path / "moved-blobs"
    if toml:
        path = tmp_path / "target.toml"
        path.write_text(f'[server]\nport = 1\n\n[storage]\nbackend = "local"\nlocal_root = "{root}"\n')
        return root, path
    return root, env_file(tmp_path / "target.env", {"PINHOLE_STORAGE__LOCAL_ROOT": str(root)})


@pytest.mark.parametrize("settings_overrides", ["s3"], indirect=True)
async def test_s3_to_local_resumes_after_failures(
    settings: Settings,
    runtime: Runtime,
    http: httpx.AsyncClient,
    tenant: ApiClient,
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    photos = await photos_with_variants(http, tenant, 3)
    originals = await stored(runtime, "originals/")
    assert len(originals) == 3
    root, target = local_target(tmp_path)
    # A file where one original's folder must go: every write under it fails, as a full or broken disk would.
    blocked = sorted(originals)[0]
    blocker = root / blocked.rsplit("/", 2)[0]
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")
    env = source_env(settings, s3_server)

    result, failed = await migrate(settings, "--to", str(target), "--retries", "1", env=env)
    assert result.returncode == 1
    assert blocked in failed["copy"]["failures"]
    assert "storage failed after 2 attempt(s)" in failed["copy"]["failures"][blocked]
    assert failed["copy"]["copied"] + failed["copy"]["failed"] == 6
    assert failed["copy"]["failed"] >= 1

    blocker.unlink()
    result, resumed = await migrate(settings, "--to", str(target), "--verify", env=env)
    assert result.returncode == 0, result.stdout
    assert resumed["copy"]["copied"] == failed["copy"]["failed"]
    assert resumed["copy"]["skipped"] == failed["copy"]["copied"]
    assert resumed["verify"] | {"failures": {}} == {**resumed["verify"], "failed": 0}

    async with app_on(settings, StorageSettings(local_root=root)) as moved:
        for photo in photos:
            await assert_served(moved, photo, originals)


async def test_verify_finds_damaged_and_missing_blobs(
    settings: Settings, runtime: Runtime, http: httpx.AsyncClient, tenant: ApiClient, tmp_path: Path
) -> None:
    await photos_with_variants(http, tenant, 1)
    root, target = local_target(tmp_path, toml=True)
    result, _ = await migrate(settings, "--to", str(target))
    assert result.returncode == 0, result.stdout
    [original] = (await stored(runtime, "originals/")).keys()
    [variant] = (await stored(runtime, "variants/")).keys()
    damaged = root / original
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    (root / variant).unlink()

    result, checked = await migrate(settings, "--to", str(target), "--verify-only")
    assert result.returncode == 1
    assert checked["copy"] is None
    assert checked["verify"]["failures"] == {
        original: "content hash differs from the one recorded",
        variant: "missing from the target store",
    }
    assert (
        f"bad {variant}: missing from the target store"
        in (await pinhole(settings, "migrate", "storage", "--to", str(target), "--verify-only")).stdout
    )

    result, rerun = await migrate(settings, "--to", str(target), "--verify")
    assert result.returncode == 1  # same-size damage is not seen by the size check: verify still reports it
    assert rerun["copy"]["copied"] == 1
    assert list(rerun["verify"]["failures"]) == [original]

    result, repaired = await migrate(settings, "--to", str(target), "--rehash", "--verify")
    assert result.returncode == 0, result.stdout
    assert (repaired["copy"]["copied"], repaired["copy"]["skipped"]) == (1, 1)
    assert repaired["verify"]["failed"] == 0
    assert (root / original).read_bytes() == (await stored(runtime, "originals/"))[original]


def test_unusable_targets_are_refused(settings: Settings, tmp_path: Path) -> None:
    configured = {name: value for name, value in settings_env(settings).items() if name.startswith("PINHOLE_STORAGE")}
    if settings.storage.backend == "local":
        configured["PINHOLE_STORAGE__LOCAL_ROOT"] = str(settings.blob_root)
    same = env_file(tmp_path / "same.env", configured)  # the configured store, whichever the test stack uses
    no_bucket = env_file(tmp_path / "s3.env", {"PINHOLE_STORAGE__BACKEND": "s3"})
    env = {"PINHOLE_DATA_DIR": str(settings.data_dir)}
    refused = _run_pinhole(settings, ("migrate", "storage", "--to", str(same)), env)
    assert (refused.returncode, "the target store is the configured store" in refused.stderr) == (2, True)
    refused = _run_pinhole(settings, ("migrate", "storage", "--to", str(no_bucket)), env)
    assert refused.returncode == 2
    assert "PINHOLE_STORAGE: Value error, backend `s3` needs a bucket" in refused.stderr
