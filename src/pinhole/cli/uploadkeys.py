"""`pinhole uploadkeys ...`: users' upload-only keys, and ShareX configs for them."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from pinhole.cli.common import ConfigOption, JsonOption, emit, fail, run, settings_from
from pinhole.cli.db import connected
from pinhole.cli.keys import UserOption
from pinhole.db.models import UploadKey
from pinhole.services import keys as key_service
from pinhole.services import users as user_service
from pinhole.services.sharex import sharex_config
from pinhole.settings import Settings, SettingsError, resolve_secret

app = typer.Typer(help="Upload-only keys of user accounts (the uploadkey API, ShareX).", no_args_is_help=True)

KeyId = Annotated[str, typer.Argument(help="The upload key's id (see `pinhole uploadkeys list`).")]


def describe(row: UploadKey) -> dict[str, Any]:
    return {
        "id": row.id,
        "userId": row.user_id,
        "name": row.name,
        "prefix": row.prefix,
        "createdAt": row.created_at,
        "lastUsedAt": row.last_used_at,
    }


def _secret(settings: Settings) -> str:
    try:
        return resolve_secret(settings)
    except SettingsError as exc:
        fail(str(exc), code=2)


async def _create(settings: Settings, login: str, name: str | None) -> key_service.NewKey:
    async with connected(settings) as db:
        user = await user_service.require_user(db, login)
        return await key_service.create_upload_key(db, secret=_secret(settings), user_id=user.id, name=name)


async def _list(settings: Settings, login: str) -> list[UploadKey]:
    async with connected(settings) as db:
        user = await user_service.require_user(db, login)
        return await key_service.list_upload_keys(db, user_id=user.id)


async def _revoke(settings: Settings, key_id: str) -> None:
    async with connected(settings) as db:
        await key_service.revoke_upload_key(db, key_id=key_id)


async def _live(settings: Settings, key_id: str) -> UploadKey:
    async with connected(settings) as db:
        row = await key_service.get_upload_key(db, key_id)
    if row is None or row.revoked_at is not None:
        fail("No such key.")
    return row


@app.command("create", help="Create an upload-only key for a user and print it.")
def create(
    user: UserOption,
    name: Annotated[str | None, typer.Option("--name", help="What the key is for, e.g. `ShareX laptop`.")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    new = run(_create(settings_from(config), user, name))
    assert isinstance(new.row, UploadKey)
    text = f"upload key {new.row.id} ({new.row.name})\n{new.key}\nShareX config: pinhole uploadkeys sharex {new.row.id}"
    emit(describe(new.row) | {"key": new.key}, as_json=as_json, text=text)


@app.command("list", help="List a user's live upload keys (never the keys themselves).")
def list_keys(user: UserOption, as_json: JsonOption = False, config: ConfigOption = None) -> None:
    rows = run(_list(settings_from(config), user))
    text = "\n".join(f"{r.id}  {r.prefix}…  {r.name}  last used={r.last_used_at or 'never'}" for r in rows)
    emit([describe(r) for r in rows], as_json=as_json, text=text or "no upload keys")


@app.command("revoke", help="Revoke an upload key; it stops working at once.")
def revoke(key_id: KeyId, as_json: JsonOption = False, config: ConfigOption = None) -> None:
    run(_revoke(settings_from(config), key_id))
    emit({"id": key_id, "revoked": True}, as_json=as_json, text=f"upload key {key_id} revoked")


@app.command("sharex", help="Print a ShareX custom uploader config (.sxcu JSON) for an upload key.")
def sharex(
    key_id: KeyId,
    url: Annotated[
        str | None, typer.Option("--url", help="The server's public base URL (default: server.public_url).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    base = (url or settings.server.public_url or "").rstrip("/")
    if not base.startswith(("http://", "https://")):
        fail("give the server's public URL: --url https://img.example.com (or set server.public_url)", code=2)
    row = run(_live(settings, key_id))
    key = key_service.upload_key_secret(_secret(settings), row)
    body = sharex_config(upload_url=f"{base}{settings.v2.prefix}/images", key=key, name=row.name)
    typer.echo(json.dumps(body, indent=2))
