"""The v2 admin API's accounts: list with storage, details with what the account holds, status/role/quotas,
delete with everything it uploaded, one-time password reset links (docs/admin.md, "Accounts").

The same services as the web app's `/admin/users` (`services.users`, `services.moderation`,
`services.password_resets`); an admin cannot change their own status or role, nor delete their own account, here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from pinhole.api.deps import DatabaseDep, RuntimeDep, public_base_url
from pinhole.api.principals import AdminPrincipal
from pinhole.api.services import ImagesDep
from pinhole.db.engine import Database
from pinhole.db.models import User
from pinhole.dialects.v2.admin_user_schemas import (
    AdminUser,
    AdminUserDetail,
    AdminUserList,
    AdminUserUpdate,
    ResetLink,
    UserFootprint,
)
from pinhole.dialects.v2.errors import V2Route
from pinhole.errors import InvalidInput, NotFound
from pinhole.security.principal import Principal, Role
from pinhole.services import moderation, password_resets
from pinhole.services import users as user_service

router = APIRouter(prefix="/admin/users", tags=["v2"], route_class=V2Route)


def _user(user: User, stored: tuple[int, int]) -> AdminUser:
    return AdminUser(
        id=user.id,
        email=user.email,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        status=user.status,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        quota_bytes=user.quota_bytes,
        quota_images=user.quota_images,
        images=stored[0],
        bytes=stored[1],
    )


async def _detail(db: Database, user_id: str) -> AdminUserDetail:
    user = await user_service.get_user(db, user_id)
    if user is None:
        raise NotFound("No such user.", field="user")
    held = await moderation.footprint(db, user_id)
    row = _user(user, (held.images, held.bytes))
    footprint = UserFootprint(
        images=held.images,
        bytes=held.bytes,
        public_images=held.public_images,
        public_bytes=held.public_bytes,
        trashed=held.trashed,
        albums=held.albums,
    )
    return AdminUserDetail(**row.model_dump(), footprint=footprint)


def _not_me(principal: Principal, user_id: str, what: str) -> None:
    if user_id == principal.account_id:
        raise InvalidInput(f"An admin cannot {what} their own account through the API; use the CLI.", field="user")


@router.get("", name="admin.users.list", summary="List accounts with their storage", response_model=AdminUserList)
async def list_users(
    db: DatabaseDep,
    principal: AdminPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AdminUserList:
    found, total = await user_service.list_users(db, limit=limit, offset=offset)
    stored = await moderation.storage_by_owner(db, [user.id for user in found])
    rows = [_user(user, stored.get(user.id, (0, 0))) for user in found]
    return AdminUserList(data=rows, total=total, limit=limit, offset=offset)


@router.get(
    "/{user_id}",
    name="admin.users.get",
    summary="Get an account and what it holds",
    response_model=AdminUserDetail,
)
async def get_user(db: DatabaseDep, principal: AdminPrincipal, user_id: str) -> AdminUserDetail:
    return await _detail(db, user_id)


@router.patch(
    "/{user_id}",
    name="admin.users.update",
    summary="Suspend or reactivate an account, change its role or quotas",
    response_model=AdminUserDetail,
)
async def update_user(
    db: DatabaseDep, principal: AdminPrincipal, user_id: str, body: AdminUserUpdate
) -> AdminUserDetail:
    await _detail(db, user_id)  # 404 first
    given = body.model_fields_set
    if {"status", "role"} & given:
        _not_me(principal, user_id, "change the status or role of")
    if body.status is not None:
        await user_service.set_status(db, user_id, user_service.Status(body.status))
    if body.role is not None:
        await user_service.set_role(db, user_id, Role(body.role))
    if {"quota_bytes", "quota_images"} & given:
        user = await user_service.get_user(db, user_id)
        assert user is not None
        quota_bytes = body.quota_bytes if "quota_bytes" in given else user.quota_bytes
        quota_images = body.quota_images if "quota_images" in given else user.quota_images
        await user_service.set_quota(db, user_id, quota_bytes=quota_bytes, quota_images=quota_images)
    return await _detail(db, user_id)


@router.delete(
    "/{user_id}",
    name="admin.users.delete",
    summary="Delete an account with all it uploaded",
    response_model=UserFootprint,
)
async def delete_user(images: ImagesDep, principal: AdminPrincipal, user_id: str) -> UserFootprint:
    """Answers what went: images and bytes (deleted for good), trashed images, albums."""
    _not_me(principal, user_id, "delete")
    gone = await moderation.delete_user(images=images, principal=principal, user_id=user_id)
    return UserFootprint(
        images=gone.images,
        bytes=gone.bytes,
        public_images=gone.public_images,
        public_bytes=gone.public_bytes,
        trashed=gone.trashed,
        albums=gone.albums,
    )


@router.post(
    "/{user_id}/reset-links",
    name="admin.users.reset_link",
    status_code=201,
    summary="Make a one-time password reset link",
    response_model=ResetLink,
)
async def reset_link(request: Request, runtime: RuntimeDep, principal: AdminPrincipal, user_id: str) -> ResetLink:
    hours = runtime.settings.accounts.reset_link_hours
    token, expires = await password_resets.create_reset(
        runtime.accounts, user_id=user_id, created_by=principal.account_id, hours=hours
    )
    return ResetLink(url=f"{public_base_url(request)}/reset/{token}", expires_at=expires)
