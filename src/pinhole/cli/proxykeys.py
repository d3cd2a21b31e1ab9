"""`pinhole clients proxy-keys ...`: a client's own keys for the proxy URL dialects (docs/proxies.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from pinhole.cli.common import ConfigOption, JsonOption, emit, run, settings_from
from pinhole.cli.db import connected
from pinhole.db.models import ProxyClientKey
from pinhole.services import proxy_keys
from pinhole.settings import Settings, resolve_secret

app = typer.Typer(help="A client's own keys for imgproxy, thumbor, imgix and Cloudinary URLs.", no_args_is_help=True)

ClientId = Annotated[str, typer.Argument(help="The client's id (see `pinhole clients list`).")]
Secret = Annotated[str | None, typer.Option(help="Leave out to have one made (shown once).")]


class DialectName(StrEnum):
    IMGPROXY = "imgproxy"
    THUMBOR = "thumbor"
    IMGIX = "imgix"
    CLOUDINARY = "cloudinary"


def describe(row: ProxyClientKey | proxy_keys.ProxyKey) -> dict[str, Any]:
    return {"id": row.id, "dialect": row.dialect, "cloudName": row.cloud_name, "apiKey": row.api_key,
            "createdAt": row.created_at}  # fmt: skip


async def _add(settings: Settings, client_id: str, request: proxy_keys.KeyRequest) -> proxy_keys.ProxyKey:
    async with connected(settings) as db:
        return await proxy_keys.add_key(
            db=db,
            server_secret=resolve_secret(settings),
            client_id=client_id,
            request=request,
            reserved_clouds=frozenset({settings.dialects.cloudinary.cloud_name}),
        )


async def _list(settings: Settings, client_id: str) -> list[ProxyClientKey]:
    async with connected(settings) as db:
        return await proxy_keys.list_keys(db=db, client_id=client_id)


async def _remove(settings: Settings, client_id: str, key_id: str) -> None:
    async with connected(settings) as db:
        await proxy_keys.remove_key(db=db, client_id=client_id, key_id=key_id)


@app.command("add", help="Give a client its own key for a dialect; prints the secrets (shown once).")
def add(
    client_id: ClientId,
    dialect: Annotated[DialectName, typer.Argument(help="imgproxy, thumbor, imgix or cloudinary.")],
    key: Annotated[str | None, typer.Option(help="imgproxy key, hex (made when left out).")] = None,
    salt: Annotated[str | None, typer.Option(help="imgproxy salt, hex (made when left out).")] = None,
    security_key: Annotated[str | None, typer.Option(help="thumbor SECURITY_KEY (made when left out).")] = None,
    token: Annotated[str | None, typer.Option(help="imgix secure URL token (made when left out).")] = None,
    cloud_name: Annotated[str | None, typer.Option(help="Cloudinary cloud name (required for cloudinary).")] = None,
    api_key: Annotated[str | None, typer.Option(help="Cloudinary API key (made when left out).")] = None,
    api_secret: Annotated[str | None, typer.Option(help="Cloudinary API secret (made when left out).")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    given = {"key": key, "salt": salt, "security_key": security_key, "token": token, "api_secret": api_secret}
    names = {name for name, value in given.items() if value is not None} | set(proxy_keys.SECRET_FIELDS[dialect])
    request = proxy_keys.KeyRequest(
        dialect=dialect.value, secret={name: given[name] for name in names}, cloud_name=cloud_name, api_key=api_key
    )
    new = run(_add(settings_from(config), client_id, request))
    secrets = "\n".join(f"{name}: {value}" for name, value in new.secret.items())
    public = f"\ncloud name: {new.cloud_name}\napi key: {new.api_key}" if new.cloud_name else ""
    text = f"{dialect.value} key {new.id} for client {client_id}{public}\n{secrets}\n(secrets are shown only now)"
    emit(describe(new) | dict(new.secret), as_json=as_json, text=text)


@app.command("list", help="List a client's proxy keys (never their secrets).")
def list_keys(client_id: ClientId, as_json: JsonOption = False, config: ConfigOption = None) -> None:
    rows = [describe(row) for row in run(_list(settings_from(config), client_id))]
    text = "\n".join(
        f"{r['id']}  {r['dialect']}" + (f"  cloud={r['cloudName']} apiKey={r['apiKey']}" if r["cloudName"] else "")
        for r in rows
    )
    emit(rows, as_json=as_json, text=text or "no proxy keys")


@app.command("rm", help="Remove one of a client's proxy keys: URLs signed with it stop opening at once.")
def remove(
    client_id: ClientId,
    key_id: Annotated[str, typer.Argument(help="The key's id (see `list`).")],
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    run(_remove(settings_from(config), client_id, key_id))
    emit({"id": key_id, "removed": True}, as_json=as_json, text=f"proxy key {key_id} removed")
