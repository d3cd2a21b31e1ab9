"""The image pages: my images (grid, search, bulk actions), one image (details, sizes, sharing, editing) and upload.

Every change goes through the same services and policy as the APIs; pages never decide who may do what. Forms post
and redirect (303) to the page again with a fixed notice, so nothing a user typed is echoed from a URL.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from pinhole.api.delivery import Delivery
from pinhole.api.deps import DatabaseDep, RuntimeDep
from pinhole.api.services import DeliveryDep, ImagesDep
from pinhole.api.transform_query import TransformFields, transform_url
from pinhole.api.urls import image_url, path_for, path_prefix, url_for
from pinhole.db.engine import Database
from pinhole.db.models import Album, Image
from pinhole.errors import Forbidden, ImageNotFound, InvalidInput, NotFound
from pinhole.imaging.formats import upload_accept
from pinhole.security import policy
from pinhole.security.principal import ANONYMOUS
from pinhole.security.signing import SigningMode
from pinhole.services import albums as album_service
from pinhole.services import listing, shares
from pinhole.services.images import ImageChanges
from pinhole.services.library import Images
from pinhole.services.sorting import ImageSort, sorted_images
from pinhole.services.tags import normalize_tags, split_tag_fields
from pinhole.web.forms import selected_ids as _ids
from pinhole.web.rendering import SignInRequired, WebRoute, notify, redirect, render
from pinhole.web.session import FormSession, OptionalSession, RequiredSession, WebSession
from pinhole.web.trash import trash_and_notify
from pinhole.web.viewer import public_page

router = APIRouter(route_class=WebRoute)

PAGE_SIZE = 24
MAX_DESCRIPTION = 2000
MAX_BULK = listing.MAX_LIMIT
THUMB_WIDTH = 320
SIZES = (160, 320, 640, 1024, 1600)
FORMATS = ("webp", "jpeg", "png", "avif")
EXPIRIES = {"": None, "1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(30)}
NOTICES = {
    "saved": "Saved.",
    "private": "The image is now private: only you (and share links) can see it.",
    "public": "The image is now public.",
    "deleted": "Deleted.",
    "tagged": "Tags added.",
    "revoked": "The share link is revoked.",
    "album-added": "Added to the album.",
    "album-removed": "Removed from the album.",
}


def signed_queries(delivery: Delivery, image: Image, sizes: list[int]) -> dict[str, str]:
    """With URL signing on, the signed query of every size/format the picker offers (`"640|webp"` → `?w=640&...`),
    valid for the longest time the server allows, so a copied transform URL works for strangers. Empty when
    signing is off (the picker then builds plain URLs)."""
    if not delivery.signing_on:
        return {}
    queries = {}
    for width, fmt in itertools.product(["", *map(str, sizes)], ["", *FORMATS]):
        if not width and not fmt:
            continue  # the original: never signed
        options = delivery.options(TransformFields(w=int(width) if width else None, format=fmt or None))
        signed = delivery.sign(image.id, options, expires_in=delivery.max_expiry_seconds)
        queries[f"{width}|{fmt}"] = transform_url("", options, signed.params)
    return queries


def preset_queries(delivery: Delivery, image: Image, presets: Iterable[str]) -> dict[str, str]:
    """The query of each preset (`transforms.presets`) the picker offers: `?preset=card`, plus its signature when
    signing is on (a preset expands to options, which is what the signature covers, docs/transforms.md). A preset
    alone is what the presets-only policy lets strangers ask for, so the format choice does not ride along."""
    queries = {}
    for name in sorted(presets):
        params = {"preset": name}
        if delivery.signing_on:
            options = delivery.options(TransformFields(preset=name))
            params |= delivery.sign(image.id, options, expires_in=delivery.max_expiry_seconds).params
        queries[name] = "?" + urlencode(params)
    return queries


@router.get("/", name="home")
async def home(session: OptionalSession) -> Response:
    return redirect("/images" if session is not None else "/login")


@router.get("/upload", name="upload")
async def upload_page(request: Request, runtime: RuntimeDep, session: OptionalSession) -> Response:
    guest = session is None
    if guest and not await runtime.app_settings.guest_uploads():
        return redirect("/login?next=/upload")
    context = {
        "guest": guest,
        "upload_url": path_for(request.app, "v2.images.upload"),
        "max_bytes": runtime.settings.uploads.max_file_bytes,
        # Sized links only when strangers can open them unsigned (with signing on, the image page signs them).
        "copy_sizes": SIZES if runtime.signing_mode is SigningMode.OFF else (),
        "accept": upload_accept(),
        "tus_url": f"{runtime.settings.v2.prefix}/uploads",
        "resumable_threshold": runtime.settings.web.resumable_threshold_bytes,
        "chunk_bytes": runtime.settings.web.resumable_chunk_bytes,
    }
    return render(request, "upload.html", context)


async def my_albums(db: Database, session: WebSession) -> list[Album]:
    """The signed-in account's albums, newest first (the first hundred: enough for a picker)."""
    result, _ = await album_service.list_albums(
        db=db, principal=session.principal, owner_id=session.user.id, limit=listing.MAX_LIMIT
    )
    return result.items


