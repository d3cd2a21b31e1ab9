"""Moderation for admins: every upload on the server (all clients and accounts) with filters, and bulk delete.

`/admin/images` lists the newest first (100 a page, the API's cursor listing with `all_clients`), narrowed by the
uploading account (username or email), client id, privacy, upload dates and file size ("2 MB");
`POST /admin/images/delete` moves the selected ones to the trash like any web delete (`web/trash.py`; the policy
lets admins delete any image), with an undo.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from pinhole.api.deps import DatabaseDep
from pinhole.api.services import ImagesDep
from pinhole.api.urls import path_prefix
from pinhole.db.engine import Database
from pinhole.errors import InvalidInput
from pinhole.security.policy import Action, require
from pinhole.services import listing
from pinhole.services import users as user_service
from pinhole.web.forms import selected_ids
from pinhole.web.rendering import WebRoute, render
from pinhole.web.session import FormSession, RequiredSession
from pinhole.web.sizes import parse_byte_size
from pinhole.web.trash import trash_and_notify

router = APIRouter(route_class=WebRoute)

PAGE = listing.MAX_LIMIT
PRIVACY = {"": None, "private": True, "public": False}


def _day(value: str, field: str, *, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("Give dates as YYYY-MM-DD.", field=field) from None
    moment = datetime.combine(day, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if end else moment


def _size(value: str, field: str) -> int | None:
    if not value:
        return None
    size = parse_byte_size(value)
    if size is None:
        raise InvalidInput("Give sizes such as 500 KB or 2 MB.", field=field)
    return size


async def _filter(request: Request, db: Database) -> tuple[listing.ImageFilter, dict[str, str]]:
    keys = ("user", "client", "privacy", "from", "to", "min", "max")
    raw = {key: request.query_params.get(key, "").strip() for key in keys}
    owner_id = None
    if raw["user"]:
        user = await user_service.find_user(db, raw["user"])
        if user is None:
            raise InvalidInput("No account has this username or email.", field="user")
        owner_id = user.id
    if raw["privacy"] not in PRIVACY:
        raise InvalidInput("Privacy is private, public or any.", field="privacy")
    flt = listing.ImageFilter(
        all_clients=True,
        owner_id=owner_id,
        client_id=raw["client"] or None,
        is_private=PRIVACY[raw["privacy"]],
        created_from=_day(raw["from"], "from"),
        created_to=_day(raw["to"], "to", end=True),
        min_size=_size(raw["min"], "min"),
        max_size=_size(raw["max"], "max"),
    )
    return flt, raw


@router.get("/admin/images", name="admin.images")
async def all_images(request: Request, db: DatabaseDep, session: RequiredSession) -> Response:
    require(session.principal, Action.ADMINISTER, hide=False)
    flt, fields = await _filter(request, db)
    query = {key: value for key, value in fields.items() if value}
    cursor = request.query_params.get("cursor") or None
    result = await listing.list_images(db=db, principal=session.principal, flt=flt, limit=PAGE, cursor=cursor)
    owners = await user_service.users_by_id(db, {image.owner_id for image in result.items if image.owner_id})
    context = {
        "current": "images",
        "images": result.items,
        "owners": owners,
        "filters": fields,
        "filtered": bool(query),
        "thumb_base": path_prefix(request.app, "v2.images.serve", "image_id"),
        "next_url": f"/admin/images?{urlencode(query | {'cursor': result.next_cursor})}"
        if result.next_cursor
        else None,
    }
    return render(request, "admin_images.html", context)


@router.post("/admin/images/delete", name="admin.images.delete")
async def delete_images(request: Request, images: ImagesDep, session: FormSession) -> Response:
    require(session.principal, Action.ADMINISTER, hide=False)
    ids = selected_ids(await request.form())
    return await trash_and_notify(request, images, session, ids, back="/admin/images")
