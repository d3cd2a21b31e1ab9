"""Small helpers for driving the v2 API in tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ApiClient
from tests.support.images import make_jpeg


async def upload(
    http: httpx.AsyncClient,
    tenant: ApiClient,
    data: bytes | None = None,
    *,
    user: str | None = None,
    filename: str = "photo.jpg",
    fields: dict[str, Any] | None = None,
    expect: int = 201,
) -> dict[str, Any]:
    body = data if data is not None else make_jpeg(64, 48)
    response = await http.post(
        "/v2/images",
        headers=tenant.headers(user),
        files={"file": (filename, body, "image/jpeg")},
        data=fields or {},
    )
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def stored_files(data_dir: Path) -> list[Path]:
    """Every file in the blob store and the temp folder (what a failed request must not leave behind)."""
    return sorted(p for folder in ("blobs", "tmp") for p in (data_dir / folder).rglob("*") if p.is_file())