async def _filters(request: Request, db: Database, session: WebSession) -> listing.ImageFilter:
    """My images: the account's own (other accounts' public images are readable too, but not "mine").

    `album` narrows them to one album the account may see (else 404, as for the API).
    """
    search = request.query_params.get("q", "").strip()[:200]
    tag = request.query_params.get("tag", "").strip()
    album = request.query_params.get("album", "").strip()
    album_id = None
    if album:
        view = await album_service.get_album(db=db, principal=session.principal, ref=album, token=None)
        album_id = view.album.id
    return listing.ImageFilter(
        search=search or None,
        tag=normalize_tags([tag], field="tag")[0] if tag else None,
        owner_id=session.user.id,
        album_id=album_id,
    )


@router.get("/images", name="images")
async def my_images(request: Request, db: DatabaseDep, session: RequiredSession) -> Response:
    flt = await _filters(request, db, session)
    sort = ImageSort.parse(request.query_params.get("sort", ""))
    cursor = request.query_params.get("cursor") or None
    pairs = (("q", flt.search), ("tag", flt.tag), ("album", flt.album_id), ("sort", sort.value))
    query = {key: value for key, value in pairs if value and value != ImageSort.NEWEST}
    if sort is ImageSort.NEWEST:  # the API's listing, with cursors
        result = await listing.list_images(db=db, principal=session.principal, flt=flt, limit=PAGE_SIZE, cursor=cursor)
        items, next_url = result.items, None
        if result.next_cursor:
            next_url = f"/images?{urlencode(query | {'cursor': result.next_cursor})}"
    else:  # other orders page by number (services.sorting)
        items, next_url, cursor = await _sorted_page(request, db, session, flt, sort, query)
    context = {
        "images": items,
        "sort": sort.value,
        "sorts": SORTS,
        "q": flt.search or "",
        "tag": flt.tag or "",
        "album": flt.album_id or "",
        "albums": await my_albums(db, session),
        "next_url": next_url,
        "first_url": f"/images?{urlencode(query)}" if cursor else None,
        "thumb_base": path_prefix(request.app, "v2.images.serve", "image_id"),
        "thumb_query": urlencode({"w": THUMB_WIDTH, "format": "webp"}),
        "error": None,
    }
    return render(request, "images.html", context)


SORTS = {
    ImageSort.NEWEST: "Newest first",
    ImageSort.OLDEST: "Oldest first",
    ImageSort.LARGEST: "Largest first",
    ImageSort.SMALLEST: "Smallest first",
    ImageSort.NAME: "Name",
    ImageSort.TAKEN: "Date taken",
}


async def _sorted_page(
    request: Request,
    db: Database,
    session: WebSession,
    flt: listing.ImageFilter,
    sort: ImageSort,
    query: dict[str, Any],
) -> tuple[list[Image], str | None, str | None]:
    """(images, next page URL, the page number when past the first) of a listing in another order than newest."""
    raw = request.query_params.get("page", "1")
    page = int(raw) if raw.isdigit() else 1
    items, more = await sorted_images(
        db=db, principal=session.principal, flt=flt, sort=sort, page=page, limit=PAGE_SIZE
    )
    next_url = f"/images?{urlencode(query | {'page': page + 1})}" if more else None
    return items, next_url, str(page) if page > 1 else None


async def _add_tags(images: Images, session: WebSession, image_id: str, tags: tuple[str, ...]) -> None:
    image = await images.get_for(session.principal, image_id)
    await images.update(session.principal, image_id, ImageChanges(tags=normalize_tags([*image.tag_names, *tags])))


