"""Serving stored bytes over HTTP, shared by every API: validators, 304s, caching headers, HEAD, sendfile.

Local blobs go out as `FileResponse` (zero-copy `http.response.pathsend` under granian); remote blobs stream.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Awaitable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from fastapi import Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from pinhole.api.credentials import CREDENTIAL_HEADERS
from pinhole.api.proxies import client_address
from pinhole.api.transform_query import (
    TransformDefaults,
    TransformExtras,
    TransformFields,
    eager_variants,
    parse_transform_query,
    srcset,
    to_options,
)
from pinhole.db.models import Image
from pinhole.errors import BlobNotFound, Forbidden, ImageNotFound, InvalidTransform
from pinhole.imaging.fallback import fallback_webp
from pinhole.imaging.formats import format_for_extension
from pinhole.imaging.options import OutputLimits, TransformOptions, make_transform
from pinhole.observability.telemetry import record_answer, record_fallback
from pinhole.runtime import Runtime
from pinhole.security import policy
from pinhole.security.policy import Owned
from pinhole.security.principal import Principal
from pinhole.security.ratelimit import address_key
from pinhole.security.signing import SigningMode, signature_required
from pinhole.services import signed_urls
from pinhole.services.client_defaults import ClientRules, with_client_watermark
from pinhole.services.image_keys import image_key, image_key_opens
from pinhole.services.images import find_image_to_serve
from pinhole.services.presets import check_presets_only
from pinhole.services.signed_urls import DAY, SignedTransform
from pinhole.services.variant_options import effective_options, negotiation_policy, resolve_watermark
from pinhole.services.variants import Original
from pinhole.services.views import counts_as_view
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
    saved: Awaitable[None] | None = None  # a variant rendered for this answer, still being stored


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
    headers["Accept-Ranges"] = "bytes"
    if vary:
        headers["Vary"] = vary
    return headers


async def send_blob(
    request: Request, store: BlobStore, payload: Payload, *, cache: str, vary: str | None = None
) -> Response:
    """The payload's bytes: from memory, a local file, or streamed from the store. A missing blob raises
    `BlobNotFound` here, before any header is sent, never halfway through a 200."""
    headers = blob_headers(payload, cache=cache, vary=vary)
    after = _stored(payload.saved)
    if etag_matches(request.headers.get("if-none-match"), payload.etag):
        return Response(status_code=304, headers=headers, background=after)
    if request.method == "HEAD":
        headers["Content-Length"] = str(payload.size)
        return Response(media_type=payload.mime, headers=headers, background=after)
    wanted = byte_range(request, payload)
    if wanted is not None and wanted[0] >= wanted[1]:
        return Response(
            status_code=416, headers={**headers, "Content-Range": f"bytes */{payload.size}"}, background=after
        )
    if payload.data is not None:
        if wanted is not None:
            part = payload.data[wanted[0] : wanted[1]]
            headers |= _range(wanted, payload)
            return Response(part, status_code=206, media_type=payload.mime, headers=headers, background=after)
        return Response(payload.data, media_type=payload.mime, headers=headers, background=after)
    path = store.local_path(payload.key)
    if path is not None:
        try:
            stat = os.stat(path)
        except FileNotFoundError as exc:
            raise BlobNotFound("Stored file is missing.") from exc
        return FileResponse(path, media_type=payload.mime, headers=headers, stat_result=stat)
    if wanted is not None:
        chunks = await _opened(store.stream(payload.key, start=wanted[0], end=wanted[1]))
        headers |= _range(wanted, payload) | {"Content-Length": str(wanted[1] - wanted[0])}
        return StreamingResponse(chunks, status_code=206, media_type=payload.mime, headers=headers)
    headers["Content-Length"] = str(payload.size)
    return StreamingResponse(await _opened(store.stream(payload.key)), media_type=payload.mime, headers=headers)


def _stored(saved: Awaitable[None] | None) -> BackgroundTask | None:
    """After the answer is sent, wait (within the request) for the variant rendered for it to be stored: the client
    has its bytes without waiting for the write and fsync, and the request ends with the variant on record."""
    return None if saved is None else BackgroundTask(_wait_for, saved)


async def _wait_for(saved: Awaitable[None]) -> None:
    await asyncio.shield(saved)  # a request cancelled now must not cancel the write others wait for


def byte_range(request: Request, payload: Payload) -> tuple[int, int] | None:
    """The one byte range (start, end exclusive) a `Range: bytes=...` header asks for, when it applies: not for
    several ranges, malformed ones, or an `If-Range` naming another version (then the whole answer is sent).
    An empty range (start >= end) means unsatisfiable. Local files get the same from Starlette's FileResponse."""
    header = request.headers.get("range", "")
    if_range = request.headers.get("if-range")
    if not header.startswith("bytes=") or "," in header or (if_range and if_range.strip('"') != payload.etag):
        return None
    first, _, last = header.removeprefix("bytes=").strip().partition("-")
    if not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first:  # the last N bytes
        return max(0, payload.size - int(last)), payload.size
    start = int(first)
    end = min(payload.size, int(last) + 1) if last else payload.size
    return (start, end) if start < payload.size and start < end else (0, 0)


