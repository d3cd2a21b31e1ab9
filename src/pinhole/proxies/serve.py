"""Serving one proxy request: the signed path as sent, then the hosted image or the remote original and its
variant through `Delivery`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request, Response

from pinhole.api.delivery import Delivery
from pinhole.api.transform_query import TransformFields
from pinhole.db.models import Image
from pinhole.errors import ImageNotFound
from pinhole.proxies.sources import hosted_image, remote_image, remote_url

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
    *,
    client_id: str | None,
    signed: bool,
) -> Response:
    """The image `source` names, transformed as `fields_for(image)` asks (through the one parser)."""
    url = remote_url(source)
    if url is not None:
        return await serve_remote(request, delivery, url, fields_for, client_id=client_id)
    image = await hosted_image(delivery.runtime, source, client_id=client_id, signed=signed)
    options = delivery.options(fields_for(image))
    return await delivery.deliver(request, image, options)


async def serve_remote(
    request: Request,
    delivery: Delivery,
    url: str,
    fields_for: Callable[[Image], TransformFields],
    *,
    client_id: str | None,
) -> Response:
    """The remote original at `url` (fetched, or revalidated after the TTL), transformed like a hosted image; no
    cache keeps the answer past the TTL. A copy evicted meanwhile (its blob gone) is fetched once more."""
    origins = delivery.runtime.origins
    for attempt in range(2):
        copy = await origins.get(url)
        image = remote_image(copy, client_id=client_id)
        options = delivery.options(fields_for(image))
        try:
            return await delivery.deliver(request, image, options, valid_for=origins.ttl, count_view=False)
        except ImageNotFound:
            if attempt:
                raise
            await origins.drop(url, copy.content_hash)
    raise AssertionError("unreachable")
