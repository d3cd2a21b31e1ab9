"""Serving stored bytes over HTTP, shared by every API: validators, 304s, caching headers, HEAD, sendfile.

Local blobs go out as `FileResponse` (zero-copy `http.response.pathsend` under granian); remote blobs stream.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Protocol

from fastapi import Request, Response
from fastapi.responses import FileResponse, StreamingResponse

from pinhole.db.models import Image
from pinhole.errors import BlobNotFound, ImageNotFound, InvalidTransform
from pinhole.imaging.fallback import fallback_webp
from pinhole.imaging.formats import format_for_extension
from pinhole.imaging.options import TransformOptions, make_transform
from pinhole.runtime import Runtime
from pinhole.services.variants import Original
from pinhole.storage.base import BlobStore, PresignedUrls
from pinhole.storage.keys import original_key


class StoredOriginal(Original, Protocol):
    """An image or an avatar: what `original_payload` and `loaded_payload` serve."""

    @property
    def mime_type(self) -> str: ...
    @property
    def size(self) -> int: ...


@dataclass(frozen=True)
class Payload:
    """What to send: a stored blob (and its bytes when already in memory)."""

    key: str
    mime: str
    size: int
    etag: str
    data: bytes | None = None


def cache_control(*, public: bool, public_max_age: int, private_max_age: int) -> str:
    if public:
        return f"public, max-age={public_max_age}, immutable"
    return f"private, max-age={private_max_age}, must-revalidate" if private_max_age else "private, no-cache"


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison, as RFC 9110 asks for If-None-Match."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = (tag.strip().removeprefix("W/").strip('"') for tag in if_none_match.split(","))
    return etag in candidates


def blob_headers(payload: Payload, *, cache: str, vary: str | None = None) -> dict[str, str]:
    headers = {"ETag": f'"{payload.etag}"', "Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    if vary:
        headers["Vary"] = vary
    return headers


async def send_blob(
    request: Request, store: BlobStore, payload: Payload, *, cache: str, vary: str | None = None
) -> Response:
    """The payload's bytes: from memory, a local file, or streamed from the store. A missing blob raises
    `BlobNotFound` here, before any header is sent, never halfway through a 200."""
    headers = blob_headers(payload, cache=cache, vary=vary)
    if etag_matches(request.headers.get("if-none-match"), payload.etag):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(payload.size)
        return Response(media_type=payload.mime, headers=headers)
    if payload.data is not None:
        return Response(payload.data, media_type=payload.mime, headers=headers)
    path = store.local_path(payload.key)
    if path is not None:
        try:
            stat = os.stat(path)
        except FileNotFoundError as exc:
            raise BlobNotFound("Stored file is missing.") from exc
        return FileResponse(path, media_type=payload.mime, headers=headers, stat_result=stat)
    headers["Content-Length"] = str(payload.size)
    return StreamingResponse(await _opened(store.stream(payload.key)), media_type=payload.mime, headers=headers)


async def _opened(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`chunks` with its first chunk already read, so opening the blob fails now rather than mid-response."""
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        first = b""

    async def rest() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    return rest()


def send_bytes(data: bytes, *, mime: str, cache: str, extra: dict[str, str] | None = None) -> Response:
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff", **(extra or {})}
    return Response(data, media_type=mime, headers=headers)


PRIVATE_VARY = "X-API-Key, X-User-Id, Authorization, Cookie"


def send_fallback() -> Response:
    """The placeholder served instead of a 4xx for images the caller may not see (or that do not exist)."""
    return send_bytes(fallback_webp(), mime="image/webp", cache="no-store", extra={"X-Pinhole-Fallback": "1"})


