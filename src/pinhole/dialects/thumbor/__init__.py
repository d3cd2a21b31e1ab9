"""thumbor URLs (`/<signature|unsafe>/.../<image>`) over hosted images and remote origins (`http(s)://...` or
`host/path`, under `proxy.allowed_sources`): off by default, at `/thumbor`.

The signature is thumbor's (HMAC-SHA1 with `security_key` over the URL after the signature, URL-safe base64),
measured from the prefix, so a site only changes its base URL. `unsafe` URLs only with `allow_unsafe`. Errors answer
as thumbor does: 400 for a malformed, unsafe or wrongly signed URL, 404 for an image that is not there.
Options: see `options.py`; docs/proxies.md lists what is served.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from pinhole.api.errors import route_class
from pinhole.api.mounting import Dialect
from pinhole.api.services import DeliveryDep
from pinhole.dialects.thumbor import options, url
from pinhole.errors import InvalidSignature, MissingSignature, NotFound, PinholeError
from pinhole.proxies.errors import plain_renderer
from pinhole.proxies.serve import SERVE_RESPONSES, path_after, serve_hosted
from pinhole.proxies.signatures import matches, thumbor_signature
from pinhole.settings import ThumborMount

API_NAME = "thumbor"


def _status(error: PinholeError) -> int:
    if isinstance(error, NotFound):
        return 404
    return 400 if error.status < 500 and error.status != 429 else error.status


render_error = plain_renderer(_status)


def check_signature(mount: ThumborMount, request: url.ThumborUrl) -> None:
    if request.signature is None:
        if not mount.allow_unsafe:
            raise MissingSignature("URL does not have a signature and unsafe URLs are not allowed.")
        return
    key = mount.security_key
    if key is None:
        raise InvalidSignature("Signed URLs need dialects.thumbor.security_key.")
    secret = key.get_secret_value().encode()
    candidates = {thumbor_signature(secret, request.signed_part)}
    if not matches(request.signature, candidates):
        raise InvalidSignature("Malformed URL: the signature does not match.")


def thumbor_source(image: str) -> str:
    """A hosted id, `pinhole://<id>`, a URL, or (as thumbor's HTTP loader reads it) `host/path` meaning http."""
    if "/" in image and "://" not in image:
        return "http://" + image
    return image


def build_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[API_NAME], route_class=route_class(render_error))

    async def serve(request: Request, delivery: DeliveryDep, path: str) -> Response:
        mount = delivery.runtime.settings.dialects.thumbor
        parsed = url.parse(path_after(request, prefix))
        check_signature(mount, parsed)
        return await serve_hosted(
            request,
            delivery,
            thumbor_source(parsed.image),
            lambda image: options.fields_for(parsed, image),
            client_id=mount.client_id,
            signed=parsed.signature is not None,
        )

    for method in ("GET", "HEAD"):
        router.add_api_route(
            "/{path:path}", serve, methods=[method], name="serve", response_model=None, responses=SERVE_RESPONSES
        )
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="thumbor URLs over hosted images: resize, crop and convert with thumbor's signed URL language.",
    build_router=build_router,
    render_error=render_error,
)
