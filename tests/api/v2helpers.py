"""Small helpers for driving the v2 API in tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import httpx

from pinhole.settings import S3Settings, Settings
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


def stored_files(settings: Settings) -> list[Path]:
    """Every object in the blob store and every file in the temp folder (what a failed request must not leave behind).

    Objects of an S3 store are listed on the server and given as the paths they would have in the local folder
    (`<blob_root>/<key>`), so a test reads the same on either store.
    """
    temp = [p for p in settings.tmp_dir.rglob("*") if p.is_file()]
    if settings.storage.backend != "s3":
        return sorted([*temp, *(p for p in settings.blob_root.rglob("*") if p.is_file())])
    return sorted([*temp, *(settings.blob_root / key for key in s3_keys(settings.storage.s3))])


def s3_keys(s3: S3Settings) -> list[str]:
    """The keys under the store's prefix, without it, read with a plain boto3 client behind the store's back."""
    secret = s3.secret_access_key.get_secret_value() if s3.secret_access_key else None
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=s3.endpoint_url,
        region_name=s3.region,
        aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=secret,
    )
    assert s3.bucket is not None  # an S3 stack always names its bucket
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket, Prefix=s3.prefix)
        return [item["Key"][len(s3.prefix) :] for page in pages for item in page.get("Contents", [])]
    finally:
        client.close()


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
