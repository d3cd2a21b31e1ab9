"""`pinhole clients ...`: API clients (tenants) and their keys."""

from __future__ import annotations

from typing import Annotated

import typer

from pinhole.cli.common import ConfigOption, JsonOption, emit, run, settings_from
from pinhole.cli.db import open_database
from pinhole.services import clients as client_service
from pinhole.settings import Settings

app = typer.Typer(help="API clients (tenants) and their keys.", no_args_is_help=True)


async def _create(settings: Settings, name: str) -> client_service.NewClient:
    database = await open_database(settings)
    try:
        return await client_service.create_client(db=database, name=name)
    finally:
        await database.dispose()


async def _list(settings: Settings) -> list[dict[str, object]]:
    database = await open_database(settings)
    try:
        found = await client_service.list_clients(db=database)
    finally:
        await database.dispose()
    return [
        {
            "id": c.id,
            "name": c.name,
            "keyPrefix": c.api_key_prefix,
            "active": c.active,
            "createdAt": c.created_at,
        }
        for c in found
    ]


@app.command("create", help="Create a client and print its API key (shown once).")
def create(
    name: Annotated[str, typer.Option("--name", help="Client name.")],
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    try:
        new = run(_create(settings, name))
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    data = {"id": new.client.id, "name": new.client.name, "apiKey": new.api_key}
    emit(data, as_json=as_json, text=f"client {new.client.id} ({new.client.name})\nAPI key: {new.api_key}")


@app.command("list", help="List clients (keys are never shown).")
def list_clients(as_json: JsonOption = False, config: ConfigOption = None) -> None:
    rows = run(_list(settings_from(config)))
    text = "\n".join(f"{r['id']}  {r['name']}  {r['keyPrefix']}…  active={r['active']}" for r in rows)
    emit(rows, as_json=as_json, text=text or "no clients")
