"""The clients people use: the generated operations plus what generators do badly (uploads with progress, every
page of a listing, variant URLs, local URL signing)."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, cast

import httpx

from pinhole_client import tus
from pinhole_client._core import _result
from pinhole_client._generated import AsyncOperations, ImagePublic, Operations
from pinhole_client.downloads import Download, suggested_filename
from pinhole_client.signing import Signer
from pinhole_client.uploads import TUS_THRESHOLD, Progress, open_source, upload_fields
from pinhole_client.urls import Transform, image_url

Source = str | os.PathLike[str] | bytes


class _Urls:
    base_url: str
    signer: Signer | None

    def url(
        self,
        image_id: str,
        *,
        sign: bool = False,
        expires_in: int | None = None,
        expires_at: int | None = None,
        **options: Any,
    ) -> str:
        """A variant's URL: `w`, `h`, `q`, `format`, `fit`, `enlarge`, `thumb`; signed with the client's signing
        key when `sign` (or an expiry) is given."""
        transform = Transform.of(**options)
        extra: dict[str, str] = {}
        if expires_in is not None:
            expires_at = int(time.time()) + expires_in
        if sign or expires_at is not None:
            if self.signer is None:
                raise ValueError("signing needs a signing_key (`id:secret`) on the client")
            extra = self.signer.sign(image_id, transform, expires_at=expires_at)
        return image_url(self.base_url, image_id, transform, extra)


def _wants_tus(total: int, resumable: bool | None, resume_url: str | None) -> bool:
    """Resumable when asked, when resuming, or when the file is large (`TUS_THRESHOLD`)."""
    return resumable if resumable is not None else (total >= TUS_THRESHOLD or resume_url is not None)


def _tus_metadata(name: str, fields: dict[str, Any]) -> dict[str, str]:
    return {"filename": name, **{key: str(value) for key, value in fields.items()}}


def _signer(signing_key: str | Signer | None) -> Signer | None:
    return Signer.parse(signing_key) if isinstance(signing_key, str) else signing_key


class Client(Operations, _Urls):
    """pinhole's v2 API, blocking. `Client(base_url, api_key=... | token=..., signing_key="k1:...")`."""

    def __init__(self, base_url: str, *, signing_key: str | Signer | None = None, **options: Any) -> None:
        super().__init__(base_url, **options)
        self.signer = _signer(signing_key)

    def __enter__(self) -> Client:
        return self

    def supports_tus(self) -> bool:
        """Whether the server takes resumable uploads (OPTIONS /v2/uploads answers Tus-Version)."""
        try:
            return "Tus-Version" in self.http.options("/v2/uploads").headers
        except httpx.HTTPError:
            return False

    def upload(
        self,
        source: Source,
        *,
        filename: str | None = None,
        tags: list[str] | tuple[str, ...] = (),
        private: bool = False,
        album: str | None = None,
        description: str | None = None,
        progress: Progress | None = None,
        resumable: bool | None = None,
        resume_url: str | None = None,
        on_resumable: Callable[[str], None] | None = None,
        chunk_bytes: int = tus.CHUNK_BYTES,
    ) -> ImagePublic:
        """Upload one image (a path or bytes); `progress(sent, total)` is called as the bytes go out.

        Large files (`TUS_THRESHOLD`, or `resumable=True`) go through tus when the server offers it; `on_resumable`
        gets the upload's URL, and passing it back as `resume_url` continues from the server's offset.
        """
        name, reader, kind = open_source(source, filename, progress)
        with reader:
            fields = upload_fields(tags=tags, private=private, album=album, description=description)
            if _wants_tus(reader.total, resumable, resume_url) and self.supports_tus():
                meta = _tus_metadata(name, fields)
                image = tus.upload(
                    self.http,
                    reader,
                    meta,
                    resume_url=resume_url,
                    on_created=on_resumable,
                    progress=progress,
                    chunk_bytes=chunk_bytes,
                )
                return cast(ImagePublic, image)
            return cast(ImagePublic, self.images_upload(files={"file": (name, reader, kind)}, data=fields))

    def iter_images(self, **filters: Any) -> Iterator[ImagePublic]:
        """Every image the filters match, page after page (cursor paging)."""
        yield from _pages(self.images_list, filters)

    def iterate(self, list_operation: Callable[..., Any], **filters: Any) -> Iterator[Any]:
        """Every item of any cursor-paged listing: `client.iterate(client.albums_list)`."""
        yield from _pages(list_operation, filters)

    def download(self, image_id: str, **options: Any) -> bytes:
        """A variant's bytes (`w`, `h`, `format`...)."""
        query = Transform.of(**options).query()
        return cast(bytes, self._request("GET", f"/v2/images/{image_id}", query=query))

    def download_named(self, image_id: str, **options: Any) -> Download:
        """A variant's bytes with the file name the server's answer gives it (see `downloads`)."""
        response = self.http.get(f"/v2/images/{image_id}", params=Transform.of(**options).query())
        return _named(image_id, response)


