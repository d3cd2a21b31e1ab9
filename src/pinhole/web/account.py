"""The account page: change the password, personal API keys (shown once) and upload keys with their ShareX configs.

Keys are managed through the same services and policy (`Action.MANAGE`) as `/v2/account/...`; another account's
key id answers 404 as a missing one does.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response

from pinhole.api.deps import DatabaseDep, RuntimeDep, caller_address, settings_of
from pinhole.api.services import SigninDep
from pinhole.api.urls import url_for
from pinhole.db.engine import Database
from pinhole.db.models import ApiKey, UploadKey
from pinhole.errors import LoginThrottled, NotFound, Unauthorized, WeakPassword
from pinhole.security.policy import Action, require
from pinhole.services import keys, signin
from pinhole.services.sharex import sharex_config, sharex_filename
from pinhole.web.rendering import WebRoute, notify, render
from pinhole.web.session import FormSession, RequiredSession, WebSession

router = APIRouter(route_class=WebRoute)

K = TypeVar("K", ApiKey, UploadKey)
NOTICES = {
    "password": "Your password is changed. Your other sessions were signed out.",
    "revoked": "The key is revoked.",
    "photos": "Your photo choices are saved.",
}


async def _account_page(
    request: Request, db: Database, session: WebSession, extra: dict[str, Any] | None = None, *, status: int = 200
) -> Response:
    require(session.principal, Action.MANAGE)
    context = {
        "personal_keys": await keys.list_personal_keys(db, user_id=session.user.id),
        "upload_keys": await keys.list_upload_keys(db, user_id=session.user.id),
        "new_key": None,
        "new_key_kind": None,
        "error": None,
        "min_length": settings_of(request).accounts.password_min_length,
    }
    return render(request, "account.html", context | (extra or {}), status=status)


@router.get("/account", name="account")
async def account_page(request: Request, db: DatabaseDep, session: RequiredSession) -> Response:
    return await _account_page(request, db, session)


@router.post("/account/password", name="account.password")
async def change_password(request: Request, db: DatabaseDep, gate: SigninDep, session: FormSession) -> Response:
    form = await request.form()
    current, new, repeated = (str(form.get(name) or "") for name in ("current", "new", "new2"))
    if new != repeated:
        return await _account_page(
            request, db, session, {"error": "The two new passwords are not the same."}, status=400
        )
    try:
        await signin.change_password(
            gate,
            user_id=session.user.id,
            current=current,
            new=new,
            address=caller_address(request),
            keep_session=session.session_id,
        )
    except LoginThrottled as exc:
        message = f"Too many wrong passwords. Try again in {exc.retry_after} seconds."
        return await _account_page(request, db, session, {"error": message}, status=429)
    except (Unauthorized, WeakPassword) as exc:
        return await _account_page(request, db, session, {"error": exc.message}, status=exc.status)
    return notify(request, "/account", NOTICES["password"])


def _key_name(form: Any) -> str | None:
    name = form.get("name")
    return name if isinstance(name, str) and name.strip() else None


@router.post("/account/keys", name="account.keys.create")
async def create_personal_key(request: Request, db: DatabaseDep, session: FormSession) -> Response:
    require(session.principal, Action.MANAGE)
    form = await request.form()
    new = await keys.create_personal_key(db, user_id=session.user.id, name=_key_name(form))
    extra = {"new_key": new.key, "new_key_kind": "API key"}
    return await _account_page(request, db, session, extra, status=201)


def _mine(session: WebSession, row: K | None) -> K:
    if row is None or row.revoked_at is not None:
        raise NotFound("No such key.")
    require(session.principal, Action.MANAGE, row)
    return row


@router.post("/account/keys/{key_id}/revoke", name="account.keys.revoke")
async def revoke_personal_key(request: Request, db: DatabaseDep, session: FormSession, key_id: str) -> Response:
    row = _mine(session, await keys.get_personal_key(db, key_id))
    await keys.revoke_personal_key(db, key_id=row.id)
    return notify(request, "/account", NOTICES["revoked"])


@router.post("/account/upload-keys", name="account.upload_keys.create")
async def create_upload_key(request: Request, runtime: RuntimeDep, db: DatabaseDep, session: FormSession) -> Response:
    require(session.principal, Action.MANAGE)
    form = await request.form()
    new = await keys.create_upload_key(db, secret=runtime.secret, user_id=session.user.id, name=_key_name(form))
    extra = {"new_key": new.key, "new_key_kind": "upload key"}
    return await _account_page(request, db, session, extra, status=201)


@router.post("/account/upload-keys/{key_id}/revoke", name="account.upload_keys.revoke")
async def revoke_upload_key(request: Request, db: DatabaseDep, session: FormSession, key_id: str) -> Response:
    row = _mine(session, await keys.get_upload_key(db, key_id))
    await keys.revoke_upload_key(db, key_id=row.id)
    return notify(request, "/account", NOTICES["revoked"])


@router.get("/account/upload-keys/{key_id}/sharex", name="account.upload_keys.sharex")
async def download_sharex(
    request: Request, runtime: RuntimeDep, db: DatabaseDep, session: RequiredSession, key_id: str
) -> Response:
    row = _mine(session, await keys.get_upload_key(db, key_id))
    key = keys.upload_key_secret(runtime.secret, row)
    config = sharex_config(upload_url=url_for(request, "v2.images.upload"), key=key, name=row.name)
    return Response(
        json.dumps(config, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{sharex_filename(row.name)}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
