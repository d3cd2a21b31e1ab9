"""The image pages: my images (grid, search, bulk actions), one image (details, sizes, sharing, editing) and upload.

Every change goes through the same services and policy as the APIs; pages never decide who may do what. Forms post
and redirect (303) to the page again with a fixed notice, so nothing a user typed is echoed from a URL.
"""

from __future__ import annotations

import html
import itertools
import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from pinhole.api.deps import RuntimeDep, public_base_url
from pinhole.api.v2.transform import transform_url, v2_options
from pinhole.db.models import Album, Image
from pinhole.errors import Forbidden, InvalidInput, NotFound
from pinhole.runtime import Runtime
from pinhole.security import policy
from pinhole.security.signing import SigningMode
from pinhole.services import albums as album_service
from pinhole.services import images as image_service
from pinhole.services import listing, shares
from pinhole.services.images import ImageChanges
from pinhole.services.signed_urls import DAY, sign_transform
from pinhole.services.tags import normalize_tags, split_tag_fields
from pinhole.services.variant_cache import forget_blobs
from pinhole.web.rendering import WebRoute, redirect, render
from pinhole.web.session import FormSession, OptionalSession, RequiredSession, WebSession

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


def api_base(request: Request, runtime: Runtime) -> str:
    return f"{public_base_url(request, runtime)}{runtime.settings.v2.prefix}"


def signed_queries(runtime: Runtime, image: Image, sizes: list[int]) -> dict[str, str]:
    """With URL signing on, the signed query of every size/format the picker offers (`"640|webp"` → `?w=640&...`),
    valid for the longest time the server allows, so a copied transform URL works for strangers. Empty when
    signing is off (the picker then builds plain URLs)."""
    if runtime.signing_mode is SigningMode.OFF:
        return {}
    expires_in = runtime.settings.signing.max_expiry_days * DAY
    queries = {}
    for width, fmt in itertools.product(["", *map(str, sizes)], ["", *FORMATS]):
        if not width and not fmt:
            continue  # the original: never signed
        options = v2_options(
            runtime,
            w=int(width) if width else None,
            h=None,
            q=None,
            format=fmt or None,
            thumb=False,
            fit=None,
            enlarge=False,
        )
        signed = sign_transform(signer=runtime.signer, image_id=image.id, options=options, expires_in=expires_in)
        queries[f"{width}|{fmt}"] = transform_url("", options, signed.params)
    return queries


def image_url(request: Request, runtime: Runtime, image_id: str) -> str:
    return f"{api_base(request, runtime)}/images/{image_id}"


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("done", ""))


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
        "upload_url": f"{runtime.settings.v2.prefix}/images",
        "max_bytes": runtime.settings.uploads.max_file_bytes,
        "tus_url": f"{runtime.settings.v2.prefix}/uploads",
        "resumable_threshold": runtime.settings.web.resumable_threshold_bytes,
        "chunk_bytes": runtime.settings.web.resumable_chunk_bytes,
    }
    return render(request, "upload.html", context)


async def my_albums(runtime: Runtime, session: WebSession) -> list[Album]:
    """The signed-in account's albums, newest first (the first hundred: enough for a picker)."""
    result, _ = await album_service.list_albums(
        db=runtime.db, principal=session.principal, owner_id=session.user.id, limit=listing.MAX_LIMIT
    )
    return result.items


async def _filters(request: Request, runtime: Runtime, session: WebSession) -> listing.ImageFilter:
    """My images: the account's own (other accounts' public images are readable too, but not "mine").

    `album` narrows them to one album the account may see (else 404, as for the API).
    """
    search = request.query_params.get("q", "").strip()[:200]
    tag = request.query_params.get("tag", "").strip()
    album = request.query_params.get("album", "").strip()
    album_id = None
    if album:
        view = await album_service.get_album(db=runtime.db, principal=session.principal, ref=album, token=None)
        album_id = view.album.id
    return listing.ImageFilter(
        search=search or None,
        tag=normalize_tags([tag], field="tag")[0] if tag else None,
        owner_id=session.user.id,
        album_id=album_id,
    )