class AsyncClient(AsyncOperations, _Urls):
    """pinhole's v2 API for asyncio, the same surface as `Client`."""

    def __init__(self, base_url: str, *, signing_key: str | Signer | None = None, **options: Any) -> None:
        super().__init__(base_url, **options)
        self.signer = _signer(signing_key)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def supports_tus(self) -> bool:
        try:
            return "Tus-Version" in (await self.http.options("/v2/uploads")).headers
        except httpx.HTTPError:
            return False

    async def upload(
        self,
        source: Source,
        *,
        filename: str | None = None,
        tags: list[str] | tuple[str, ...] = (),
        private: bool = False,
        album: str | None = None,
        description: str | None = None,
        progress: Progress | None = None,
        resumable: bool | None = None,
        resume_url: str | None = None,
        on_resumable: Callable[[str], None] | None = None,
        chunk_bytes: int = tus.CHUNK_BYTES,
    ) -> ImagePublic:
        """`Client.upload` for asyncio: the same progress callback, and tus for large or `resumable` uploads."""
        name, reader, kind = open_source(source, filename, progress)
        with reader:
            fields = upload_fields(tags=tags, private=private, album=album, description=description)
            if _wants_tus(reader.total, resumable, resume_url) and await self.supports_tus():
                meta = _tus_metadata(name, fields)
                image = await tus.upload_async(
                    self.http,
                    reader,
                    meta,
                    resume_url=resume_url,
                    on_created=on_resumable,
                    progress=progress,
                    chunk_bytes=chunk_bytes,
                )
                return cast(ImagePublic, image)
            return cast(ImagePublic, await self.images_upload(files={"file": (name, reader, kind)}, data=fields))

    async def iter_images(self, **filters: Any) -> AsyncIterator[ImagePublic]:
        """Every image the filters match, page after page (cursor paging)."""
        async for item in self.iterate(self.images_list, **filters):
            yield item

    async def iterate(self, list_operation: Callable[..., Awaitable[Any]], **filters: Any) -> AsyncIterator[Any]:
        """Every item of any cursor-paged listing: `async for album in client.iterate(client.albums_list)`."""
        cursor: str | None = None
        while True:
            page = await list_operation(**filters, cursor=cursor)
            for item in page["data"]:
                yield item
            cursor = page["pagination"]["nextCursor"]
            if not cursor or not page["data"]:
                return

    async def download(self, image_id: str, **options: Any) -> bytes:
        query = Transform.of(**options).query()
        return cast(bytes, await self._request("GET", f"/v2/images/{image_id}", query=query))

    async def download_named(self, image_id: str, **options: Any) -> Download:
        response = await self.http.get(f"/v2/images/{image_id}", params=Transform.of(**options).query())
        return _named(image_id, response)


def _named(image_id: str, response: httpx.Response) -> Download:
    content = cast(bytes, _result(response))  # raises the typed error (or NotFound for the fallback)
    return Download(content, response.headers.get("content-type", ""), suggested_filename(image_id, response))


def _pages(list_page: Callable[..., Any], filters: dict[str, Any]) -> Iterator[Any]:
    cursor: str | None = None
    while True:
        page = list_page(**filters, cursor=cursor)
        yield from page["data"]
        cursor = page["pagination"]["nextCursor"]
        if not cursor or not page["data"]:
            return
