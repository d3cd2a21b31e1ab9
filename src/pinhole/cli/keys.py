"""`pinhole keys ...`: users' personal `sk_` API keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import typer

from pinhole.cli.common import ConfigOption, JsonOption, emit, run, settings_from
from pinhole.cli.db import connected
from pinhole.db.models import ApiKey, utcnow
from pinhole.services import keys as key_service
from pinhole.services import users as user_service
from pinhole.settings import Settings

app = typer.Typer(help="Personal sk_ API keys of user accounts.", no_args_is_help=True)

UserOption = Annotated[str, typer.Option("--user", help="The owner's email, username or id.")]
KeyId = Annotated[str, typer.Argument(help="The key's id (see `pinhole keys list`).")]


def describe(row: ApiKey) -> dict[str, Any]:
    return {
        "id": row.id,
        "userId": row.user_id,
        "name": row.name,
        "prefix": row.prefix,
        "createdAt": row.created_at,
        "expiresAt": row.expires_at,
        "lastUsedAt": row.last_used_at,
    }


async def _create(settings: Settings, login: str, name: str | None, days: int | None) -> key_service.NewKey:
    async with connected(settings) as db:
        user = await user_service.require_user(db, login)
        expires_at = utcnow() + timedelta(days=days) if days else None
        return await key_service.create_personal_key(db, user_id=user.id, name=name, expires_at=expires_at)


async def _list(settings: Settings, login: str) -> list[ApiKey]:
    async with connected(settings) as db:
        user = await user_service.require_user(db, login)
        return await key_service.list_personal_keys(db, user_id=user.id)


async def _revoke(settings: Settings, key_id: str) -> None:
    async with connected(settings) as db:
        await key_service.revoke_personal_key(db, key_id=key_id)


@app.command("create", help="Create a personal API key for a user and print it (shown once; only a hash is kept).")
def create(
    user: UserOption,
    name: Annotated[str | None, typer.Option("--name", help="What the key is for.")] = None,
    expires_in_days: Annotated[
        int | None, typer.Option("--expires-in-days", min=1, max=3650, help="Default: never expires.")
    ] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    new = run(_create(settings_from(config), user, name, expires_in_days))
    assert isinstance(new.row, ApiKey)
    emit(
        describe(new.row) | {"key": new.key},
        as_json=as_json,
        text=f"key {new.row.id} ({new.row.name})\n{new.key}",
    )


@app.command("list", help="List a user's live personal keys (never the keys themselves).")
def list_keys(user: UserOption, as_json: JsonOption = False, config: ConfigOption = None) -> None:
    rows = run(_list(settings_from(config), user))
    text = "\n".join(
        f"{r.id}  {r.prefix}…  {r.name}  expires={r.expires_at or 'never'}  last used={r.last_used_at or 'never'}"
        for r in rows
    )
    emit([describe(r) for r in rows], as_json=as_json, text=text or "no keys")


@app.command("revoke", help="Revoke a personal key; it stops working at once.")
def revoke(key_id: KeyId, as_json: JsonOption = False, config: ConfigOption = None) -> None:
    run(_revoke(settings_from(config), key_id))
    emit({"id": key_id, "revoked": True}, as_json=as_json, text=f"key {key_id} revoked")
