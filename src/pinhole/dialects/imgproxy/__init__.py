"""imgproxy URLs (`/<signature>/<options>/plain/<source>[@ext]` and the base64 source form) over hosted images
and remote origins (`http(s)://` sources under `proxy.allowed_sources`): off by default, at `/imgproxy`.

Signatures are imgproxy's: unpadded URL-safe base64 of HMAC-SHA256(key, salt + path), with the key/salt pairs of
`dialects.imgproxy.key`/`.salt` (hex; every pair is tried, for rotation), the path measured from the prefix. With
no keys signing is off and any signature segment (`insecure`, `_`) goes, as in imgproxy. Errors answer as imgproxy
does: 403 for a bad signature, 404 for an invalid URL, a missing image, or a source it may not or cannot fetch.
`auto_webp`/`auto_avif` pick the format by `Accept` when none is asked (with `Vary: Accept`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from fastapi import APIRouter, Request, Response

from pinhole.api.errors import route_class
from pinhole.api.mounting import Dialect
from pinhole.api.services import DeliveryDep
from pinhole.api.transform_query import TransformFields
from pinhole.db.models import Image
from pinhole.dialects.imgproxy import options, url
from pinhole.errors import FetchFailed, FetchRefused, InvalidSignature, InvalidTransform, NotFound, PinholeError
from pinhole.proxies.access import Access, Verify, settings_key
from pinhole.proxies.allowlist import SourceNotAllowed
from pinhole.proxies.errors import plain_renderer
from pinhole.proxies.fastpath import Ask, fast_path
from pinhole.proxies.serve import SERVE_RESPONSES, path_after, serve_or_fallback
from pinhole.proxies.signatures import imgproxy_signature, signed_by
from pinhole.runtime import Runtime
from pinhole.services.proxy_keys import ProxyKey
from pinhole.settings import ImgproxyMount

API_NAME = "imgproxy"


def _status(error: PinholeError) -> int:
    if isinstance(error, InvalidSignature):
        return 403
    if isinstance(error, (NotFound, InvalidTransform, SourceNotAllowed, FetchRefused, FetchFailed)):
        return 404  # imgproxy's "Invalid source" for sources it may not or cannot download
    return error.status


render_error = plain_renderer(_status)


def instance_keys(mount: ImgproxyMount) -> list[ProxyKey]:
    pairs = zip(mount.key, mount.salt, strict=True)
    return [
        settings_key(API_NAME, mount.client_id, {"key": key, "salt": salt}, index)
        for index, (key, salt) in enumerate(pairs)
    ]


def verifier(request: url.ImgproxyUrl) -> Verify:
    """Which key signed: every candidate's HMAC is computed and compared (unsigned: `insecure` or any segment when
    no key applies, as imgproxy with signing off)."""

    def verify(keys: Sequence[ProxyKey]) -> ProxyKey | None:
        if not keys:
            if ":" in request.signature:
                raise InvalidSignature("Invalid signature.")
            return None
        expected = [
            (key, imgproxy_signature(bytes.fromhex(key.secret["key"]), bytes.fromhex(key.secret["salt"]),
                                     request.signed_path))
            for key in keys
        ]  # fmt: skip
        found = signed_by(request.signature, expected)
        if found is None:
            raise InvalidSignature("Invalid signature.")
        return found

    return verify


def negotiated(fields: TransformFields, mount: ImgproxyMount, accept: str) -> TransformFields:
    if fields.format is not None:
        return fields
    if mount.auto_avif and "image/avif" in accept:
        return replace(fields, format="avif")
    if mount.auto_webp and "image/webp" in accept:
        return replace(fields, format="webp")
    return fields


def expiry(parsed: url.ImgproxyUrl) -> int | None:
    """The URL's `expires` (the earliest, when given twice); None without one. Malformed values are left to the
    parser, which refuses them (it takes decimal digits only)."""
    found = [
        int(option.args[0])
        for option in parsed.options
        if options.ALIASES.get(option.name, option.name) == "expires"
        and len(option.args) == 1
        and option.args[0].isdecimal()
    ]
    return min(found) if found else None


def translate(runtime: Runtime, path: str, query: str, accept: str) -> Ask:
    """What the URL at `path` (after the prefix) asks for: the route's reading and the warm path's."""
    mount = runtime.settings.dialects.imgproxy
    parsed = url.parse(path)
    access = Access(API_NAME, instance_keys(mount), mount.client_id, bool(mount.key), verifier(parsed))

    def fields_for(image: Image) -> TransformFields:
        return negotiated(options.fields_for(parsed, image), mount, accept)

    vary = mount.auto_webp or mount.auto_avif
    return Ask(parsed.source, access, fields_for, vary_accept=vary, expires=expiry(parsed))


def build_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[API_NAME], route_class=route_class(render_error))

    async def serve(request: Request, delivery: DeliveryDep, path: str) -> Response:
        mount = delivery.runtime.settings.dialects.imgproxy
        ask = translate(delivery.runtime, path_after(request, prefix), "", request.headers.get("accept", ""))
        response = await serve_or_fallback(
            request, delivery, ask.source, ask.fields_for, ask.access,
            fallback=mount.fallback_image, status=mount.fallback_image_http_code,
        )  # fmt: skip
        if ask.vary_accept:
            vary = response.headers.get("Vary")
            response.headers["Vary"] = f"{vary}, Accept" if vary else "Accept"
        return response

    for method in ("GET", "HEAD"):
        router.add_api_route(
            "/{path:path}", serve, methods=[method], name="serve", response_model=None, responses=SERVE_RESPONSES
        )
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="imgproxy URLs over hosted images: resize and convert with imgproxy's signed processing options.",
    build_router=build_router,
    render_error=render_error,
    fast_path=fast_path(API_NAME, translate),
)