@router.get("/images", name="images")
async def my_images(request: Request, runtime: RuntimeDep, session: RequiredSession) -> Response:
    flt = await _filters(request, runtime, session)
    cursor = request.query_params.get("cursor") or None
    result = await listing.list_images(
        db=runtime.db, principal=session.principal, flt=flt, limit=PAGE_SIZE, cursor=cursor
    )
    pairs = (("q", flt.search), ("tag", flt.tag), ("album", flt.album_id))
    query = {key: value for key, value in pairs if value}
    next_url = f"/images?{urlencode(query | {'cursor': result.next_cursor})}" if result.next_cursor else None
    context = {
        "images": result.items,
        "q": flt.search or "",
        "tag": flt.tag or "",
        "album": flt.album_id or "",
        "albums": await my_albums(runtime, session),
        "next_url": next_url,
        "first_url": f"/images?{urlencode(query)}" if cursor else None,
        "thumb_base": f"{runtime.settings.v2.prefix}/images/",
        "thumb_query": urlencode({"w": THUMB_WIDTH, "format": "webp"}),
        "notice": _notice(request),
        "error": None,
    }
    return render(request, "images.html", context)


def _ids(form: FormData) -> list[str]:
    ids = [value for value in form.getlist("ids") if isinstance(value, str) and value]
    if not ids:
        raise InvalidInput("Select at least one image.", field="ids")
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"Select at most {MAX_BULK} images at once.", field="ids")
    return list(dict.fromkeys(ids))


async def _delete(runtime: Runtime, session: WebSession, image_id: str) -> None:
    released = await image_service.delete_image(
        db=runtime.db, recent=runtime.recent, store=runtime.store, principal=session.principal, image_id=image_id
    )
    forget_blobs(variants=runtime.variants, hot=runtime.hot, keys=released)


async def _add_tags(runtime: Runtime, session: WebSession, image_id: str, tags: tuple[str, ...]) -> None:
    image = await image_service.get_image_for(db=runtime.db, principal=session.principal, image_id=image_id)
    merged = normalize_tags([*image.tag_names, *tags])
    await image_service.update_image(
        db=runtime.db,
        recent=runtime.recent,
        principal=session.principal,
        image_id=image_id,
        changes=ImageChanges(tags=merged),
    )


@router.post("/images/bulk", name="images.bulk")
async def bulk_action(request: Request, runtime: RuntimeDep, session: FormSession) -> Response:
    form = await request.form()
    ids, action = _ids(form), form.get("action")
    if action not in ("delete", "tag", "album"):
        raise InvalidInput("Choose delete, tag or add to album.", field="action")
    if action == "album":  # the service checks every image, all or nothing
        album_id = str(form.get("album") or "")
        if not album_id:
            raise InvalidInput("Choose the album to add the images to.", field="album")
        view = await album_service.change_images(
            db=runtime.db, principal=session.principal, ref=album_id, image_ids=ids, add=True
        )
        return redirect(f"/images?{urlencode({'album': view.album.id, 'done': 'album-added'})}")
    for image_id in ids:  # all or nothing: refuse before changing any when one may not be changed
        image = await image_service.get_image_for(db=runtime.db, principal=session.principal, image_id=image_id)
        if not policy.can_modify_image(session.principal, image):
            raise Forbidden("Only the image's owner may change it.")
    if action == "delete":
        for image_id in ids:
            await _delete(runtime, session, image_id)
        return redirect("/images?done=deleted")
    tags = split_tag_fields([str(form.get("tags") or "")])
    if not tags:
        raise InvalidInput("Type the tags to add, separated by commas.", field="tags")
    for image_id in ids:
        await _add_tags(runtime, session, image_id, tags)
    return redirect("/images?done=tagged")


def snippets(url: str, alt: str) -> dict[str, str]:
    """Ways to paste an image elsewhere, keyed by their label."""
    return {
        "URL": url,
        "Markdown": f"![{alt.replace(']', '')}]({url})",
        "HTML": f'<img src="{html.escape(url)}" alt="{html.escape(alt)}">',
        "BBCode": f"[img]{url}[/img]",
    }


