"""The public viewer page: what a stranger sees of an image, and what chat apps and forums read for a preview.

- `/images/{id}` shows this page to anyone but the image's owner (or an admin) when the image is public; a private
  image's page is refused to them exactly as an unknown id is (signed out: the sign-in page; signed in: 404), so
  neither its title nor its description leaks.
- `/s/{token}` is the same page for a share link, while the link is live (else 404 like any unknown link); its
  picture is served through the share link, so it works for private images too.
- `?album=<id>` on `/images/{id}` adds previous/next inside an album the visitor may see.
- `og:`/`twitter:` metadata and an oEmbed `photo` (`/oembed?url=<page>`), for public images and live share links
  (`author_name` when the page shows the uploader's name).
- The uploader's display name only when their account chose to show it, and never for a private image; the photo
  details (date taken, camera, lens) but never the location.
- Loading the page is a view when `services.views` says so; the picture the page loads is not a second one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request, Response

from pinhole.api.delivery import Delivery
from pinhole.api.deps import DatabaseDep, RuntimeDep, public_base_url
from pinhole.api.services import DeliveryDep, ImagesDep
from pinhole.api.transform_query import TransformFields, transform_url
from pinhole.api.urls import image_url, url_for
from pinhole.db.engine import Database
from pinhole.db.models import Image
from pinhole.errors import ImageNotFound, NotFound
from pinhole.runtime import Runtime
from pinhole.security import policy
from pinhole.security.principal import ANONYMOUS, Principal
from pinhole.services import account_choices, listing, shares
from pinhole.services import albums as album_service
from pinhole.services.views import counts_as_view
from pinhole.web.rendering import WebRoute, render
from pinhole.web.session import OptionalSession

router = APIRouter(route_class=WebRoute)

WIDTHS = (320, 640, 1024, 1600)
PREVIEW_WIDTH = 1200  # what og:image asks for: large enough for a "large image" card


def title_of(image: Image) -> str:
    """The page's title: the uploaded file's name without its extension (there is no separate title field)."""
    name = os.path.splitext(image.original_name or "")[0].strip()
    return name or "Image"


@dataclass(frozen=True)
class Picture:
    """Where the page's picture comes from: the image's own URL, or a share link's."""

    base: str  # absolute URL of the original
    delivery: Delivery
    image: Image
    signed: bool  # transform URLs need a signature (strangers cannot transform the public URL unsigned)

    def at(self, width: int | None) -> str:
        if width is None or width >= self.image.width:
            return self.base
        options = self.delivery.options(TransformFields(w=width))
        params = {}
        if self.signed:
            params = self.delivery.sign(self.image.id, options, expires_in=self.delivery.max_expiry_seconds).params
        return self.base + transform_url("", options, params)

    def srcset(self) -> str:
        widths = [w for w in WIDTHS if w < self.image.width]
        return ", ".join([f"{self.at(w)} {w}w" for w in widths] + [f"{self.base} {self.image.width}w"])


def preview_size(image: Image) -> tuple[int, int]:
    if image.width <= PREVIEW_WIDTH:
        return image.width, image.height
    return PREVIEW_WIDTH, max(1, round(image.height * PREVIEW_WIDTH / image.width))


async def neighbours(
    db: Database, principal: Principal, album_ref: str, image_id: str
) -> tuple[str | None, str | None, str | None]:
    """(album id, previous image id, next image id) inside an album the visitor may see; Nones when it is not one."""
    try:
        view = await album_service.get_album(db=db, principal=principal, ref=album_ref, token=None)
        result = await album_service.album_images(
            db=db,
            principal=principal,
            ref=view.album.id,
            token=None,
            flt=listing.ImageFilter(),
            limit=listing.MAX_LIMIT,
            cursor=None,
        )
    except NotFound:
        return None, None, None
    ids = [image.id for image in result.items]
    if image_id not in ids:
        return None, None, None
    at = ids.index(image_id)
    return view.album.id, ids[at - 1] if at > 0 else None, ids[at + 1] if at + 1 < len(ids) else None


async def count_page_view(request: Request, runtime: Runtime, viewer: Principal, image: Image) -> None:
    if counts_as_view(viewer, image, method=request.method, headers=request.headers):
        await runtime.usage.record_view(image.id)


