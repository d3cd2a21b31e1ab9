"""The trash page: images deleted in the web app, restorable for `web.trash_days` (docs/web.md, Trash).

Every delete in the web app (the image page, the grid's bulk delete, the admin's moderation) moves the images to the
trash (`services.trash`) and answers with a notice that offers "Undo". `/trash` lists the signed-in account's
trashed images (an admin's lists everyone's) with Restore and Delete now.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from pinhole.api.deps import DatabaseDep, settings_of
from pinhole.api.services import ImagesDep
from pinhole.services import trash as trash_service
from pinhole.services.library import Images
from pinhole.web.forms import selected_ids
from pinhole.web.rendering import WebRoute, local_path, notify, render
from pinhole.web.session import FormSession, RequiredSession, WebSession

router = APIRouter(route_class=WebRoute)


def _count(n: int) -> str:
    return "1 image" if n == 1 else f"{n} images"


async def trash_and_notify(
    request: Request, images: Images, session: WebSession, ids: list[str], *, back: str
) -> Response:
    """Move the images to the trash (all or nothing) and go to `back` with a notice that can undo it."""
    days = settings_of(request).web.trash_days
    await images.trash(session.principal, ids, days=days)
    if days == 0:
        return notify(request, back, f"Deleted {_count(len(ids))}.")
    text = f"Moved {_count(len(ids))} to the trash (kept {days} day{'' if days == 1 else 's'})."
    return notify(request, back, text, undo=tuple(ids))


@router.get("/trash", name="trash")
async def trash_page(request: Request, db: DatabaseDep, session: RequiredSession) -> Response:
    entries = await trash_service.list_trash(db=db, principal=session.principal, everyone=True)
    context = {"entries": entries, "days": settings_of(request).web.trash_days}
    return render(request, "trash.html", context)


@router.post("/trash/restore", name="trash.restore")
async def restore(request: Request, images: ImagesDep, session: FormSession) -> Response:
    form = await request.form()
    restored = await images.restore(session.principal, selected_ids(form))
    back = local_path(str(form.get("next") or ""), "/images")
    if len(restored) == 1:
        back = f"/images/{restored[0]}"
    return notify(request, back, f"Restored {_count(len(restored))}.")


@router.post("/trash/delete", name="trash.delete")
async def delete_now(request: Request, images: ImagesDep, session: FormSession) -> Response:
    ids = selected_ids(await request.form())
    await images.delete_from_trash(session.principal, ids)
    return notify(request, "/trash", f"Deleted {_count(len(ids))} for good.")