async def deliver_image(
    request: Request,
    runtime: Runtime,
    image: Image,
    options: TransformOptions,
    *,
    valid_for: float | None = None,
    count_view: bool = True,
    for_caller: bool = False,
) -> Response:
    """Serve an image the caller may see: the original, or the variant `options` ask for.

    `valid_for` is the seconds left on the expiring URL signature this request needed: no cache may keep the
    answer longer. `count_view=False` serves without counting a view (an owner's preview through a proxy).
    `for_caller`: the route answers only some callers (it needs a sign-in), so even a public image's answer is
    private to them: a shared cache must not hand it to anyone else.
    """
    if count_view and request.method == "GET":
        await runtime.usage.record_view(image.id)
    public = not image.is_private and not for_caller
    cache = image_cache_control(runtime, image, valid_for=valid_for, public=public)
    vary = None if public else PRIVATE_VARY
    if options.is_identity:
        payload = original_payload(image)
        if request.method == "GET" and not etag_matches(request.headers.get("if-none-match"), payload.etag):
            redirect = await presigned_redirect(runtime, payload, cache=cache, valid_for=valid_for)
            if redirect is not None:
                return redirect
        try:
            return await send_blob(request, runtime.store, payload, cache=cache, vary=vary)
        except BlobNotFound as exc:  # deleted through another instance while this one still held the record
            runtime.recent.forget(image.id)
            raise ImageNotFound() from exc
    try:
        return await send_blob(request, runtime.store, await _variant(runtime, image, options), cache=cache, vary=vary)
    except BlobNotFound:  # the cached file vanished (pruned elsewhere): forget it and render again
        await runtime.variants.forget(image=image, options=options)
        return await send_blob(request, runtime.store, await _variant(runtime, image, options), cache=cache, vary=vary)


async def presigned_redirect(
    runtime: Runtime, payload: Payload, *, cache: str, valid_for: float | None
) -> Response | None:
    """With `storage.s3.presign_originals`, a redirect to a short-lived URL at the S3 service, which then sends
    the bytes with our Content-Type and Cache-Control; None when the store proxies (the default).

    The redirect itself is never stored by a cache: its target expires, and a CDN keeping it would hand out
    dead links (or links to a private image) after that.
    """
    s3 = runtime.settings.storage.s3
    store = runtime.store
    if not s3.presign_originals or not isinstance(store, PresignedUrls):
        return None
    expires = s3.presign_expiry_seconds if valid_for is None else max(1, min(s3.presign_expiry_seconds, int(valid_for)))
    url = await store.presigned_url(payload.key, expires, content_type=payload.mime, cache_control=cache)
    return Response(status_code=307, headers={"Location": url, "Cache-Control": "no-store"})


def original_payload(image: StoredOriginal) -> Payload:
    return Payload(
        key=original_key(image.content_hash), mime=image.mime_type, size=image.size, etag=image.content_hash[:32]
    )


def image_cache_control(
    runtime: Runtime, image: Image, *, valid_for: float | None = None, public: bool | None = None
) -> str:
    delivery = runtime.settings.delivery
    return cache_control(
        public=not image.is_private if public is None else public,
        public_max_age=_at_most(delivery.public_max_age, valid_for),
        private_max_age=_at_most(delivery.private_max_age, valid_for),
    )


def _at_most(max_age: int, valid_for: float | None) -> int:
    return max_age if valid_for is None else min(max_age, max(0, int(valid_for)))


async def loaded_payload(runtime: Runtime, source: StoredOriginal, options: TransformOptions) -> Payload:
    """The original or the variant `options` ask for, with its bytes read now (through the hot-blob cache).

    For what may be replaced under a reader (avatars): once read, the answer no longer needs the file, which the
    replacement deletes. A file already gone raises `BlobNotFound` (or `ImageNotFound` for a variant that cannot be
    rendered any more): read the record again and retry.
    """
    payload = original_payload(source) if options.is_identity else await _variant(runtime, source, options)
    if payload.data is not None:
        return payload
    data = runtime.hot.get(payload.key, payload.etag)
    if data is None:
        data = await runtime.store.get_bytes(payload.key)
        runtime.hot.put(payload.key, payload.etag, data)
    return replace(payload, data=data)


async def _variant(runtime: Runtime, image: Original, options: TransformOptions) -> Payload:
    variant = await runtime.variants.get(image=image, options=options)
    return Payload(key=variant.key, mime=variant.mime, size=variant.size, etag=variant.etag, data=variant.data)


def extension_options(runtime: Runtime, image: Image, extension: str) -> TransformOptions | None:
    """The options a `{id}.{ext}` URL asks for: the original when `ext` names the image's own format, else a
    conversion to the format it names. None when no format this server writes goes by that extension."""
    found = format_for_extension(extension)
    if found is None:
        return None
    if found.name == image.format:
        return TransformOptions()
    try:
        return make_transform(format=found.name, limits=runtime.output_limits)
    except InvalidTransform:
        return None
