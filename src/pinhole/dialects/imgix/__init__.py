"""imgix URLs (`/<image id>?w=...&s=...`) over hosted images and remote origins: off by default, at `/imgix`.

A path names a hosted image by id, or (under `proxy.allowed_sources`) a remote origin: the whole percent-encoded
URL as imgix's Web Proxy sources take it, or with `dialects.imgix.origin` set, a path under that base URL (a Web
Folder source, where hosted ids are not reachable).

The `s` signature is imgix's: hex MD5 of the token + the path after the prefix + `?` + the query as sent without
`s` (the whole query, in its order). With a token every URL must carry a valid `s`; without one, unsigned URLs
serve public images. Errors: 403 for a missing or wrong signature, 400 for a bad parameter, 404 for a missing image.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, unquote

from fastapi import APIRouter, Request, Response

from pinhole.api.errors import route_class
from pinhole.api.mounting import Dialect
from pinhole.api.services import DeliveryDep
from pinhole.dialects.imgix import options
from pinhole.errors import InvalidSignature, NotFound, PinholeError
from pinhole.proxies.access import Access, Verify, settings_key
from pinhole.proxies.errors import plain_renderer
from pinhole.proxies.fastpath import Ask, fast_path
from pinhole.proxies.serve import SERVE_RESPONSES, path_after, serve_or_fallback
from pinhole.proxies.signatures import imgix_signature, signed_by
from pinhole.runtime import Runtime
from pinhole.services.proxy_keys import ProxyKey
from pinhole.settings import ImgixMount

API_NAME = "imgix"


def _status(error: PinholeError) -> int:
    if isinstance(error, InvalidSignature):
        return 403
    return 404 if isinstance(error, NotFound) else error.status


render_error = plain_renderer(_status)


def unsigned_query(query: str) -> tuple[str, str | None]:
    """The raw query without its `s` parameter, and `s`."""
    kept, signature = [], None
    for part in query.split("&") if query else []:
        if part.startswith("s="):
            signature = part[2:]
        else:
            kept.append(part)
    return "&".join(kept), signature


def instance_keys(mount: ImgixMount) -> list[ProxyKey]:
    if mount.token is None:
        return []
    return [settings_key(API_NAME, mount.client_id, {"token": mount.token.get_secret_value()})]


def verifier(path: str, query: str) -> Verify:
    """Which token signed `s` (imgix: MD5 of token + path + `?` + the query without `s`); None when there is no
    `s`."""
    unsigned, signature = unsigned_query(query)
    signed = path + (f"?{unsigned}" if unsigned else "")

    def verify(keys: Sequence[ProxyKey]) -> ProxyKey | None:
        if signature is None:
            return None
        found = signed_by(signature.lower(), [(key, imgix_signature(key.secret["token"], signed)) for key in keys])
        if found is None:
            raise InvalidSignature("The signature (s) does not match.")
        return found

    return verify


def imgix_source(mount: ImgixMount, raw_path: str) -> str:
    """What a path names: under a Web Folder (`origin`) the origin URL it maps to; else a whole percent-encoded
    URL (imgix's Web Proxy source) or a hosted image's id."""
    if mount.origin is not None:
        return mount.origin.rstrip("/") + "/" + raw_path.lstrip("/")
    return unquote(raw_path.lstrip("/"))


def translate(runtime: Runtime, path: str, query: str, accept: str) -> Ask:
    """What the URL at `path` (after the prefix) with `query` asks for: the route's reading and the warm path's."""
    mount = runtime.settings.dialects.imgix
    access = Access(API_NAME, instance_keys(mount), mount.client_id, mount.token is not None, verifier(path, query))
    parsed = options.ImgixRequest(params=dict(parse_qsl(query, keep_blank_values=True)), accept=accept)
    return Ask(
        imgix_source(mount, path), access, lambda image: options.fields_for(parsed, image),
        vary_accept="format" in parsed.auto,
    )  # fmt: skip


def build_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[API_NAME], route_class=route_class(render_error))

    async def serve(request: Request, delivery: DeliveryDep, path: str) -> Response:
        mount = delivery.runtime.settings.dialects.imgix
        query = request.scope.get("query_string", b"").decode("latin-1")
        ask = translate(delivery.runtime, path_after(request, prefix), query, request.headers.get("accept", ""))
        response = await serve_or_fallback(
            request, delivery, ask.source, ask.fields_for, ask.access, fallback=mount.default_image
        )
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
    description="imgix URLs over hosted images: resize and convert with imgix's query parameters and `s` signatures.",
    build_router=build_router,
    render_error=render_error,
    fast_path=fast_path(API_NAME, translate),
)
