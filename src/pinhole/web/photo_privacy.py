"""The account page's "Photos" choices: keep the GPS position of uploads, show my name on public pages.

Both are off by default (services.account_choices); the form is part of /account (templates/_photo_privacy.html).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from pinhole.api.deps import DatabaseDep
from pinhole.security.policy import Action, require
from pinhole.services import account_choices
from pinhole.web.account import NOTICES
from pinhole.web.rendering import WebRoute, notify
from pinhole.web.session import FormSession

router = APIRouter(route_class=WebRoute)


@router.post("/account/photos", name="account.photos")
async def save_choices(request: Request, db: DatabaseDep, session: FormSession) -> Response:
    require(session.principal, Action.MANAGE)
    form = await request.form()
    await account_choices.set_choices(
        db,
        session.user.id,
        keep_location=form.get("keep_location") == "1",
        show_name=form.get("show_name") == "1",
    )
    return notify(request, "/account#photo-privacy", NOTICES["photos"])
