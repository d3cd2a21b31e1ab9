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


HEAD_HEADERS = ("content-type", "content-length", "etag", "cache-control")


async def assert_head_matches_get(
    http: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None, params: dict[str, str] | None = None
) -> None:
    """HEAD answers GET's status and serving headers with no body."""
    got = await http.get(url, headers=headers, params=params)
    head = await http.head(url, headers=headers, params=params)
    assert head.status_code == got.status_code == 200, head.text
    assert head.content == b""
    for name in HEAD_HEADERS:
        assert head.headers.get(name) == got.headers.get(name), name
    assert int(head.headers["content-length"]) == len(got.content)
