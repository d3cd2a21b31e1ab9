"""thumbor URLs (`/<signature|unsafe>/.../<image>`) over hosted images and remote origins (`http(s)://...` or
`host/path`, under `proxy.allowed_sources`): off by default, at `/thumbor`.

The signature is thumbor's (HMAC-SHA1 with `security_key` over the URL after the signature, URL-safe base64),
measured from the prefix, so a site only changes its base URL. `unsafe` URLs only with `allow_unsafe`. Errors answer
as thumbor does: 400 for a malformed, unsafe or wrongly signed URL, 404 for an image that is not there.
Options: see `options.py`; docs/proxies.md lists what is served.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response

from pinhole.api.errors import route_class
from pinhole.api.mounting import Dialect
from pinhole.api.services import DeliveryDep
from pinhole.dialects.thumbor import options, url
from pinhole.errors import InvalidSignature, NotFound, PinholeError
from pinhole.proxies.access import Access, Verify, settings_key
from pinhole.proxies.errors import plain_renderer
from pinhole.proxies.fastpath import Ask, fast_path
from pinhole.proxies.serve import SERVE_RESPONSES, path_after, serve_hosted
from pinhole.proxies.signatures import signed_by, thumbor_signature
from pinhole.runtime import Runtime
from pinhole.services.proxy_keys import ProxyKey
from pinhole.settings import ThumborMount

API_NAME = "thumbor"


def _status(error: PinholeError) -> int:
    if isinstance(error, NotFound):
        return 404
    return 400 if error.status < 500 and error.status != 429 else error.status


render_error = plain_renderer(_status)


def instance_keys(mount: ThumborMount) -> list[ProxyKey]:
    if mount.security_key is None:
        return []
    return [settings_key(API_NAME, mount.client_id, {"security_key": mount.security_key.get_secret_value()})]


def verifier(request: url.ThumborUrl) -> Verify:
    def verify(keys: Sequence[ProxyKey]) -> ProxyKey | None:
        if request.signature is None:
            return None
        expected = [(key, thumbor_signature(key.secret["security_key"].encode(), request.signed_part)) for key in keys]
        found = signed_by(request.signature, expected)
        if found is None:
            raise InvalidSignature("Malformed URL: the signature does not match.")
        return found

    return verify


def thumbor_source(image: str) -> str:
    """A hosted id, `pinhole://<id>`, a URL, or (as thumbor's HTTP loader reads it) `host/path` meaning http."""
    if "/" in image and "://" not in image:
        return "http://" + image
    return image


def translate(runtime: Runtime, path: str, query: str, accept: str) -> Ask:
    """What the URL at `path` (after the prefix) asks for: the route's reading and the warm path's."""
    mount = runtime.settings.dialects.thumbor
    parsed = url.parse(path)
    access = Access(API_NAME, instance_keys(mount), mount.client_id, not mount.allow_unsafe, verifier(parsed))
    return Ask(thumbor_source(parsed.image), access, lambda image: options.fields_for(parsed, image))


def build_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[API_NAME], route_class=route_class(render_error))

    async def serve(request: Request, delivery: DeliveryDep, path: str) -> Response:
        ask = translate(delivery.runtime, path_after(request, prefix), "", "")
        return await serve_hosted(request, delivery, ask.source, ask.fields_for, ask.access)

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
    fast_path=fast_path(API_NAME, translate),
)
