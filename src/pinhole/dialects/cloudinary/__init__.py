"""Cloudinary delivery URLs over hosted images and remote origins: off by default, at `/cloudinary`.

`/<cloud>/image/upload/[s--SIG--/][<transformations>/][v<version>/]<public_id>[.<ext>]`: the public id is the
image's v2 id. `/<cloud>/image/fetch/[s--SIG--/][<transformations>/]<URL>` serves a remote origin under
`proxy.allowed_sources` (`proxies.serve.serve_remote`), signed the same way. A signature, when present, must be
Cloudinary's (`cloudinary_signature`, with `api_secret`) and then also opens the client's private images; unsigned
URLs serve public images (Cloudinary signs only on demand).
Errors as Cloudinary answers: 401 for a wrong signature, 400 for a bad transformation, 404 for a missing image or
another cloud name, each with its reason in `X-Cld-Error`. The upload and destroy API: `api.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from fastapi import APIRouter, Request, Response

from pinhole.api.delivery import Delivery
from pinhole.api.errors import route_class
from pinhole.api.mounting import Dialect
from pinhole.api.services import DeliveryDep
from pinhole.dialects.cloudinary import api, options, url
from pinhole.dialects.cloudinary.accounts import Account, account_for, settings_account
from pinhole.errors import ImageNotFound, InvalidSignature, NotFound, PinholeError
from pinhole.proxies import public_ids
from pinhole.proxies.access import Access, Verify
from pinhole.proxies.fastpath import Ask, fast_path
from pinhole.proxies.serve import SERVE_RESPONSES, path_after, serve_or_fallback
from pinhole.proxies.signatures import cloudinary_signature, signed_by
from pinhole.proxies.sources import remote_url
from pinhole.runtime import Runtime
from pinhole.services.proxy_keys import ProxyKey

API_NAME = "cloudinary"


def _status(error: PinholeError) -> int:
    if isinstance(error, InvalidSignature):
        return 401
    return 404 if isinstance(error, NotFound) else error.status


def render_error(request: Request, error: PinholeError) -> Response:
    headers = {"Cache-Control": "no-store", "X-Cld-Error": error.message, **error.response_headers()}
    return Response(status_code=_status(error), headers=headers)


def verifier(request: url.CloudinaryUrl) -> Verify:
    def verify(keys: Sequence[ProxyKey]) -> ProxyKey | None:
        if request.signature is None:
            return None
        expected = [(key, cloudinary_signature(key.secret["api_secret"], request.signed_part)) for key in keys]
        found = signed_by(request.signature, expected)
        if found is None:
            raise InvalidSignature("Invalid signature.")
        return found

    return verify


def ask_for(parsed: url.CloudinaryUrl, access: Access, accept: str) -> Ask:
    asked = options.Asked(parsed.transformations, parsed.extension, accept)
    auto = any(step.get("f") == "auto" for step in parsed.transformations)
    return Ask(parsed.public_id, access, lambda image: options.fields_for(asked, image), vary_accept=auto)


def translate(runtime: Runtime, path: str, query: str, accept: str) -> Ask | None:
    """The warm path's reading of an `/<cloud>/image/upload/` URL: only for the settings' cloud when no client is
    set, where the public id is the v2 id; None for the rest, whose public ids and clouds the route reads from the
    database."""
    mount = runtime.settings.dialects.cloudinary
    cloud, marker, rest = path.removeprefix("/").partition("/image/upload/")
    if not marker or cloud != mount.cloud_name or mount.client_id is not None:
        return None
    parsed = url.parse(rest)
    return ask_for(parsed, account_access(settings_account(mount), parsed), accept)


def account_access(account: Account, parsed: url.CloudinaryUrl) -> Access:
    return Access(API_NAME, account.keys, account.client_id, False, verifier(parsed), owner_keys=False)


async def answer(
    request: Request, delivery: Delivery, parsed: url.CloudinaryUrl, access: Access, *, client_id: str | None
) -> Response:
    """The image (hosted or fetched) with the URL's transformations, or its `d_` default image when it is missing."""
    ask = ask_for(parsed, access, request.headers.get("accept", ""))
    default = next((step["d"] for step in parsed.transformations if "d" in step), None)
    if default is not None and client_id is not None:  # d_<public id>: Cloudinary's default image
        named = await public_ids.image_for(delivery.runtime.db, client_id=client_id, public_id=default)
        default = named or default
    response = await serve_or_fallback(
        request, delivery, ask.source, ask.fields_for, access, fallback=default, checked=True
    )
    if ask.vary_accept:
        vary = response.headers.get("Vary")
        response.headers["Vary"] = f"{vary}, Accept" if vary else "Accept"
    return response


def build_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[API_NAME], route_class=route_class(render_error))
    router.include_router(api.router)

    async def serve(request: Request, delivery: DeliveryDep, cloud: str, path: str) -> Response:
        account = await account_for(delivery.runtime, cloud)
        raw = path_after(request, f"{prefix}/{cloud}/image/upload/")
        parsed = url.parse(raw)
        access = account_access(account, parsed)
        if account.client_id is not None:  # a public id given at a Cloudinary-API upload, else the v2 id
            db = delivery.runtime.db
            named = await public_ids.image_for(db, client_id=account.client_id, public_id=parsed.public_id)
            parsed = replace(parsed, public_id=named or parsed.public_id)
        if remote_url(parsed.public_id) is not None:  # remote origins come through /image/fetch/ only
            raise ImageNotFound("Resource not found.")
        return await answer(request, delivery, parsed, access, client_id=account.client_id)

    async def fetch(request: Request, delivery: DeliveryDep, cloud: str, path: str) -> Response:
        account = await account_for(delivery.runtime, cloud)
        parsed = url.parse_fetch(path_after(request, f"{prefix}/{cloud}/image/fetch/"))
        access = account_access(account, parsed)
        if remote_url(parsed.public_id) is None:
            raise ImageNotFound("Resource not found: fetch takes an http(s) URL.")
        return await answer(request, delivery, parsed, access, client_id=account.client_id)

    for method in ("GET", "HEAD"):
        router.add_api_route(
            "/{cloud}/image/upload/{path:path}",
            serve,
            methods=[method],
            name="serve",
            response_model=None,
            responses=SERVE_RESPONSES,
        )
        router.add_api_route(
            "/{cloud}/image/fetch/{path:path}",
            fetch,
            methods=[method],
            name="fetch",
            response_model=None,
            responses=SERVE_RESPONSES,
        )
    return router


DIALECT = Dialect(
    name=API_NAME,
    description="Cloudinary delivery URLs over hosted images: chained transformations and `s--...--` signatures.",
    build_router=build_router,
    render_error=render_error,
    fast_path=fast_path(API_NAME, translate),
)
