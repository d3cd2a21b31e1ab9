"""`pinhole clients ...`: API clients (tenants) and their keys."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from pinhole.cli import proxykeys
from pinhole.cli.common import ConfigOption, JsonOption, emit, run, settings_from
from pinhole.cli.db import connected
from pinhole.db.models import Client
from pinhole.services import clients as client_service
from pinhole.settings import Settings

app = typer.Typer(help="API clients (tenants) and their keys.", no_args_is_help=True)

ClientId = Annotated[str, typer.Argument(help="The client's id (see `pinhole clients list`).")]


class ClientStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


def describe(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "keyPrefix": client.api_key_prefix if client_service.has_usable_key(client) else None,
        "hasKey": client_service.has_usable_key(client),
        "active": client.active,
        "createdAt": client.created_at,
        "keyRotatedAt": client.key_rotated_at,
    }


def _with_key(new: client_service.NewClient) -> dict[str, Any]:
    return {"id": new.client.id, "name": new.client.name, "apiKey": new.api_key}


async def _create(settings: Settings, name: str) -> client_service.NewClient:
    async with connected(settings) as db:
        return await client_service.create_client(db=db, name=name)


async def _list(settings: Settings) -> list[Client]:
    async with connected(settings) as db:
        return await client_service.list_clients(db=db)


async def _rotate(settings: Settings, client_id: str) -> client_service.NewClient:
    async with connected(settings) as db:
        return await client_service.rotate_client_key(db=db, client_id=client_id)


async def _revoke(settings: Settings, client_id: str) -> Client:
    async with connected(settings) as db:
        return await client_service.revoke_client_key(db=db, client_id=client_id)


async def _set_active(settings: Settings, client_id: str, active: bool) -> Client:
    async with connected(settings) as db:
        return await client_service.set_client_active(db=db, client_id=client_id, active=active)


@app.command("create", help="Create a client and print its API key (shown once).")
def create(
    name: Annotated[str, typer.Option("--name", help="Client name.")],
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    new = run(_create(settings_from(config), name))
    text = f"client {new.client.id} ({new.client.name})\nAPI key: {new.api_key}"
    emit(_with_key(new), as_json=as_json, text=text)


@app.command("list", help="List clients (keys are never shown).")
def list_clients(as_json: JsonOption = False, config: ConfigOption = None) -> None:
    rows = [describe(c) for c in run(_list(settings_from(config)))]
    text = "\n".join(
        f"{r['id']}  {r['name']}  {(r['keyPrefix'] + '…') if r['hasKey'] else 'no key'}  active={r['active']}"
        for r in rows
    )
    emit(rows, as_json=as_json, text=text or "no clients")


@app.command("rotate-key", help="Give a client a new API key (shown once); the old key stops working at once.")
def rotate_key(client_id: ClientId, as_json: JsonOption = False, config: ConfigOption = None) -> None:
    new = run(_rotate(settings_from(config), client_id))
    data = _with_key(new) | {"keyRotatedAt": new.client.key_rotated_at}
    emit(data, as_json=as_json, text=f"client {new.client.id} ({new.client.name})\nnew API key: {new.api_key}")


@app.command("revoke-key", help="Revoke a client's API key: no key works until `rotate-key` issues a new one.")
def revoke_key(client_id: ClientId, as_json: JsonOption = False, config: ConfigOption = None) -> None:
    client = run(_revoke(settings_from(config), client_id))
    emit(describe(client), as_json=as_json, text=f"client {client.id} ({client.name}): key revoked")


@app.command("set-status", help="Activate or deactivate a client; an inactive client's key is refused.")
def set_status(
    client_id: ClientId,
    status: Annotated[ClientStatus, typer.Argument(help="active or inactive.")],
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    client = run(_set_active(settings_from(config), client_id, status is ClientStatus.ACTIVE))
    emit(describe(client), as_json=as_json, text=f"client {client.id} ({client.name}): {status.value}")


app.add_typer(proxykeys.app, name="proxy-keys")
