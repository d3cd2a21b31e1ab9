"""The album pages: my albums, one album (its images, details, sharing), and the same album opened by a token.

Everything goes through `services.albums` and the policy, as `/v2/albums` does. `/albums/{id}` shows the owner's
page to whoever may change the album, and a read-only page to anyone else who may see it: a public album, or any
album with a live `?token=alb_...` (signed out too). A token is shown once, when made; afterwards it is listed by
its hash, which is also what revoking names.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from pinhole.api.deps import DatabaseDep
from pinhole.api.urls import path_prefix, url_for
from pinhole.db.engine import Database
from pinhole.db.models import Image
from pinhole.errors import InvalidInput, NotFound
from pinhole.security import policy
from pinhole.security.policy import Action
from pinhole.security.principal import ANONYMOUS, Principal
from pinhole.services import album_tokens, listing
from pinhole.services import albums as album_service
from pinhole.services.albums import AlbumChanges, AlbumFields
from pinhole.services.sorting import ImageSort
from pinhole.web.forms import selected_ids as _ids
from pinhole.web.images import PAGE_SIZE, SORTS, THUMB_WIDTH
from pinhole.web.rendering import WebRoute, notify, render
from pinhole.web.session import FormSession, OptionalSession, RequiredSession, WebSession

router = APIRouter(route_class=WebRoute)

MAX_NAME = 200
MAX_DESCRIPTION = 2000
EXPIRIES = {"": None, "1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
NOTICES = {
    "created": "Album created.",
    "saved": "Saved.",
    "deleted": "The album is deleted (its images are kept).",
    "added": "Added to the album.",
    "removed": "Removed from the album.",
    "revoked": "The album link is revoked.",
}


def _fields(form: Any) -> tuple[str, str | None, bool]:
    name = str(form.get("name") or "").strip()
    description = str(form.get("description") or "").strip()
    if not name:
        raise InvalidInput("Give the album a name.", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"The name may be at most {MAX_NAME} characters.", field="name")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"The description may be at most {MAX_DESCRIPTION} characters.", field="description")
    return name, description or None, form.get("public") == "1"


async def _albums_page(
    request: Request, db: Database, session: WebSession, extra: dict[str, Any] | None = None, *, status: int = 200
) -> Response:
    result, counts = await album_service.list_albums(
        db=db, principal=session.principal, owner_id=session.user.id, limit=listing.MAX_LIMIT
    )
    context = {"albums": result.items, "counts": counts, "error": None}
    return render(request, "albums.html", context | (extra or {}), status=status)


@router.get("/albums", name="albums")
async def albums_page(request: Request, db: DatabaseDep, session: RequiredSession) -> Response:
    return await _albums_page(request, db, session)


@router.post("/albums", name="albums.create")
async def create_album(request: Request, db: DatabaseDep, session: FormSession) -> Response:
    form = await request.form()
    try:
        name, description, public = _fields(form)
    except InvalidInput as exc:
        return await _albums_page(request, db, session, {"error": exc.message}, status=exc.status)
    view = await album_service.create_album(
        db=db,
        principal=session.principal,
        fields=AlbumFields(name=name, description=description, is_public=public),
    )
    return notify(request, f"/albums/{view.album.id}", NOTICES["created"])


def _token(request: Request) -> str | None:
    token = request.query_params.get("token")
    return token if album_tokens.is_album_token(token) else None


async def _album_page(
    request: Request,
    db: Database,
    session: WebSession | None,
    album_id: str,
    extra: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> Response:
    principal = session.principal if session is not None else ANONYMOUS
    token = _token(request)
    view = await album_service.get_album(db=db, principal=principal, ref=album_id, token=token)
    album = view.album
    manage = session is not None and policy.may(principal, Action.UPDATE, album)
    cursor = request.query_params.get("cursor") or None
    keep = {"token": token} if token and not manage else {}
    raw_sort = request.query_params.get("sort", "")
    sort = ImageSort.parse(raw_sort) if raw_sort else None
    if sort is None:
        result = await album_service.album_images(
            db=db,
            principal=principal,
            ref=album.id,
            token=token,
            flt=listing.ImageFilter(),
            limit=PAGE_SIZE,
            cursor=cursor,
        )
        items, next_url = result.items, None
        if result.next_cursor:
            next_url = f"/albums/{album.id}?{urlencode(keep | {'cursor': result.next_cursor})}"
    else:
        items, next_url, cursor = await _sorted_album_page(request, db, principal, album.id, token, sort, keep)
    thumb = {"w": THUMB_WIDTH, "format": "webp"} | keep
    context = {
        "album": album,
        "image_count": view.image_count,
        "images": items,
        "sort": sort.value if sort is not None else "",
        "sorts": {"": "Album order"} | SORTS,
        "album_token": keep.get("token"),
        "manage": manage,
        "tokens": await album_service.list_tokens(db=db, principal=principal, ref=album.id) if manage else [],
        "expiries": EXPIRIES,
        "new_token": None,
        "image_base": path_prefix(request.app, "v2.images.serve", "image_id"),
        "thumb_query": urlencode(thumb),
        "full_query": urlencode(keep),
        "next_url": next_url,
        "first_url": f"/albums/{album.id}?{urlencode(keep | ({'sort': sort.value} if sort else {}))}"
        if cursor
        else None,
        "error": None,
    }
    return render(request, "album.html", context | (extra or {}), status=status)


async def _sorted_album_page(
    request: Request,
    db: Database,
    principal: Principal,
    album_id: str,
    token: str | None,
    sort: ImageSort,
    keep: dict[str, str],
) -> tuple[list[Image], str | None, str | None]:
    """(images, next page URL, page number past the first) of the album's images the visitor may see, sorted."""
    raw = request.query_params.get("page", "1")
    page = int(raw) if raw.isdigit() else 1
    items, more = await album_service.sorted_album_images(
        db=db, principal=principal, ref=album_id, token=token, sort=sort, page=page, limit=PAGE_SIZE
    )
    query = keep | {"sort": sort.value, "page": str(page + 1)}
    next_url = f"/albums/{album_id}?{urlencode(query)}" if more else None
    return items, next_url, str(page) if page > 1 else None