@router.post("/images/bulk", name="images.bulk")
async def bulk_action(request: Request, images: ImagesDep, db: DatabaseDep, session: FormSession) -> Response:
    form = await request.form()
    ids, action = _ids(form), form.get("action")
    if action not in ("delete", "tag", "album"):
        raise InvalidInput("Choose delete, tag or add to album.", field="action")
    if action == "album":  # the service checks every image, all or nothing
        album_id = str(form.get("album") or "")
        if not album_id:
            raise InvalidInput("Choose the album to add the images to.", field="album")
        view = await album_service.change_images(
            db=db, principal=session.principal, ref=album_id, image_ids=ids, add=True
        )
        return notify(request, f"/albums/{view.album.id}", NOTICES["album-added"])  # the album, where they went
    for image_id in ids:  # all or nothing: refuse before changing any when one may not be changed
        image = await images.get_for(session.principal, image_id)
        if not policy.can_modify_image(session.principal, image):
            raise Forbidden("Only the image's owner may change it.")
    if action == "delete":
        return await trash_and_notify(request, images, session, ids, back="/images")
    tags = split_tag_fields([str(form.get("tags") or "")])
    if not tags:
        raise InvalidInput("Type the tags to add, separated by commas.", field="tags")
    for image_id in ids:
        await _add_tags(images, session, image_id, tags)
    return notify(request, "/images", NOTICES["tagged"])


def snippets(url: str, alt: str) -> dict[str, str]:
    """Ways to paste an image elsewhere, keyed by their label."""
    return {
        "URL": url,
        "Markdown": f"![{alt.replace(']', '')}]({url})",
        "HTML": f'<img src="{html.escape(url)}" alt="{html.escape(alt)}">',
        "BBCode": f"[img]{url}[/img]",
    }


def responsive_snippets(delivery: Delivery, image: Image, url: str, alt: str) -> dict[str, str]:
    """`<img srcset>` and `<picture>` markup for the image at a ladder of widths (signed when signing applies)."""
    src, text = html.escape(url), html.escape(alt)
    widths = html.escape(delivery.srcset(image, url))
    sources = "".join(
        f'<source type="image/{fmt}" srcset="{html.escape(delivery.srcset(image, url, format=fmt))}">'
        for fmt in ("avif", "webp")
    )
    return {
        "Responsive HTML": f'<img src="{src}" srcset="{widths}" sizes="100vw" alt="{text}">',
        "Picture": f'<picture>{sources}<img src="{src}" srcset="{widths}" sizes="100vw" alt="{text}"></picture>',
    }


@dataclass(frozen=True)
class ImagePage:
    """What the image page is made from."""

    images: Images
    delivery: Delivery
    db: Database

    async def render(
        self,
        request: Request,
        session: WebSession,
        image_id: str,
        extra: dict[str, Any] | None = None,
        *,
        status: int = 200,
    ) -> Response:
        principal = session.principal
        image = await self.images.get_for(principal, image_id)
        may_change = policy.can_modify_image(principal, image)
        links = []
        in_albums: list[Album] = []
        albums: list[Album] = []
        if may_change:
            in_albums = await album_service.albums_of_image(db=self.db, principal=principal, image_id=image.id)
            inside = {album.id for album in in_albums}
            albums = [album for album in await my_albums(self.db, session) if album.id not in inside]
        if policy.can_share_image(principal, image):
            links = await shares.list_shares(db=self.db, principal=principal, image_id=image.id)
        url = image_url(request, image.id)
        sizes = [size for size in SIZES if size < image.width]
        context = {
            "image": image,
            "url": url,
            "preview_url": path_for(request.app, "v2.images.serve", image_id=image.id),
            "views": await self.images.views(image),
            "strips_metadata": request.app.state.runtime.settings.uploads.strip_metadata,
            "show_location": may_change,
            "snippets": snippets(url, image.description or image.original_name or "image"),
            "responsive": responsive_snippets(
                self.delivery, image, url, image.description or image.original_name or "image"
            ),
            "sizes": sizes,
            "formats": FORMATS,
            "max_side": self.delivery.limits.max_width,
            "signed": json.dumps(signed_queries(self.delivery, image, sizes)) if may_change else "",
            "presets": preset_queries(self.delivery, image, request.app.state.runtime.settings.transforms.presets),
            "shares": links,
            "expiries": EXPIRIES,
            "may_change": may_change,
            "in_albums": in_albums,
            "albums": albums,
            "new_share": None,
            "error": None,
        }
        return render(request, "image.html", context | (extra or {}), status=status)


async def image_page_of(images: ImagesDep, delivery: DeliveryDep, db: DatabaseDep) -> ImagePage:
    return ImagePage(images=images, delivery=delivery, db=db)