async def _image_page(
    request: Request,
    runtime: Runtime,
    session: WebSession,
    image_id: str,
    extra: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> Response:
    image = await image_service.get_image_for(db=runtime.db, principal=session.principal, image_id=image_id)
    may_change = policy.can_modify_image(session.principal, image)
    links = []
    in_albums: list[Album] = []
    albums: list[Album] = []
    if may_change:
        in_albums = await album_service.albums_of_image(db=runtime.db, principal=session.principal, image_id=image.id)
        inside = {album.id for album in in_albums}
        albums = [album for album in await my_albums(runtime, session) if album.id not in inside]
    if policy.can_share_image(session.principal, image):
        links = await shares.list_shares(db=runtime.db, principal=session.principal, image_id=image.id)
    url = image_url(request, runtime, image.id)
    sizes = [size for size in SIZES if size < image.width]
    context = {
        "image": image,
        "url": url,
        "preview_url": f"{runtime.settings.v2.prefix}/images/{image.id}",
        "views": image.view_count + await runtime.usage.pending_views(image.id),
        "snippets": snippets(url, image.description or image.original_name or "image"),
        "sizes": sizes,
        "formats": FORMATS,
        "signed": json.dumps(signed_queries(runtime, image, sizes)) if may_change else "",
        "shares": links,
        "expiries": EXPIRIES,
        "may_change": may_change,
        "in_albums": in_albums,
        "albums": albums,
        "new_share": None,
        "notice": _notice(request),
        "error": None,
    }
    return render(request, "image.html", context | (extra or {}), status=status)


@router.get("/images/{image_id}", name="image")
async def image_page(request: Request, runtime: RuntimeDep, session: RequiredSession, image_id: str) -> Response:
    return await _image_page(request, runtime, session, image_id)


async def _update(runtime: Runtime, session: WebSession, image_id: str, changes: ImageChanges) -> Image:
    return await image_service.update_image(
        db=runtime.db, recent=runtime.recent, principal=session.principal, image_id=image_id, changes=changes
    )


@router.post("/images/{image_id}/details", name="image.details")
async def edit_details(request: Request, runtime: RuntimeDep, session: FormSession, image_id: str) -> Response:
    form = await request.form()
    description = str(form.get("description") or "").strip()
    try:
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInput(f"The description may be at most {MAX_DESCRIPTION} characters.", field="description")
        tags = split_tag_fields([str(form.get("tags") or "")])
    except InvalidInput as exc:
        return await _image_page(request, runtime, session, image_id, {"error": exc.message}, status=exc.status)
    changes = ImageChanges(description=description or None, clear_description=not description, tags=tags)
    await _update(runtime, session, image_id, changes)
    return redirect(f"/images/{image_id}?done=saved")


@router.post("/images/{image_id}/privacy", name="image.privacy")
async def set_privacy(request: Request, runtime: RuntimeDep, session: FormSession, image_id: str) -> Response:
    form = await request.form()
    private = form.get("private") == "1"
    await _update(runtime, session, image_id, ImageChanges(is_private=private))
    return redirect(f"/images/{image_id}?done={'private' if private else 'public'}")


@router.post("/images/{image_id}/shares", name="image.share")
async def create_share(request: Request, runtime: RuntimeDep, session: FormSession, image_id: str) -> Response:
    form = await request.form()
    expiry = str(form.get("expires") or "")
    if expiry not in EXPIRIES:
        raise InvalidInput("Choose one of the offered expiries.", field="expires")
    new = await shares.create_share(
        db=runtime.db, principal=session.principal, image_id=image_id, expires_in=EXPIRIES[expiry]
    )
    share_url = f"{api_base(request, runtime)}/images/share/{new.token}"
    # The token is shown once (only its hash is kept), so this page is rendered, not redirected to.
    return await _image_page(request, runtime, session, image_id, {"new_share": share_url}, status=201)


@router.post("/images/{image_id}/shares/revoke", name="image.unshare")
async def revoke_share(request: Request, runtime: RuntimeDep, session: FormSession, image_id: str) -> Response:
    form = await request.form()
    link_id = str(form.get("link") or "")
    if not link_id:
        raise NotFound("Share link not found.")
    await shares.revoke_share_link(db=runtime.db, principal=session.principal, image_id=image_id, link_id=link_id)
    return redirect(f"/images/{image_id}?done=revoked")


@router.post("/images/{image_id}/delete", name="image.delete")
async def delete_image(runtime: RuntimeDep, session: FormSession, image_id: str) -> Response:
    await _delete(runtime, session, image_id)
    return redirect("/images?done=deleted")
