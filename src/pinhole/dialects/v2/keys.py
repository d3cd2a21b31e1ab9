"""v2 account key routes: personal `sk_` keys, upload keys and ShareX configs (docs/apis.md, "v2")."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from pinhole.api.deps import DatabaseDep, RuntimeDep
from pinhole.api.principals import AccountPrincipal
from pinhole.api.urls import url_for
from pinhole.db.models import ApiKey, UploadKey
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.key_schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyPublic,
    UploadKeyCreate,
    UploadKeyCreated,
    UploadKeyList,
    UploadKeyPublic,
)
from pinhole.errors import NotFound
from pinhole.security.policy import Action, require
from pinhole.security.principal import Principal
from pinhole.services import keys
from pinhole.services.sharex import sharex_config, sharex_filename

router = APIRouter(prefix="/account", tags=["v2"], route_class=V2Route)
NO_STORE = {"Cache-Control": "no-store"}
K = TypeVar("K", ApiKey, UploadKey)


def _account(principal: Principal) -> str:
    require(principal, Action.MANAGE)
    assert principal.account_id is not None
    return principal.account_id


def _mine(principal: Principal, row: K | None) -> K:
    if row is None or row.revoked_at is not None:
        raise NotFound("No such key.")
    require(principal, Action.MANAGE, row)  # another account's key: 404, as if missing
    return row


def _personal(row: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


def _upload(request: Request, row: UploadKey) -> UploadKeyPublic:
    return UploadKeyPublic(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        sharex_url=url_for(request, "v2.account.upload_keys.sharex", key_id=row.id),
    )


@router.get(
    "/keys",
    name="account.keys.list",
    summary="List your personal API keys (never the keys themselves)",
    response_model=ApiKeyList,
)
async def list_personal_keys(db: DatabaseDep, principal: AccountPrincipal) -> ApiKeyList:
    rows = await keys.list_personal_keys(db, user_id=_account(principal))
    return ApiKeyList(data=[_personal(row) for row in rows])


@router.post("/keys", name="account.keys.create", status_code=201, summary="Create a personal sk_ API key (shown once)")
async def create_personal_key(
    response: Response,
    db: DatabaseDep,
    principal: AccountPrincipal,
    body: Annotated[ApiKeyCreate | None, Body()] = None,
) -> ApiKeyCreated:
    body = body or ApiKeyCreate()
    new = await keys.create_personal_key(db, user_id=_account(principal), name=body.name, expires_at=body.expires_at)
    assert isinstance(new.row, ApiKey)
    response.headers.update(NO_STORE)
    return ApiKeyCreated(key=new.key, **_personal(new.row).model_dump())


@router.delete(
    "/keys/{key_id}",
    name="account.keys.revoke",
    status_code=204,
    summary="Revoke a personal API key (it stops working at once)",
)
async def revoke_personal_key(db: DatabaseDep, principal: AccountPrincipal, key_id: str) -> Response:
    row = _mine(principal, await keys.get_personal_key(db, key_id))
    await keys.revoke_personal_key(db, key_id=row.id)
    return Response(status_code=204)


@router.get(
    "/upload-keys",
    name="account.upload_keys.list",
    summary="List your upload keys (never the keys themselves)",
    response_model=UploadKeyList,
)
async def list_upload_keys(request: Request, db: DatabaseDep, principal: AccountPrincipal) -> UploadKeyList:
    rows = await keys.list_upload_keys(db, user_id=_account(principal))
    return UploadKeyList(data=[_upload(request, row) for row in rows])


@router.post(
    "/upload-keys",
    name="account.upload_keys.create",
    status_code=201,
    summary="Create an upload-only key (for ShareX and the uploadkey API)",
)
async def create_upload_key(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    db: DatabaseDep,
    principal: AccountPrincipal,
    body: Annotated[UploadKeyCreate | None, Body()] = None,
) -> UploadKeyCreated:
    body = body or UploadKeyCreate()
    new = await keys.create_upload_key(db, secret=runtime.secret, user_id=_account(principal), name=body.name)
    assert isinstance(new.row, UploadKey)
    response.headers.update(NO_STORE)
    return UploadKeyCreated(key=new.key, **_upload(request, new.row).model_dump())


@router.delete(
    "/upload-keys/{key_id}",
    name="account.upload_keys.revoke",
    status_code=204,
    summary="Revoke an upload key (it stops working at once)",
)
async def revoke_upload_key(db: DatabaseDep, principal: AccountPrincipal, key_id: str) -> Response:
    row = _mine(principal, await keys.get_upload_key(db, key_id))
    await keys.revoke_upload_key(db, key_id=row.id)
    return Response(status_code=204)


# What the route answers, made by the function that makes the config (the key is an example's).
SHAREX_EXAMPLE = sharex_config(
    upload_url="https://images.example.com/v2/images", key="uk_Xq2v9sLm4Tb7Rc1Pw8Zd", name="ShareX on my laptop"
)
SHAREX_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "content": {"application/json": {"schema": {"type": "object"}, "example": SHAREX_EXAMPLE}},
        "description": "A ShareX custom uploader config (.sxcu) as a download",
    }
}


@router.get(
    "/upload-keys/{key_id}/sharex",
    name="account.upload_keys.sharex",
    response_class=JSONResponse,
    responses=SHAREX_RESPONSES,
    summary="Download a ShareX custom uploader config (.sxcu) for an upload key",
)
async def sharex_for_upload_key(
    request: Request, runtime: RuntimeDep, db: DatabaseDep, principal: AccountPrincipal, key_id: str
) -> JSONResponse:
    row = _mine(principal, await keys.get_upload_key(db, key_id))
    config = sharex_config(
        upload_url=url_for(request, "v2.images.upload"),
        key=keys.upload_key_secret(runtime.secret, row),
        name=row.name,
    )
    disposition = f'attachment; filename="{sharex_filename(row.name)}"'
    return JSONResponse(config, headers={**NO_STORE, "Content-Disposition": disposition})
