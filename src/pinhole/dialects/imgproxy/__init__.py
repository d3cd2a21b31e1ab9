"""imgproxy URLs (`/<signature>/<options>/plain/<source>[@ext]` and the base64 source form) over hosted images
and remote origins (`http(s)://` sources under `proxy.allowed_sources`): off by default, at `/imgproxy`.

Signatures are imgproxy's: unpadded URL-safe base64 of HMAC-SHA256(key, salt + path), with the key/salt pairs of
`dialects.imgproxy.key`/`.salt` (hex; every pair is tried, for rotation), the path measured from the prefix. With
no keys signing is off and any signature segment (`insecure`, `_`) goes, as in imgproxy. Errors answer as imgproxy
does: 403 for a bad signature, 404 for an invalid URL, a missing image, or a source it may not or cannot fetch.
`auto_webp`/`auto_avif` pick the format by `Accept` when none is asked (with `Vary: Accept`).
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request, Response

from pinhole.api.errors import route_class
from pinhole.api.mounting import Dialect
from pinhole.api.services import DeliveryDep
from pinhole.api.transform_query import TransformFields
from pinhole.db.models import Image
from pinhole.dialects.imgproxy import options, url
from pinhole.errors import FetchFailed, FetchRefused, InvalidSignature, InvalidTransform, NotFound, PinholeError
from pinhole.proxies.allowlist import SourceNotAllowed
from pinhole.proxies.errors import plain_renderer
from pinhole.proxies.serve import SERVE_RESPONSES, path_after, serve_hosted
from pinhole.proxies.signatures import imgproxy_signature, matches
from pinhole.settings import ImgproxyMount

API_NAME = "imgproxy"


def _status(error: PinholeError) -> int:
    if isinstance(error, InvalidSignature):
        return 403
    if isinstance(error, (NotFound, InvalidTransform, SourceNotAllowed, FetchRefused, FetchFailed)):
        return 404  # imgproxy's "Invalid source" for sources it may not or cannot download
    return error.status


render_error = plain_renderer(_status)


def check_signature(mount: ImgproxyMount, request: url.ImgproxyUrl) -> bool:
    """Whether the URL is signed (False with signing off); InvalidSignature when it is wrongly signed."""
    if not mount.key:
        if ":" in request.signature:
            raise InvalidSignature("Invalid signature.")
        return False
    expected = [
        imgproxy_signature(bytes.fromhex(key), bytes.fromhex(salt), request.signed_path)
        for key, salt in zip(mount.key, mount.salt, strict=True)
    ]
    if not matches(request.signature, expected):
        raise InvalidSignature("Invalid signature.")
    return True


def negotiated(fields: TransformFields, mount: ImgproxyMount, accept: str) -> TransformFields:
    if fields.format is not None:
        return fields
    if mount.auto_avif and "image/avif" in accept:
        return replace(fields, format="avif")
    if mount.auto_webp and "image/webp" in accept:
        return replace(fields, format="webp")
    return fields


def build_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[API_NAME], route_class=route_class(render_error))

    async def serve(request: Request, delivery: DeliveryDep, path: str) -> Response:
        mount = delivery.runtime.settings.dialects.imgproxy
        parsed = url.parse(path_after(request, prefix))
        signed = check_signature(mount, parsed)
        accept = request.headers.get("accept", "")

        def fields_for(image: Image) -> TransformFields:
            return negotiated(options.fields_for(parsed, image), mount, accept)

        response = await serve_hosted(
            request, delivery, parsed.source, fields_for, client_id=mount.client_id, signed=signed
        )
        if mount.auto_webp or mount.auto_avif:
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
)
