"""`pinhole users ...`: user accounts (create, list, activate or suspend)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from pinhole.cli.common import ConfigOption, JsonOption, emit, fail, run, settings_from
from pinhole.cli.db import connected
from pinhole.db.models import User
from pinhole.security.principal import Role
from pinhole.services import users as user_service
from pinhole.settings import Settings

app = typer.Typer(help="User accounts.", no_args_is_help=True)

PASSWORD_VARIABLE = "PINHOLE_PASSWORD"  # noqa: S105 (a variable name)
PAGE = 500

UserArgument = Annotated[str, typer.Argument(help="The user's email, username or id.")]


def describe(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "username": user.username,
        "displayName": user.display_name,
        "role": user.role,
        "status": user.status,
        "createdAt": user.created_at,
        "lastLoginAt": user.last_login_at,
    }


def _line(user: User) -> str:
    return f"{user.id}  {user.username}  {user.email}  {user.role}  {user.status}"


def read_password(given: str | None) -> str:
    """--password or PINHOLE_PASSWORD; else a hidden prompt on a terminal, or the first line of piped input."""
    if given:
        return given
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        fail(f"give a password: {PASSWORD_VARIABLE}, a line on standard input, or --password", code=2)
    return line


async def _create(settings: Settings, *, email: str, password: str, username: str | None, admin: bool) -> User:
    from pinhole.app import build_accounts  # the composition root imports the web stack: only load it here

    async with connected(settings) as db:
        return await user_service.create_user(
            build_accounts(settings, db),
            email=email,
            password=password,
            username=username,
            role=Role.ADMIN if admin else Role.USER,
        )


async def _list(settings: Settings) -> list[User]:
    found: list[User] = []
    async with connected(settings) as db:
        while True:
            page, total = await user_service.list_users(db, limit=PAGE, offset=len(found))
            found.extend(page)
            if not page or len(found) >= total:
                return found


async def _set_status(settings: Settings, login: str, status: user_service.Status) -> User:
    async with connected(settings) as db:
        user = await user_service.require_user(db, login)
        return await user_service.set_status(db, user.id, status)


@app.command("create", help="Create a user account (active).")
def create(
    email: Annotated[str, typer.Option("--email", help="Email address; signs in like the username.")],
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar=PASSWORD_VARIABLE,
            show_envvar=True,
            help="The password. Avoid this option: a password on the command line lands in shell history and the "
            f"process list. Omit it to be prompted, or set {PASSWORD_VARIABLE}, or pipe it in on standard input.",
        ),
    ] = None,
    username: Annotated[str | None, typer.Option("--username", help="Default: from the email's local part.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the account an admin.")] = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    settings = settings_from(config)
    secret = read_password(password)
    user = run(_create(settings, email=email, password=secret, username=username, admin=admin))
    emit(describe(user), as_json=as_json, text=f"created {user.role} {user.username} <{user.email}> ({user.id})")


@app.command("list", help="List user accounts.")
def list_users(as_json: JsonOption = False, config: ConfigOption = None) -> None:
    found = run(_list(settings_from(config)))
    emit([describe(u) for u in found], as_json=as_json, text="\n".join(map(_line, found)) or "no users")


@app.command(
    "set-status",
    help="Set an account active, inactive or suspended. Anything but active stops its sign-ins and keys and ends "
    "its sessions for good; its keys work again once it is active.",
)
def set_status(
    user: UserArgument,
    status: Annotated[user_service.Status, typer.Argument(help="active, inactive or suspended.")],
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    changed = run(_set_status(settings_from(config), user, status))
    emit(describe(changed), as_json=as_json, text=f"{changed.username}: {changed.status}")