def _range(wanted: tuple[int, int], payload: Payload) -> dict[str, str]:
    return {"Content-Range": f"bytes {wanted[0]}-{wanted[1] - 1}/{payload.size}"}


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


PRIVATE_VARY = ", ".join(CREDENTIAL_HEADERS)  # a private answer depends on who asked


async def client_rules(runtime: Runtime, client_id: str) -> ClientRules:
    clients = runtime.variants.clients
    return ClientRules() if clients is None else await clients.get(client_id)


async def find_mark_image(runtime: Runtime, image_id: str) -> Image | None:
    """A watermark's image record (kept in the recent-records cache, so the warm path finds it too)."""
    return await find_image_to_serve(db=runtime.db, recent=runtime.recent, image_id=image_id)


def answer_vary(*, public: bool, negotiated: bool) -> str | None:
    """The Vary header of an image answer: the credentials for private images, Accept for negotiated formats."""
    parts = ([] if public else [PRIVATE_VARY]) + (["Accept"] if negotiated else [])
    return ", ".join(parts) or None


def send_fallback() -> Response:
    """The placeholder served instead of a 4xx for images the caller may not see (or that do not exist)."""
    record_fallback()
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
    viewer: Principal | None = None,
) -> Response:
    """Serve an image the caller may see: the original, or the variant `options` ask for.

    `valid_for` is the seconds left on the expiring URL signature this request needed: no cache may keep the
    answer longer. `count_view=False` serves without counting a view (an owner's preview through a proxy).
    Callers other than the image's owner (`viewer`) are charged the render budget for cold renders.
    `for_caller`: the route answers only some callers (it needs a sign-in), so even a public image's answer is
    private to them: a shared cache must not hand it to anyone else.
    `viewer` is who asked (None: nobody signed in); whether that is a view is `services.views`' rule.
    """
    owner = viewer is not None and policy.can_transform_freely(viewer, image)
    stranger = None if owner else address_key(client_address(request, runtime.settings.server.trusted_proxies))
    rules = await client_rules(runtime, image.client_id)
    protected = options.is_identity and rules.protect_originals
    if protected and not owner:
        raise Forbidden("This image's original is served to its owner only; ask for a transform.")
    if count_view and counts_as_view(viewer, image, method=request.method, headers=request.headers):
        await runtime.usage.record_view(image.id)
    public = not image.is_private and not protected and not for_caller
    cache = image_cache_control(runtime, image, valid_for=valid_for, public=public)
    options = with_client_watermark(options, image=image, rules=rules)
    accept = request.headers.get("accept")
    find_mark = functools.partial(find_mark_image, runtime)
    options = await resolve_watermark(options, image=image, find=find_mark, site=runtime.variants.site_mark)
    effective = effective_options(
        options, image=image, accept=accept, policy=negotiation_policy(runtime.settings.transforms)
    )
    options = effective.options
    vary = answer_vary(public=public, negotiated=effective.negotiated)
    if options.is_identity:
        payload = original_payload(image)
        record_answer("store")
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
        variant = await _variant(runtime, image, options, stranger=stranger)
        return await send_blob(request, runtime.store, variant, cache=cache, vary=vary)
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
    else:
        record_answer("memory")
    return replace(payload, data=data)


