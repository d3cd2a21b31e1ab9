from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.uploads.app import build_app

DEFAULT_LIMITS = {"max_file_bytes": 1024 * 1024}

Send = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def limits() -> dict[str, int]:
    """A test sets its own with `@pytest.mark.parametrize("limits", [...])`."""
    return DEFAULT_LIMITS


@pytest.fixture
def app(tmp_dir: Path, limits: dict[str, int]) -> Starlette:
    return build_app(tmp_dir, limits)


@pytest.fixture
def send(app: Starlette) -> Send:
    async def post(path: str = "/upload", **options: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://pinhole.test") as client:
            return await client.post(path, **options)

    return post
