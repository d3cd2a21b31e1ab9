"""v2 account key routes: a signed-in user's personal `sk_` keys and upload keys, and ShareX configs.

Only a signed-in account (access token or browser session) manages keys; an `sk_` or upload key cannot. The
policy decides on each key row; another account's key answers 404, as a missing one does. Responses that carry
a key are `Cache-Control: no-store`. Route names (`account.keys.create`...) are their rate-limit scopes under `v2.`.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from pinhole.api.deps import RuntimeDep, public_base_url
from pinhole.db.models import ApiKey, UploadKey
from pinhole.dialects.v2.auth import AccountPrincipal
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
from pinhole.runtime import Runtime
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


def _api_base(request: Request, runtime: Runtime) -> str:
    return f"{public_base_url(request, runtime)}{runtime.settings.v2.prefix}"


def _upload(request: Request, runtime: Runtime, row: UploadKey) -> UploadKeyPublic:
    return UploadKeyPublic(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        sharex_url=f"{_api_base(request, runtime)}/account/upload-keys/{row.id}/sharex",
    )


@router.get(
    "/keys",
    name="account.keys.list",
    summary="List your personal API keys (never the keys themselves)",
    response_model=ApiKeyList,
)
async def list_personal_keys(runtime: RuntimeDep, principal: AccountPrincipal) -> ApiKeyList:
    rows = await keys.list_personal_keys(runtime.db, user_id=_account(principal))
    return ApiKeyList(data=[_personal(row) for row in rows])


@router.post("/keys", name="account.keys.create", status_code=201, summary="Create a personal sk_ API key (shown once)")
async def create_personal_key(
    response: Response,
    runtime: RuntimeDep,
    principal: AccountPrincipal,
    body: Annotated[ApiKeyCreate | None, Body()] = None,
) -> ApiKeyCreated:
    body = body or ApiKeyCreate()
    new = await keys.create_personal_key(
        runtime.db, user_id=_account(principal), name=body.name, expires_at=body.expires_at
    )
    assert isinstance(new.row, ApiKey)
    response.headers.update(NO_STORE)
    return ApiKeyCreated(key=new.key, **_personal(new.row).model_dump())


@router.delete(
    "/keys/{key_id}",
    name="account.keys.revoke",
    status_code=204,
    summary="Revoke a personal API key (it stops working at once)",
)
async def revoke_personal_key(runtime: RuntimeDep, principal: AccountPrincipal, key_id: str) -> Response:
    row = _mine(principal, await keys.get_personal_key(runtime.db, key_id))
    await keys.revoke_personal_key(runtime.db, key_id=row.id)
    return Response(status_code=204)


@router.get(
    "/upload-keys",
    name="account.upload_keys.list",
    summary="List your upload keys (never the keys themselves)",
    response_model=UploadKeyList,
)
async def list_upload_keys(request: Request, runtime: RuntimeDep, principal: AccountPrincipal) -> UploadKeyList:
    rows = await keys.list_upload_keys(runtime.db, user_id=_account(principal))
    return UploadKeyList(data=[_upload(request, runtime, row) for row in rows])


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
    principal: AccountPrincipal,
    body: Annotated[UploadKeyCreate | None, Body()] = None,
) -> UploadKeyCreated:
    body = body or UploadKeyCreate()
    new = await keys.create_upload_key(runtime.db, secret=runtime.secret, user_id=_account(principal), name=body.name)
    assert isinstance(new.row, UploadKey)
    response.headers.update(NO_STORE)
    return UploadKeyCreated(key=new.key, **_upload(request, runtime, new.row).model_dump())


@router.delete(
    "/upload-keys/{key_id}",
    name="account.upload_keys.revoke",
    status_code=204,
    summary="Revoke an upload key (it stops working at once)",
)
async def revoke_upload_key(runtime: RuntimeDep, principal: AccountPrincipal, key_id: str) -> Response:
    row = _mine(principal, await keys.get_upload_key(runtime.db, key_id))
    await keys.revoke_upload_key(runtime.db, key_id=row.id)
    return Response(status_code=204)


SHAREX_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/json": {}}, "description": "A ShareX custom uploader config (.sxcu) as a download"}
}


@router.get(
    "/upload-keys/{key_id}/sharex",
    name="account.upload_keys.sharex",
    response_class=JSONResponse,
    responses=SHAREX_RESPONSES,
    summary="Download a ShareX custom uploader config (.sxcu) for an upload key",
)
async def sharex_for_upload_key(
    request: Request, runtime: RuntimeDep, principal: AccountPrincipal, key_id: str
) -> JSONResponse:
    row = _mine(principal, await keys.get_upload_key(runtime.db, key_id))
    config = sharex_config(
        upload_url=f"{_api_base(request, runtime)}/images",
        key=keys.upload_key_secret(runtime.secret, row),
        name=row.name,
    )
    disposition = f'attachment; filename="{sharex_filename(row.name)}"'
    return JSONResponse(config, headers={**NO_STORE, "Content-Disposition": disposition})
