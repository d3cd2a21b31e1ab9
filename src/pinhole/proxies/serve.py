"""Serving one proxy request: the signed path as sent, then the hosted image or the remote original and its
variant through `Delivery`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response

from pinhole.api.delivery import Delivery
from pinhole.api.proxies import client_address
from pinhole.api.transform_query import TransformFields
from pinhole.db.models import Image
from pinhole.errors import ImageNotFound
from pinhole.observability.telemetry import record_fallback
from pinhole.proxies.access import Access, open_image, open_remote
from pinhole.proxies.sources import hosted_id, remote_image, remote_url
from pinhole.runtime import Runtime
from pinhole.security.principal import Principal
from pinhole.security.ratelimit import address_key
from pinhole.services.images import find_image_to_serve
from pinhole.services.remote_origins import Charge

SERVE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"image/*": {}}, "description": "The image"}}


def path_after(request: Request, prefix: str) -> str:
    """The request's path after `prefix` exactly as sent (still percent-encoded): what the signatures cover."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1")
    root = request.scope.get("root_path", "")
    return path.removeprefix(root).removeprefix(prefix)


async def serve_hosted(
    request: Request,
    delivery: Delivery,
    source: str,
    fields_for: Callable[[Image], TransformFields],
    access: Access,
) -> Response:
    """The image `source` names (a hosted image if `access` lets this URL open it, or a remote original),
    transformed as `fields_for(image)` asks (through the one parser). The client whose own key signed is the viewer
    (its renders are not a stranger's)."""
    url = remote_url(source)
    if url is not None:
        return await serve_remote(request, delivery, url, fields_for, access)
    opened = await open_image(delivery.runtime, hosted_id(source), access)
    options = delivery.options(fields_for(opened.image))
    return await delivery.deliver(request, opened.image, options, viewer=opened.viewer)


async def serve_remote(
    request: Request,
    delivery: Delivery,
    url: str,
    fields_for: Callable[[Image], TransformFields],
    access: Access,
) -> Response:
    """The remote original at `url` (fetched, or revalidated after the TTL), transformed like a hosted image; no
    cache keeps the answer past the TTL. A copy evicted meanwhile (its blob gone) is fetched once more. Only the
    dialect's instance-wide keys sign remote URLs (no client owns a remote original). A stranger (no key of a
    client signed) pays from the render budget for each fetch it causes, as for each cold render, so it cannot
    have pinhole fetch without limit."""
    client_id, viewer = open_remote(access)
    origins = delivery.runtime.origins
    charge = fetch_charge(request, delivery.runtime, viewer)
    for attempt in range(2):
        copy = await origins.get(url, charge=charge)
        image = remote_image(copy, client_id=client_id)
        options = delivery.options(fields_for(image))
        try:
            return await delivery.deliver(
                request, image, options, valid_for=origins.ttl, count_view=False, viewer=viewer
            )
        except ImageNotFound:
            if attempt:
                raise
            await origins.drop(url, copy.content_hash)
    raise AssertionError("unreachable")


def fetch_charge(request: Request, runtime: Runtime, viewer: Principal | None) -> Charge | None:
    """What a fetch costs this caller: one from the strangers' render budget, per address
    (`transforms.stranger_renders_per_minute`); nothing when a client's key signed (the remote image is its own)."""
    budget = runtime.variants.budget
    if viewer is not None or budget is None:
        return None
    caller = address_key(client_address(request, runtime.settings.server.trusted_proxies))
    return functools.partial(budget.charge, caller)


async def serve_or_fallback(
    request: Request,
    delivery: Delivery,
    source: str,
    fields_for: Callable[[Image], TransformFields],
    access: Access,
    *,
    fallback: str | None,
    status: int = 200,
    checked: bool = False,
) -> Response:
    """`serve_hosted`, or, when the source is not there (or may not be opened), the operator's `fallback` image
    (a v2 id) with the same options, as imgproxy's fallback image and imgix's default image are served. Counted in
    `pinhole_fallback_images_total`; never cached. `checked`: the URL names the fallback (Cloudinary's `d_`), so
    it opens only as `access` allows; an operator's fallback opens as configured."""
    try:
        return await serve_hosted(request, delivery, source, fields_for, access)
    except ImageNotFound:
        if fallback is None:
            raise
    runtime = delivery.runtime
    if checked:
        image: Image | None = (await open_image(runtime, hosted_id(fallback), access)).image
    else:
        image = await find_image_to_serve(db=runtime.db, recent=runtime.recent, image_id=fallback)
    if image is None:
        raise ImageNotFound("No image has this id.")
    record_fallback()
    response = await delivery.deliver(request, image, delivery.options(fields_for(image)), count_view=False)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Pinhole-Fallback"] = "1"
    return response
