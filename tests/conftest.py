"""Shared fixtures: every app test runs on the stack `PINHOLE_TEST_STACK` names.

- `embedded`: SQLite in a temp folder and the local blob folder (the default deployment).
- `scaled`: PostgreSQL, the S3 store on a real S3-speaking server (moto's, started here) and Redis: the setup of
  many instances. The test command (`python3 tasks.py test`) runs the whole suite once on each.
- unset (a developer's quick run): SQLite and PostgreSQL both, local blobs.

PostgreSQL comes from `PINHOLE_TEST_POSTGRES_URL` (default: the local server); each test run creates its own
database and drops it at the end. Where no server answers, the PostgreSQL runs are skipped and the summary says so
in capitals, except on the `scaled` stack, where an unreachable server fails the run.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from pinhole.app import create_app
from pinhole.db.engine import Database
from pinhole.db.migrate import upgrade
from pinhole.runtime import Runtime
from pinhole.services.clients import create_client
from pinhole.settings import Settings
from tests.support import redisserver
from tests.support.redisserver import redis_settings  # noqa: F401 (a fixture for every test module)
from tests.support.s3server import S3Server, s3_server

__all__ = ["s3_server"]  # a session fixture: the scaled stack's S3 server

# Tests build their settings explicitly; an operator's PINHOLE_* variables must not leak in.
for _name in [n for n in os.environ if n.startswith("PINHOLE_") and not n.startswith("PINHOLE_TEST_")]:
    del os.environ[_name]

STACKS = ("embedded", "scaled")
STACK = os.environ.get("PINHOLE_TEST_STACK", "")
if STACK and STACK not in STACKS:
    raise pytest.UsageError(f"PINHOLE_TEST_STACK={STACK!r}: use one of {', '.join(STACKS)} (or leave it unset)")
DATABASES = {"embedded": ["sqlite"], "scaled": ["postgres"]}.get(STACK, ["sqlite", "postgres"])
POSTGRES_ADMIN_URL = os.environ.get("PINHOLE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_postgres_problem: list[str] = []


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated once."""
    name = f"pinhole_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        _postgres_problem.append(f"{POSTGRES_ADMIN_URL}: {type(exc).__name__}: {exc}")
        if STACK == "scaled":
            pytest.fail(f"POSTGRESQL UNREACHABLE on the scaled stack ({exc})", pytrace=False)
        pytest.skip(f"POSTGRESQL UNREACHABLE ({exc}); PostgreSQL runs skipped")
    url = _with_database(POSTGRES_ADMIN_URL, name)

    async def migrate() -> None:
        database = Database(Settings(database={"url": url}).database_url)
        await upgrade(database)
        await database.dispose()

    asyncio.run(migrate())
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_postgres(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"
        )
        if tables:
            await conn.execute("TRUNCATE " + ", ".join(f'"{t["tablename"]}"' for t in tables) + " CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=[pytest.param(name, marks=[pytest.mark.postgres] * (name == "postgres")) for name in DATABASES])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """None means the embedded default (SQLite in the data folder)."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate_postgres(url))
    return url


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change settings for its app."""
    return {}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and key in merged else value
    return merged


@pytest.fixture(scope="session")
def stack_bucket(request: pytest.FixtureRequest) -> tuple[S3Server, str]:
    """The scaled stack's bucket on the session's S3 server; each test stores under a prefix of its own."""
    server: S3Server = request.getfixturevalue("s3_server")
    return server, server.new_bucket()


def stack_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """What the stack adds to every app's settings: nothing on the embedded stack."""
    if STACK != "scaled":
        return {}
    server, bucket = request.getfixturevalue("stack_bucket")
    s3 = server.settings(bucket, prefix=f"t-{uuid.uuid4().hex[:12]}/").model_dump()
    return {"storage": {"backend": "s3", "s3": s3}, "redis": request.getfixturevalue("redis_settings")}


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str | None, settings_overrides: dict[str, Any]
) -> Settings:
    base: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database": {"url": database_url},
        "imaging": {"threads": 2, "queue_size": 16},
        # Cheap argon2 so tests can make many accounts; tests/security checks the production parameters.
        "accounts": {"password_hash_memory_kib": 1024, "password_hash_time_cost": 1},
    }
    return Settings(**_merge(_merge(base, stack_settings(request)), settings_overrides))


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    runtime: Runtime = application.state.runtime
    if settings.is_sqlite:
        await upgrade(runtime.db)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    rt: Runtime = app.state.runtime
    return rt


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass(frozen=True)
class ApiClient:
    id: str
    key: str

    def headers(self, user: str | None = None) -> dict[str, str]:
        headers = {"X-API-Key": self.key}
        if user is not None:
            headers["X-User-Id"] = user
        return headers


@pytest.fixture
async def tenant(runtime: Runtime) -> ApiClient:
    new = await create_client(db=runtime.db, name="tenant-a")
    return ApiClient(id=new.client.id, key=new.api_key)


@pytest.fixture
async def other_tenant(runtime: Runtime) -> ApiClient:
    new = await create_client(db=runtime.db, name="tenant-b")
    return ApiClient(id=new.client.id, key=new.api_key)


# A test whose fixtures reach none of these runs the same code on both stacks: the scaled run leaves it to the
# embedded one (the test command runs both), which keeps the whole command inside CI's time.
STACK_FIXTURES = frozenset({"database_url", "postgres_url", "stack_bucket", "s3_server", "redis_settings"})
_left_to_embedded: list[int] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the scaled stack, deselect the tests that do not touch it (`stack_independent`)."""
    if STACK != "scaled":
        return
    kept: list[pytest.Item] = []
    left: list[pytest.Item] = []
    for item in items:
        (left if stack_independent(item) else kept).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept
        _left_to_embedded.append(len(left))


def stack_independent(item: pytest.Item) -> bool:
    """No fixture of the test reaches the database, the blob store's server or Redis, and it is not marked
    `both_stacks` (a test that reads the stack another way, or starts servers on it)."""
    names = set(getattr(item, "fixturenames", ()))
    return not (names & STACK_FIXTURES) and item.get_closest_marker("both_stacks") is None


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist each worker hands what the summary reports to the controlling process."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["pinhole_summary"] = {
            "left": sum(_left_to_embedded),
            "postgres": list(_postgres_problem),
            "redis": list(redisserver.problems),
        }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist's controller: gather the workers' summaries (every worker collects, and deselects, every test)."""
    summary = getattr(node, "workeroutput", {}).get("pinhole_summary")
    if not summary:
        return
    if summary["left"] and not _left_to_embedded:
        _left_to_embedded.append(summary["left"])
    _postgres_problem.extend(line for line in summary["postgres"] if line not in _postgres_problem)
    redisserver.problems.extend(summary["redis"])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _left_to_embedded:
        terminalreporter.write_line(
            f"scaled stack: {sum(_left_to_embedded)} tests that reach no database, S3 or Redis left to the embedded run"
        )
    if _postgres_problem:
        terminalreporter.write_sep("!", "POSTGRESQL WAS UNREACHABLE: EVERY POSTGRESQL RUN WAS SKIPPED", red=True)
        for line in _postgres_problem:
            terminalreporter.write_line(line, red=True)
    if redisserver.problems:
        terminalreporter.write_sep("!", "REDIS WAS UNREACHABLE: EVERY REDIS TEST WAS SKIPPED", red=True)
        for line in sorted(set(redisserver.problems)):
            terminalreporter.write_line(line, red=True)