async def _variant(
    runtime: Runtime, image: Original, options: TransformOptions, *, stranger: str | None = None
) -> Payload:
    variant = await runtime.variants.get(image=image, options=options, stranger=stranger)
    record_answer("store" if variant.data is None else "render")  # data: rendered for this request (or joined)
    return Payload(
        key=variant.key, mime=variant.mime, size=variant.size, etag=variant.etag, data=variant.data, saved=variant.saved
    )


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


class Delivery:
    """Serving images and avatars: the transform query, URL signatures, variants, caching headers and the fallback.

    Built once by the composition root (`api.services`); routes hand it what they parsed and get a response.
    """

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self._defaults = TransformDefaults(
            thumbnail_size=runtime.settings.imaging.thumbnail_size,
            limits=runtime.output_limits,
            presets=runtime.presets.current().queries,
        )

    @property
    def defaults(self) -> TransformDefaults:
        """What the parser needs, with the presets in force now (`runtime.presets`, the settings' and the admin's)."""
        queries = self.runtime.presets.current().queries
        if self._defaults.presets is not queries:
            self._defaults = replace(self._defaults, presets=queries)
        return self._defaults

    @property
    def limits(self) -> OutputLimits:
        return self.runtime.output_limits

    @property
    def signing_on(self) -> bool:
        return self.runtime.signing_mode is not SigningMode.OFF

    @property
    def max_expiry_seconds(self) -> int:
        """The longest a signed URL may work (`signing.max_expiry_days`)."""
        return self.runtime.settings.signing.max_expiry_days * DAY

    def parse_query(self, params: Mapping[str, str]) -> tuple[TransformOptions, TransformExtras]:
        return parse_transform_query(params, self.defaults)

    def options(self, fields: TransformFields) -> TransformOptions:
        return to_options(fields, self.defaults)

    def extension_options(self, image: Image, extension: str) -> TransformOptions | None:
        return extension_options(self.runtime, image, extension)

    def check_signature(
        self,
        options: TransformOptions,
        extras: TransformExtras,
        *,
        principal: Principal,
        image: Owned,
        image_id: str,
        token_grants: bool,
    ) -> float | None:
        """Raise an InvalidSignature when this transform must be signed and is not validly signed.

        Returns the seconds a checked signature has left; None when it never expires or none was needed.
        """
        mode = self.runtime.signing_mode
        if not signature_required(mode, principal=principal, image=image, options=options, token_grants=token_grants):
            return None
        return self.runtime.signer.verify(image_id, options, sig=extras.sig, exp=extras.exp)

    def check_presets_only(self, extras: TransformExtras, *, principal: Principal, image: Owned) -> None:
        """With `transforms.presets_only`, a caller who is not the image's owner may transform by `preset` alone
        (else 403)."""
        check_presets_only(
            enabled=self.runtime.settings.transforms.presets_only,
            owner=policy.can_transform_freely(principal, image),
            preset=extras.preset,
            others=extras.others,
        )

    def srcset(self, image: Image, image_url: str, *, format: str | None = None) -> str:
        """An `<img srcset>` ladder of `image`, each URL signed (for the longest time allowed) when signing is on."""

        def sign(options: TransformOptions) -> dict[str, str]:
            if not self.signing_on:
                return {}
            return self.sign(image.id, options, expires_in=self.max_expiry_seconds).params

        return srcset(image, image_url, self.defaults, sign, format=format)

    def render_eager(self, image: Image) -> None:
        """Render the eager presets (`transforms.eager_presets` and those an admin marked) of a new image in the
        background, for every negotiable format. Every upload path calls it through `Images.ingest` or the
        resumable uploads' hook (`api.services.build_services`)."""
        names = self.runtime.presets.current().eager
        if not names:
            return
        policy = negotiation_policy(self.runtime.settings.transforms)
        self.runtime.variants.render_later(image=image, options=eager_variants(image, names, self.defaults, policy))

    def render_eager_avatar(self, avatar: StoredOriginal) -> None:
        """Render the eager presets of a new avatar in the background: avatars are served as asked, with no
        negotiation, so one variant per preset."""
        names = self.runtime.presets.current().eager
        found = {}
        for name in names:
            options = to_options(TransformFields(preset=name), self.defaults)
            if not options.is_identity:
                found[options.canonical()] = options
        self.runtime.variants.render_later(image=avatar, options=list(found.values()))

    def signature_for(self, principal: Principal, image: Image, options: TransformOptions) -> dict[str, str]:
        """The `sig` (and `exp`) query parameters `principal` needs for this transform; {} when it needs none."""
        mode = self.runtime.signing_mode
        if not signature_required(mode, principal=principal, image=image, options=options):
            return {}
        return self.runtime.signer.sign(image.id, options)

    def image_key(self, image_id: str) -> str:
        """The capability that opens a private image by URL (`?key=`, the uploadkey API)."""
        return image_key(secret=self.runtime.secret, image_id=image_id)

    def image_key_opens(self, image_id: str, given: str | None) -> bool:
        return image_key_opens(secret=self.runtime.secret, image_id=image_id, given=given)

    def sign(self, image_id: str, options: TransformOptions, *, expires_in: int | None) -> SignedTransform:
        """A signature for `options` of `image_id` (the caller checked who may have it)."""
        return signed_urls.sign_transform(
            signer=self.runtime.signer, image_id=image_id, options=options, expires_in=expires_in
        )

    async def sign_for(
        self, principal: Principal, image_id: str, options: TransformOptions, *, expires_in: int | None
    ) -> SignedTransform:
        """A signed transform for whoever may transform the image freely, never longer than the server allows."""
        return await signed_urls.sign_for(
            db=self.runtime.db,
            signer=self.runtime.signer,
            principal=principal,
            image_id=image_id,
            options=options,
            expires_in=expires_in,
            max_expiry_days=self.runtime.settings.signing.max_expiry_days,
        )

    async def deliver(
        self,
        request: Request,
        image: Image,
        options: TransformOptions,
        *,
        valid_for: float | None = None,
        count_view: bool = True,
        for_caller: bool = False,
        viewer: Principal | None = None,
    ) -> Response:
        return await deliver_image(
            request,
            self.runtime,
            image,
            options,
            valid_for=valid_for,
            count_view=count_view,
            for_caller=for_caller,
            viewer=viewer,
        )

    async def deliver_or_fallback(
        self,
        request: Request,
        image: Image,
        options: TransformOptions,
        *,
        valid_for: float | None = None,
        viewer: Principal | None = None,
    ) -> Response:
        """`deliver`, or the fallback when the image went while this process still held its record."""
        try:
            return await self.deliver(request, image, options, valid_for=valid_for, viewer=viewer)
        except ImageNotFound:
            return send_fallback()

    fallback = staticmethod(send_fallback)

    async def loaded(self, source: StoredOriginal, options: TransformOptions) -> Payload:
        return await loaded_payload(self.runtime, source, options)

    async def forget_variant(self, source: StoredOriginal, options: TransformOptions, *, stale: bool) -> None:
        """After a variant's file was missing: forget it here, and its record too when `stale`."""
        self.runtime.variants.drop_known(image=source, options=options)
        if stale:
            await self.runtime.variants.forget(image=source, options=options)

    def avatar_cache_control(self, *, public: bool) -> str:
        max_age = self.runtime.settings.delivery.avatar_max_age
        return f"{'public' if public else 'private'}, max-age={max_age}"

    async def send(self, request: Request, payload: Payload, *, cache: str, vary: str | None = None) -> Response:
        return await send_blob(request, self.runtime.store, payload, cache=cache, vary=vary)