ImagePageDep = Annotated[ImagePage, Depends(image_page_of)]


@router.get("/images/{image_id}", name="image")
async def image_page(
    request: Request, page: ImagePageDep, runtime: RuntimeDep, session: OptionalSession, image_id: str
) -> Response:
    """The owner's page to whoever may change the image; the public viewer page to anyone else (web/viewer.py)."""
    image = await page.images.find(image_id)
    viewer = session.principal if session is not None else ANONYMOUS
    if session is not None and image is not None and policy.can_modify_image(viewer, image):
        return await page.render(request, session, image_id)
    if image is not None and policy.can_view_image(viewer, image):
        return await public_page(request, runtime, page.db, page.delivery, viewer, image)
    if session is None:  # unknown and private look the same: sign in first
        raise SignInRequired("Sign in to see this page.")
    raise ImageNotFound()


@router.post("/images/{image_id}/details", name="image.details")
async def edit_details(
    request: Request, images: ImagesDep, page: ImagePageDep, session: FormSession, image_id: str
) -> Response:
    form = await request.form()
    description = str(form.get("description") or "").strip()
    try:
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInput(f"The description may be at most {MAX_DESCRIPTION} characters.", field="description")
        tags = split_tag_fields([str(form.get("tags") or "")])
    except InvalidInput as exc:
        return await page.render(request, session, image_id, {"error": exc.message}, status=exc.status)
    changes = ImageChanges(description=description or None, clear_description=not description, tags=tags)
    await images.update(session.principal, image_id, changes)
    return notify(request, f"/images/{image_id}", NOTICES["saved"])


@router.post("/images/{image_id}/focal", name="image.focal")
async def set_focal_point(request: Request, images: ImagesDep, session: FormSession, image_id: str) -> Response:
    """Where cover crops centre: the fractions the page's script measured where the picture was clicked."""
    form = await request.form()
    if form.get("clear"):
        await images.update(session.principal, image_id, ImageChanges(clear_focal_point=True))
        return notify(request, f"/images/{image_id}", NOTICES["saved"])
    try:
        point = (float(str(form.get("x"))), float(str(form.get("y"))))
    except ValueError:
        point = (-1.0, -1.0)
    if not all(0.0 <= value <= 1.0 for value in point):
        raise InvalidInput("Click the picture to choose the focal point.", field="focal_point")
    focal = (round(point[0], 4), round(point[1], 4))
    await images.update(session.principal, image_id, ImageChanges(focal_point=focal))
    return notify(request, f"/images/{image_id}", NOTICES["saved"])


@router.post("/images/{image_id}/privacy", name="image.privacy")
async def set_privacy(request: Request, images: ImagesDep, session: FormSession, image_id: str) -> Response:
    form = await request.form()
    private = form.get("private") == "1"
    await images.update(session.principal, image_id, ImageChanges(is_private=private))
    return notify(request, f"/images/{image_id}", NOTICES["private" if private else "public"])


@router.post("/images/{image_id}/shares", name="image.share")
async def create_share(
    request: Request, db: DatabaseDep, page: ImagePageDep, session: FormSession, image_id: str
) -> Response:
    form = await request.form()
    expiry = str(form.get("expires") or "")
    if expiry not in EXPIRIES:
        raise InvalidInput("Choose one of the offered expiries.", field="expires")
    new = await shares.create_share(db=db, principal=session.principal, image_id=image_id, expires_in=EXPIRIES[expiry])
    share_url = url_for(request, "v2.images.shared", share_token=new.token)
    # The token is shown once (only its hash is kept), so this page is rendered, not redirected to.
    return await page.render(request, session, image_id, {"new_share": share_url}, status=201)


@router.post("/images/{image_id}/shares/revoke", name="image.unshare")
async def revoke_share(request: Request, db: DatabaseDep, session: FormSession, image_id: str) -> Response:
    form = await request.form()
    link_id = str(form.get("link") or "")
    if not link_id:
        raise NotFound("Share link not found.")
    await shares.revoke_share_link(db=db, principal=session.principal, image_id=image_id, link_id=link_id)
    return notify(request, f"/images/{image_id}", NOTICES["revoked"])


@router.post("/images/{image_id}/delete", name="image.delete")
async def delete_image(request: Request, images: ImagesDep, session: FormSession, image_id: str) -> Response:
    return await trash_and_notify(request, images, session, [image_id], back="/images")