@router.get("/albums/{album_id}", name="album")
async def album_page(request: Request, db: DatabaseDep, session: OptionalSession, album_id: str) -> Response:
    """The owner's page, or the read-only one (public album, or a token); 404 for everyone else, signed out too."""
    return await _album_page(request, db, session, album_id)


@router.post("/albums/{album_id}/details", name="album.details")
async def edit_album(request: Request, db: DatabaseDep, session: FormSession, album_id: str) -> Response:
    form = await request.form()
    try:
        name, description, public = _fields(form)
    except InvalidInput as exc:
        return await _album_page(request, db, session, album_id, {"error": exc.message}, status=exc.status)
    changes = AlbumChanges(name=name, description=description, clear_description=description is None, is_public=public)
    view = await album_service.update_album(db=db, principal=session.principal, ref=album_id, changes=changes)
    return notify(request, f"/albums/{view.album.id}", NOTICES["saved"])


@router.post("/albums/{album_id}/delete", name="album.delete")
async def delete_album(request: Request, db: DatabaseDep, session: FormSession, album_id: str) -> Response:
    await album_service.delete_album(db=db, principal=session.principal, ref=album_id)
    return notify(request, "/albums", NOTICES["deleted"])


@router.post("/albums/{album_id}/images/remove", name="album.images.remove")
async def remove_images(request: Request, db: DatabaseDep, session: FormSession, album_id: str) -> Response:
    ids = _ids(await request.form())
    view = await album_service.change_images(db=db, principal=session.principal, ref=album_id, image_ids=ids, add=False)
    return notify(request, f"/albums/{view.album.id}", NOTICES["removed"])


@router.post("/albums/{album_id}/tokens", name="album.token")
async def create_token(request: Request, db: DatabaseDep, session: FormSession, album_id: str) -> Response:
    form = await request.form()
    expiry = str(form.get("expires") or "")
    if expiry not in EXPIRIES:
        raise InvalidInput("Choose one of the offered expiries.", field="expires")
    album, new = await album_service.create_token(
        db=db, principal=session.principal, ref=album_id, expires_in=EXPIRIES[expiry]
    )
    link = f"{url_for(request, 'album', album_id=album.id)}?{urlencode({'token': new.token})}"
    # Shown once (only the hash is kept): this page is rendered, not redirected to.
    return await _album_page(request, db, session, album.id, {"new_token": link}, status=201)


@router.post("/albums/{album_id}/tokens/revoke", name="album.untoken")
async def revoke_token(request: Request, db: DatabaseDep, session: FormSession, album_id: str) -> Response:
    form = await request.form()
    token_hash = str(form.get("link") or "")
    if not token_hash:
        raise NotFound("Album token not found.")
    await album_service.revoke_token_hash(db=db, principal=session.principal, ref=album_id, token_hash=token_hash)
    return notify(request, f"/albums/{album_id}", NOTICES["revoked"])


@router.post("/images/{image_id}/albums", name="image.albums")
async def image_albums(request: Request, db: DatabaseDep, session: FormSession, image_id: str) -> Response:
    """From the image page: add the image to one of my albums, or take it out of one."""
    form = await request.form()
    album_id, action = str(form.get("album") or ""), form.get("action")
    if action not in ("add", "remove"):
        raise InvalidInput("Choose add or remove.", field="action")
    if not album_id:
        raise InvalidInput("Choose an album.", field="album")
    view = await album_service.change_images(
        db=db, principal=session.principal, ref=album_id, image_ids=[image_id], add=action == "add"
    )
    if action == "add":  # the album, where the image went (as the grid's bulk "Add to album" does)
        return notify(request, f"/albums/{view.album.id}", NOTICES["added"])
    return notify(request, f"/images/{image_id}", NOTICES["removed"])