def render_viewer(
    request: Request, image: Image, picture: Picture, page_url: str, extra: dict[str, Any] | None = None
) -> Response:
    width, height = preview_size(image)
    context = {
        "image": image,
        "title": title_of(image),
        "page_url": page_url,
        "picture": picture.at(1024),
        "srcset": picture.srcset(),
        "original_url": picture.base,
        "og_image": picture.at(PREVIEW_WIDTH),
        "og_width": width,
        "og_height": height,
        "oembed_url": public_base_url(request) + "/oembed?" + urlencode({"url": page_url, "format": "json"}),
        "album_id": None,
        "previous_id": None,
        "next_id": None,
        "uploader": None,
        "show_location": False,
    }
    return render(request, "viewer.html", context | (extra or {}))


async def public_page(
    request: Request,
    runtime: Runtime,
    db: Database,
    delivery: Delivery,
    viewer: Principal,
    image: Image,
) -> Response:
    """The viewer page of a public image (the caller checked `policy.can_view_image`)."""
    await count_page_view(request, runtime, viewer, image)
    picture = Picture(base=image_url(request, image.id), delivery=delivery, image=image, signed=delivery.signing_on)
    extra: dict[str, Any] = {"uploader": await account_choices.uploader_name(db, image)}
    album = request.query_params.get("album", "").strip()
    if album:
        album_id, previous_id, next_id = await neighbours(db, viewer, album, image.id)
        extra |= {"album_id": album_id, "previous_id": previous_id, "next_id": next_id}
    return render_viewer(request, image, picture, url_for(request, "image", image_id=image.id), extra)


@router.get("/s/{share_token}", name="share.page")
async def share_page(
    request: Request,
    runtime: RuntimeDep,
    db: DatabaseDep,
    delivery: DeliveryDep,
    session: OptionalSession,
    share_token: str,
) -> Response:
    image = await shares.resolve_share(db=db, token=share_token)
    if image is None:
        raise NotFound("This share link is unknown, revoked or expired.")
    viewer = session.principal if session is not None else ANONYMOUS
    await count_page_view(request, runtime, viewer, image)
    # A share link transforms freely (no signature), so its srcset needs none.
    base = url_for(request, "v2.images.shared", share_token=share_token)
    picture = Picture(base=base, delivery=delivery, image=image, signed=False)
    extra = {"uploader": await account_choices.uploader_name(db, image)}  # never for a private image
    return render_viewer(request, image, picture, url_for(request, "share.page", share_token=share_token), extra)


def _page_target(request: Request, url: str) -> tuple[str, str] | None:
    """("image", id) or ("share", token) for a URL of one of this server's viewer pages, else None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) == 2 and segments[0] == "images":
        return "image", segments[1]
    if len(segments) == 2 and segments[0] == "s":
        return "share", segments[1]
    return None


@router.get("/oembed", name="oembed")
async def oembed(request: Request, images: ImagesDep, db: DatabaseDep, delivery: DeliveryDep) -> Response:
    """oEmbed 1.0 (`photo`) for a viewer page URL; 404 for anything else, private images included."""
    if request.query_params.get("format", "json") != "json":
        return Response(status_code=501, headers={"Cache-Control": "no-store"})
    target = _page_target(request, request.query_params.get("url", ""))
    image: Image | None = None
    if target is not None and target[0] == "image":
        found = await images.find(target[1])
        image = found if found is not None and policy.can_view_image(ANONYMOUS, found) else None
        base = image_url(request, image.id) if image is not None else ""
        signed = delivery.signing_on
    elif target is not None:
        image = await shares.resolve_share(db=db, token=target[1])
        base = url_for(request, "v2.images.shared", share_token=target[1]) if image is not None else ""
        signed = False
    if image is None:
        raise ImageNotFound("No public image or live share link has this page.")
    picture = Picture(base=base, delivery=delivery, image=image, signed=signed)
    width, height = preview_size(image)
    body = {
        "version": "1.0",
        "type": "photo",
        "title": title_of(image),
        "provider_name": "pinhole",
        "provider_url": public_base_url(request) + "/",
        "url": picture.at(PREVIEW_WIDTH),
        "width": width,
        "height": height,
    }
    author = await account_choices.uploader_name(db, image)  # as on the page: when allowed, never when private
    if author is not None:
        body["author_name"] = author
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    return Response(json.dumps(body), media_type="application/json", headers=headers)
