"""The authorization matrix: every route of every API, driven by anonymous, another client, another user of the
same client, the owner and an admin, with the exact outcome each must get.

Two worlds own the resources: a client's external user (X-API-Key + X-User-Id) and a user account (JWT).
`test_every_route_is_in_the_matrix` fails when a route is added without rows here, so new routes get decided.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from pinhole.db.models import Avatar
from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.services import keys, proxy_keys
from pinhole.services import users as user_service
from pinhole.services.clients import create_client
from pinhole.services.image_keys import image_key
from pinhole.services.short_ids import short_id
from tests.api.accounthelpers import PASSWORD, Account, make_account
from tests.conftest import ApiClient
from tests.support.images import make_jpeg

pytestmark = pytest.mark.anyio

ROLES = ("anonymous", "other_client", "other_user", "owner", "admin")
OK = "ok"  # 2xx
FALLBACK = "fallback"  # 200 with the fallback image (inaccessible images, no id probing)
LISTED = "listed"  # 2xx and the resource is in the listing
UNLISTED = "unlisted"  # 2xx and the resource is not in the listing
Outcome = str | int


@dataclass
class World:
    """Headers per role, and the accounts of the roles that are user accounts."""

    name: str
    headers: dict[str, dict[str, str]]
    accounts: dict[str, Account]


@dataclass(frozen=True)
class Ctx:
    world: World
    role: str

    @property
    def account(self) -> Account | None:
        return self.world.accounts.get(self.role)


@dataclass
class Resources:
    image_id: str
    share_token: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Setup:
    """What a case's `setup` hook gets: it makes the extra resources its route needs (an album, an avatar...)."""

    http: httpx.AsyncClient
    runtime: Runtime
    world: World
    resources: Resources
    n: int


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the route's path template, as FastAPI has it
    expect: dict[str, Outcome]
    private: bool = True
    query: str = ""
    body: Callable[[Ctx], dict[str, Any] | None] | None = None
    multipart: bool = False  # a file in `file_field`, plus `body` as form fields
    file_field: str = "file"
    id: str = ""
    client_world: dict[str, Outcome] | None = None  # where the client world differs
    subject: str = "image_id"  # the resource a listing is checked for
    bind: tuple[tuple[str, str], ...] = ()  # path placeholders filled from another resource value
    # Makes more resources for this case after the shared ones; the values it returns fill path placeholders.
    setup: Callable[[Setup], Awaitable[dict[str, str]]] | None = None
    headers: dict[str, str] = field(default_factory=dict)  # sent by every role, besides its credentials

    def expected(self, world: str) -> dict[str, Outcome]:
        return self.expect | (self.client_world or {}) if world == "client" else self.expect

    def label(self) -> str:
        return self.id or f"{self.method} {self.route}{'?' + self.query if self.query else ''}"


def everyone(outcome: Outcome) -> dict[str, Outcome]:
    return dict.fromkeys(ROLES, outcome)


def roles(**outcomes: Outcome) -> dict[str, Outcome]:
    assert set(outcomes) == set(ROLES), outcomes
    return outcomes


def own_login(ctx: Ctx) -> dict[str, Any]:
    """Each role signs in as itself; roles without an account try a name that does not exist."""
    login = ctx.account.username if ctx.account else "nobody"
    return {"login": login, "password": PASSWORD}


def own_refresh(ctx: Ctx) -> dict[str, Any]:
    return {"refreshToken": ctx.account.refresh_token if ctx.account else "rt_not-a-token"}


def new_password(_: Ctx) -> dict[str, Any]:
    return {"currentPassword": PASSWORD, "newPassword": "a brand new passphrase 42"}


async def uploadkey_image(setup: Setup) -> dict[str, str]:
    """The uploadkey API's image paths (`{uuid}.{ext}`) and the per-image key of the shared image."""
    image_id = setup.resources.image_id
    return {"uuid": image_id, "ext": "jpg", "image_key": image_key(secret=setup.runtime.secret, image_id=image_id)}


# Self routes: what an account does to itself. Client keys have no account, so they get 401 like anonymous callers.
NON_ACCOUNTS_401: dict[str, Outcome] = {"other_user": 401, "owner": 401}
ACCOUNT_SELF = roles(anonymous=401, other_client=401, other_user=OK, owner=OK, admin=OK)
ADMIN_SELF = roles(anonymous=401, other_client=401, other_user=403, owner=403, admin=OK)
COOKIE_ONLY = everyone(401)  # bearer credentials do not open browser-session routes (tested with cookies elsewhere)

OWNER_ONLY = roles(anonymous=401, other_client=404, other_user=404, owner=OK, admin=OK)
OWNER_ONLY_PUBLIC = roles(anonymous=401, other_client=404, other_user=403, owner=OK, admin=OK)


async def make_group(setup: Setup) -> dict[str, str]:
    """An upload group of the owner (two files in one upload)."""
    files = [("file", (f"{n}.jpg", make_jpeg(16 + n, 16), "image/jpeg")) for n in range(2)]
    response = await setup.http.post("/v2/images", headers=setup.world.headers["owner"], files=files)
    assert response.status_code == 201, response.text
    return {"group_id": response.json()["groupId"]}


async def make_avatar(setup: Setup) -> dict[str, str]:
    """The owner's avatar; its public URL names the client and the user."""
    response = await setup.http.post(
        "/v2/avatars",
        headers=setup.world.headers["owner"],
        files={"file": ("a.jpg", make_jpeg(20, 20), "image/jpeg")},
    )
    assert response.status_code in (200, 201), response.text  # 200: the tenant's user had one already
    client_id, external_user_id = response.json()["url"].split("/")[-2:]
    return {"client_id": client_id, "external_user_id": external_user_id}


async def avatar_with_id(setup: Setup) -> dict[str, str]:
    """The owner's avatar, with its id (what the admin routes name it by)."""
    values = await make_avatar(setup)
    async with setup.runtime.db.reader() as session:
        avatar_id = await session.scalar(
            select(Avatar.id).where(
                Avatar.client_id == values["client_id"], Avatar.owner_id == values["external_user_id"]
            )
        )
    assert avatar_id is not None
    return values | {"avatar_id": avatar_id}


async def _admin_client(setup: Setup) -> dict[str, str]:
    """A client for the admin client routes to act on (statistics and admin API block)."""
    new = await create_client(db=setup.runtime.db, name=f"managed{setup.n}")
    return {"client_id": new.client.id}


async def _managed_preset(setup: Setup) -> dict[str, str]:
    """A stored transform preset for the admin preset routes to act on (issue 15)."""
    name = f"matrix{setup.n}"
    await setup.runtime.presets.create(name, "w=120", eager=False, user_id=None)
    return {"name": name}


async def _client_with_proxy_key(setup: Setup) -> dict[str, str]:
    """A client holding its own thumbor key, for the admin proxy-key routes (issue 19)."""
    client = await _admin_client(setup)
    request = proxy_keys.KeyRequest(dialect="thumbor")
    key = await proxy_keys.add_key(
        db=setup.runtime.db, server_secret=setup.runtime.secret, client_id=client["client_id"], request=request
    )
    return client | {"key_id": key.id}


async def _managed_user(setup: Setup) -> dict[str, str]:
    """An account for the admin account routes to act on (never one of the roles: a delete must not break others)."""
    user = await user_service.create_user(
        setup.runtime.accounts, email=f"managed{setup.n}@example.com", password="a managed passphrase"
    )
    return {"user_id": user.id}


async def photo_id(setup: Setup) -> dict[str, str]:
    """The userphotos id of the shared image: `img_` + the first 16 hex digits of its UUID."""
    return {"photo_id": short_id(setup.resources.image_id)}


async def userimages_image(setup: Setup) -> dict[str, str]:
    """The userimages path of the shared image: its owner is `alice` in the client world (an account otherwise)."""
    return {"userId": "alice", "imageId": setup.resources.image_id}


async def userimages_group(setup: Setup) -> dict[str, str]:
    """An upload group of the owner, at the userimages path of `alice`."""
    return {"userId": "alice", "groupId": (await make_group(setup))["group_id"]}


async def resumable_upload(setup: Setup) -> dict[str, str]:
    """A resumable (tus) upload the owner began: nothing sent yet."""
    response = await setup.http.post(
        "/v2/uploads", headers=setup.world.headers["owner"] | TUS | {"Upload-Length": "1000"}
    )
    assert response.status_code == 201, response.text
    return {"upload_id": response.headers["location"].rpartition("/")[2]}


TUS = {"Tus-Resumable": "1.0.0"}
# An upload is its creator's alone: admins included, everyone else is told it does not exist.
UPLOADER_ONLY = roles(anonymous=401, other_client=404, other_user=404, owner=OK, admin=404)


# --- slink dialect (helpers) ---
SLINK_JWT_OK = roles(anonymous=401, other_client=401, other_user=OK, owner=OK, admin=OK)


def slink_login(ctx: Ctx) -> dict[str, Any]:
    return {"username": ctx.account.username if ctx.account else "nobody", "password": PASSWORD}


def slink_refresh(ctx: Ctx) -> dict[str, Any]:
    return {"refresh_token": ctx.account.refresh_token if ctx.account else "rt_not-a-token"}


def slink_patch(_: Ctx) -> dict[str, Any]:
    return {"description": "changed", "isPublic": False}


async def slink_file(setup: Setup) -> dict[str, str]:
    return {"file": f"{setup.resources.image_id}.jpg"}


async def slink_page(_: Setup) -> dict[str, str]:
    return {"page": "1"}


CASES = [
    Case(
        "POST", "/v2/images", roles(anonymous=401, other_client=OK, other_user=OK, owner=OK, admin=OK), multipart=True
    ),
    Case(
        "POST",
        "/v2/uploads",
        roles(anonymous=401, other_client=OK, other_user=OK, owner=OK, admin=OK),
        headers=TUS | {"Upload-Length": "1000"},
    ),
    *(
        Case(method, "/v2/uploads/{upload_id}", UPLOADER_ONLY, setup=resumable_upload, headers=TUS | extra)
        for method, extra in (
            ("HEAD", {}),
            ("GET", {}),
            ("PATCH", {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}),
            ("DELETE", {}),
        )
    ),
    # An admin may read everything, but /v2/images lists the tenant acted in (accounts); the admin API lists all.
    Case(
        "GET",
        "/v2/images",
        roles(anonymous=401, other_client=UNLISTED, other_user=UNLISTED, owner=LISTED, admin=LISTED),
        client_world={"admin": UNLISTED},
    ),
    Case(
        "GET",
        "/v2/images",
        roles(anonymous=401, other_client=UNLISTED, other_user=LISTED, owner=LISTED, admin=LISTED),
        private=False,
        client_world={"admin": UNLISTED},
        id="GET /v2/images (public image)",
    ),
    Case(
        "GET",
        "/v2/images/{image_id}",
        roles(anonymous=FALLBACK, other_client=FALLBACK, other_user=FALLBACK, owner=OK, admin=OK),
    ),
    Case("GET", "/v2/images/{image_id}", everyone(OK), private=False, id="GET /v2/images/{id} (public)"),
    Case(
        "HEAD",
        "/v2/images/{image_id}",
        roles(anonymous=FALLBACK, other_client=FALLBACK, other_user=FALLBACK, owner=OK, admin=OK),
    ),
    Case(
        "GET",
        "/v2/images/{image_id}",
        roles(anonymous=404, other_client=404, other_user=404, owner=OK, admin=OK),
        query="info=true",
    ),
    Case(
        "GET",
        "/v2/images/{image_id}",
        roles(anonymous=404, other_client=404, other_user=OK, owner=OK, admin=OK),
        private=False,
        query="info=true",
        id="GET /v2/images/{id}?info=true (public)",
    ),
    Case("GET", "/v2/images/{image_id}", everyone(OK), query="token={share_token}", id="GET /v2/images/{id}?token="),
    Case("PATCH", "/v2/images/{image_id}", OWNER_ONLY, body=lambda _: {"description": "changed"}),
    Case(
        "PATCH",
        "/v2/images/{image_id}",
        OWNER_ONLY_PUBLIC,
        private=False,
        body=lambda _: {"description": "x"},
        id="PATCH (public)",
    ),
    Case("DELETE", "/v2/images/{image_id}", OWNER_ONLY),
    Case("DELETE", "/v2/images/{image_id}", OWNER_ONLY_PUBLIC, private=False, id="DELETE (public)"),
    Case("POST", "/v2/images/{image_id}/share", OWNER_ONLY, body=lambda _: {}),
    Case("DELETE", "/v2/images/{image_id}/share/{token}", OWNER_ONLY),
    Case("GET", "/v2/images/share/{share_token}", everyone(OK)),
    Case("HEAD", "/v2/images/share/{share_token}", everyone(OK)),
    Case("GET", "/v2/status", everyone(OK)),
    *[
        case
        for base in ("/v2/auth", "/v2/admin/auth")
        for expect in [ACCOUNT_SELF if base == "/v2/auth" else ADMIN_SELF]
        for case in (
            Case("POST", f"{base}/login", expect, body=own_login, client_world=NON_ACCOUNTS_401),
            Case("POST", f"{base}/refresh", expect, body=own_refresh, client_world=NON_ACCOUNTS_401),
            # Logout is idempotent (like RFC 7009 revocation): an unknown token still gets 204.
            Case("POST", f"{base}/logout", everyone(OK), body=own_refresh),
            Case("GET", f"{base}/me", expect, client_world=NON_ACCOUNTS_401),
            Case("PATCH", f"{base}/me", expect, body=lambda _: {"displayName": "New"}, client_world=NON_ACCOUNTS_401),
            Case("POST", f"{base}/me/change-password", expect, body=new_password, client_world=NON_ACCOUNTS_401),
        )
    ],
    Case("POST", "/v2/images/{image_id}/sign", OWNER_ONLY, body=lambda _: {"w": 10}),
    Case(
        "POST",
        "/v2/images/{image_id}/sign",
        OWNER_ONLY_PUBLIC,
        private=False,
        body=lambda _: {"w": 10},
        id="sign (public)",
    ),
    *[
        case
        for base, key in (("/v2/account/keys", "key_id"), ("/v2/account/upload-keys", "upload_key_id"))
        for case in (
            # Keys belong to the owner account (in the client world, to an account none of the roles holds).
            Case(
                "GET",
                base,
                roles(anonymous=401, other_client=401, other_user=UNLISTED, owner=LISTED, admin=UNLISTED),
                client_world=NON_ACCOUNTS_401,
                subject=key,
            ),
            Case("POST", base, ACCOUNT_SELF, body=lambda _: {"name": "new"}, client_world=NON_ACCOUNTS_401),
            Case(
                "DELETE",
                f"{base}/{{key_id}}",
                roles(anonymous=401, other_client=401, other_user=404, owner=OK, admin=OK),
                client_world=NON_ACCOUNTS_401,
                bind=(("key_id", key),),
            ),
        )
    ],
    Case(
        "GET",
        "/v2/account/upload-keys/{key_id}/sharex",
        roles(anonymous=401, other_client=401, other_user=404, owner=OK, admin=OK),
        client_world=NON_ACCOUNTS_401,
        bind=(("key_id", "upload_key_id"),),
    ),
    Case("POST", "/v2/auth/session", ACCOUNT_SELF, body=own_login, client_world=NON_ACCOUNTS_401),
    Case("GET", "/v2/auth/session", COOKIE_ONLY),
    Case("DELETE", "/v2/auth/session", everyone(OK)),  # signing out without a session just clears the cookie
    Case("POST", "/v2/auth/session/refresh", COOKIE_ONLY),
    # --- albums ---
    # `_album` makes an album of the owner holding the shared image, and a token for it.
    Case(
        "POST",
        "/v2/albums",
        roles(anonymous=401, other_client=OK, other_user=OK, owner=OK, admin=OK),
        body=lambda _: {"name": "n"},
    ),
    Case(
        "GET",
        "/v2/albums",
        roles(anonymous=401, other_client=UNLISTED, other_user=UNLISTED, owner=LISTED, admin=LISTED),
        client_world={"admin": UNLISTED},
        subject="album_id",
        setup=lambda s: _album(s, public=False),
    ),
    Case(
        "GET",
        "/v2/albums",
        roles(anonymous=401, other_client=UNLISTED, other_user=LISTED, owner=LISTED, admin=LISTED),
        client_world={"admin": UNLISTED},
        subject="album_id",
        setup=lambda s: _album(s, public=True),
        id="GET /v2/albums (public album)",
    ),
    Case(
        "GET",
        "/v2/albums/{album_id}",
        roles(anonymous=404, other_client=404, other_user=404, owner=OK, admin=OK),
        setup=lambda s: _album(s, public=False),
    ),
    Case(
        "GET",
        "/v2/albums/{album_id}",
        everyone(OK),
        setup=lambda s: _album(s, public=True),
        id="GET /v2/albums/{id} (public)",
    ),
    Case(
        "GET",
        "/v2/albums/{album_id}",
        everyone(OK),
        query="token={album_token}",
        setup=lambda s: _album(s, public=False),
        id="GET /v2/albums/{id}?token=",
    ),
    Case(
        "PATCH",
        "/v2/albums/{album_id}",
        OWNER_ONLY,
        body=lambda _: {"name": "x"},
        setup=lambda s: _album(s, public=False),
    ),
    Case(
        "PATCH",
        "/v2/albums/{album_id}",
        OWNER_ONLY_PUBLIC,
        body=lambda _: {"name": "x"},
        setup=lambda s: _album(s, public=True),
        id="PATCH /v2/albums/{id} (public)",
    ),
    Case("DELETE", "/v2/albums/{album_id}", OWNER_ONLY, setup=lambda s: _album(s, public=False)),
    Case(
        "DELETE",
        "/v2/albums/{album_id}",
        OWNER_ONLY_PUBLIC,
        setup=lambda s: _album(s, public=True),
        id="DELETE /v2/albums/{id} (public)",
    ),
    *[
        Case(
            method,
            "/v2/albums/{album_id}/images",
            OWNER_ONLY,
            body=lambda ctx: _album_image_ids(ctx),
            setup=lambda s: _album(s, public=False),
        )
        for method in ("POST", "DELETE")
    ],
    Case(
        "GET",
        "/v2/albums/{album_id}/images",
        roles(anonymous=404, other_client=404, other_user=404, owner=LISTED, admin=LISTED),
        setup=lambda s: _album(s, public=False),
    ),
    # A public album shows the private image to its owner (and a token holder) only.
    Case(
        "GET",
        "/v2/albums/{album_id}/images",
        roles(anonymous=UNLISTED, other_client=UNLISTED, other_user=UNLISTED, owner=LISTED, admin=LISTED),
        setup=lambda s: _album(s, public=True),
        id="GET /v2/albums/{id}/images (public album)",
    ),
    Case(
        "GET",
        "/v2/albums/{album_id}/images",
        everyone(LISTED),
        query="token={album_token}",
        setup=lambda s: _album(s, public=True),
        id="GET /v2/albums/{id}/images?token=",
    ),
    Case(
        "POST", "/v2/albums/{album_id}/tokens", OWNER_ONLY, body=lambda _: {}, setup=lambda s: _album(s, public=False)
    ),
    Case(
        "DELETE",
        "/v2/albums/{album_id}/tokens/{token}",
        OWNER_ONLY,
        bind=(("token", "album_token"),),
        setup=lambda s: _album(s, public=False),
    ),
    Case(
        "GET",
        "/v2/images/{image_id}",
        everyone(OK),
        query="token={album_token}",
        setup=lambda s: _album(s, public=False),
        id="GET /v2/images/{id}?token=<album token>",
    ),
    # --- avatars, upload groups, tags, preserveOnDisk ---
    Case(
        "DELETE",
        "/v2/images/{image_id}",
        roles(anonymous=401, other_client=404, other_user=404, owner=403, admin=OK),
        query="preserveOnDisk=true",
        id="DELETE ?preserveOnDisk=true (admins only)",
    ),
    Case(
        "GET",
        "/v2/tags",
        roles(anonymous=401, other_client=UNLISTED, other_user=UNLISTED, owner=UNLISTED, admin=UNLISTED),
    ),
    *[
        Case(method, "/v2/groups/{group_id}", OWNER_ONLY, body=body, setup=make_group)
        for method, body in (("GET", None), ("PATCH", lambda _: {"name": "renamed"}), ("DELETE", None))
    ],
    # Everyone who may upload sets an avatar: each caller sets its own user's (or its tenant's user's).
    Case(
        "POST", "/v2/avatars", roles(anonymous=401, other_client=OK, other_user=OK, owner=OK, admin=OK), multipart=True
    ),
    *[
        # Any caller of the tenant may read its avatars; the admin acts in the accounts tenant (no such avatar there
        # in the client world).
        Case(
            method,
            "/v2/avatars/{external_user_id}",
            roles(anonymous=401, other_client=404, other_user=OK, owner=OK, admin=OK),
            client_world={"admin": 404},
            setup=make_avatar,
        )
        for method in ("GET", "HEAD")
    ],
    *[
        Case(method, "/v2/avatars/{client_id}/{external_user_id}", everyone(OK), setup=make_avatar)
        for method in ("GET", "HEAD")
    ],
    # An X-User-Id that is not the path's user is 403 before any lookup (it reveals nothing: avatars are public).
    Case(
        "DELETE",
        "/v2/avatars/{external_user_id}",
        roles(anonymous=401, other_client=403, other_user=403, owner=OK, admin=OK),
        client_world={"admin": 404, "other_client": 404},
        setup=make_avatar,
    ),
    # --- statistics and the admin API ---
    # Client keys and accounts read their own statistics; upload keys (not a role here) get 403 (test_v2_stats).
    Case("GET", "/v2/client/stats", roles(anonymous=401, other_client=OK, other_user=OK, owner=OK, admin=OK)),
    # Admin routes: admin accounts only; client keys are not accounts (401), other accounts 403.
    Case("GET", "/v2/admin/stats", ADMIN_SELF, client_world=NON_ACCOUNTS_401),
    # Run-time settings answer `{"data": [...]}`, a list without images in it: "unlisted" is the admin's 2xx.
    Case("GET", "/v2/admin/settings", ADMIN_SELF | {"admin": UNLISTED}, client_world=NON_ACCOUNTS_401),
    Case(
        "PATCH",
        "/v2/admin/settings",
        ADMIN_SELF | {"admin": UNLISTED},
        client_world=NON_ACCOUNTS_401,
        body=lambda _: {"signup": None},  # a reset: leaves the settings as the other cases expect them
    ),
    Case(
        "GET",
        "/v2/admin/clients",
        ADMIN_SELF | {"admin": LISTED},
        client_world=NON_ACCOUNTS_401,
        subject="client_id",
        setup=lambda s: _admin_client(s),
    ),
    Case(
        "GET",
        "/v2/admin/clients/{client_id}",
        ADMIN_SELF,
        client_world=NON_ACCOUNTS_401,
        setup=lambda s: _admin_client(s),
    ),
    Case(
        "PATCH",
        "/v2/admin/clients/{client_id}",
        ADMIN_SELF,
        client_world=NON_ACCOUNTS_401,
        body=lambda _: {"name": "renamed", "quotaImages": 10},
        setup=lambda s: _admin_client(s),
    ),
    Case("GET", "/v2/admin/images", ADMIN_SELF | {"admin": LISTED}, client_world=NON_ACCOUNTS_401),
    Case(
        "POST",
        "/v2/admin/images",
        ADMIN_SELF,
        client_world=NON_ACCOUNTS_401,
        multipart=True,
        query="clientId={client_id}",
        setup=lambda s: _admin_client(s),
    ),
    # Tag rows carry no id: a 2xx listing counts as "unlisted" for the shared image.
    Case("GET", "/v2/admin/images/tags", ADMIN_SELF | {"admin": UNLISTED}, client_world=NON_ACCOUNTS_401),
    Case("GET", "/v2/admin/images/{image_id}", ADMIN_SELF, client_world=NON_ACCOUNTS_401),
    Case(
        "PATCH",
        "/v2/admin/images/{image_id}",
        ADMIN_SELF,
        client_world=NON_ACCOUNTS_401,
        body=lambda _: {"description": "by an admin"},
    ),
    Case("DELETE", "/v2/admin/images/{image_id}", ADMIN_SELF, client_world=NON_ACCOUNTS_401),
    # Transform presets (issue 15): admin accounts only.
    Case("GET", "/v2/admin/presets", ADMIN_SELF | {"admin": UNLISTED}, client_world=NON_ACCOUNTS_401),
    Case(
        "POST",
        "/v2/admin/presets",
        ADMIN_SELF,
        client_world=NON_ACCOUNTS_401,
        body=lambda ctx: {"name": f"made-by-{ctx.role}".replace("_", "-"), "query": "w=200"},
    ),
    Case(
        "PATCH",
        "/v2/admin/presets/{name}",
        ADMIN_SELF,
        client_world=NON_ACCOUNTS_401,
        body=lambda _: {"query": "w=240"},
        setup=_managed_preset,
    ),
    Case("DELETE", "/v2/admin/presets/{name}", ADMIN_SELF, client_world=NON_ACCOUNTS_401, setup=_managed_preset),
    # A client's own proxy keys (issue 19): admin accounts only.
    Case(
        "GET",
        "/v2/admin/clients/{client_id}/proxy-keys",
        ADMIN_SELF | {"admin": LISTED},
        client_world=NON_ACCOUNTS_401,
        subject="key_id",
        setup=_client_with_proxy_key,
    ),
    Case(
        "POST",
        "/v2/admin/clients/{client_id}/proxy-keys",
        ADMIN_SELF,
        client_world=NON_ACCOUNTS_401,
        body=lambda _: {"dialect": "imgix"},
        setup=lambda s: _admin_client(s),
    ),
    Case(
        "DELETE",
        "/v2/admin/clients/{client_id}/proxy-keys/{key_id}",
        ADMIN_SELF,
        client_world=NON_ACCOUNTS_401,
        setup=_client_with_proxy_key,
    ),
    # Accounts (issue 22): admin accounts only; each case acts on an account of its own.
    Case(
        "GET",
        "/v2/admin/users",
        ADMIN_SELF | {"admin": LISTED},
        client_world=NON_ACCOUNTS_401,
        subject="user_id",
        setup=_managed_user,
    ),
    *[
        Case(method, "/v2/admin/users/{user_id}", ADMIN_SELF, client_world=NON_ACCOUNTS_401, setup=_managed_user)
        for method in ("GET", "DELETE")
    ],
    Case(
        "PATCH",
        "/v2/admin/users/{user_id}",
        ADMIN_SELF,
        client_world=NON_ACCOUNTS_401,
        body=lambda _: {"quotaImages": 10},
        setup=_managed_user,
    ),
    Case(
        "POST",
        "/v2/admin/users/{user_id}/reset-links",
        ADMIN_SELF,
        client_world=NON_ACCOUNTS_401,
        setup=_managed_user,
    ),
    # Avatars and albums across clients: admin accounts only (the resources are the owner's, in either world).
    Case(
        "GET",
        "/v2/admin/avatars",
        ADMIN_SELF | {"admin": LISTED},
        client_world=NON_ACCOUNTS_401,
        subject="avatar_id",
        setup=avatar_with_id,
    ),
    *[
        Case(method, "/v2/admin/avatars/{avatar_id}", ADMIN_SELF, client_world=NON_ACCOUNTS_401, setup=avatar_with_id)
        for method in ("GET", "DELETE")
    ],
    Case(
        "GET",
        "/v2/admin/albums",
        ADMIN_SELF | {"admin": LISTED},
        client_world=NON_ACCOUNTS_401,
        subject="album_id",
        setup=lambda s: _album(s, public=False),
    ),
    *[
        Case(
            method,
            "/v2/admin/albums/{album_id}",
            ADMIN_SELF,
            client_world=NON_ACCOUNTS_401,
            body=body,
            setup=lambda s: _album(s, public=False),
        )
        for method, body in (("GET", None), ("PATCH", lambda _: {"name": "by an admin"}), ("DELETE", None))
    ],
    # --- userphotos dialect ---
    # Only a client's API key uploads (user_id names the client's external user); account credentials are 401.
    Case(
        "POST",
        "/v1/upload",
        roles(anonymous=401, other_client=OK, other_user=401, owner=401, admin=401),
        multipart=True,
        file_field="image",
        body=lambda _: {"user_id": "12345"},
        client_world={"other_user": OK, "owner": OK},
    ),
    # The CDN URL: public images to anyone; private ones (uploaded through v2) only to who may see them, else 404.
    *[
        case
        for method in ("GET", "HEAD")
        for case in (
            Case(
                method,
                "/{image_id}",
                roles(anonymous=404, other_client=404, other_user=404, owner=OK, admin=OK),
                setup=photo_id,
                bind=(("image_id", "photo_id"),),
                id=f"{method} /img_... (private)",
            ),
            Case(
                method,
                "/{image_id}",
                everyone(OK),
                private=False,
                setup=photo_id,
                bind=(("image_id", "photo_id"),),
                id=f"{method} /img_... (public)",
            ),
        )
    ],
    # --- end userphotos dialect ---
    # --- uploadkey dialect ---
    # Any pinhole credential is read (these rows use bearer tokens and client keys: no cookie, so no CSRF token);
    # the session routes need the cookie itself. Images of others are 404, upload keys aside (contract tests).
    Case("POST", "/uploadkey/api/login", ACCOUNT_SELF, body=own_login, client_world=NON_ACCOUNTS_401),
    Case("GET", "/uploadkey/api/session", COOKIE_ONLY),
    Case("POST", "/uploadkey/api/refresh", COOKIE_ONLY),
    Case("POST", "/uploadkey/api/logout", everyone(OK)),
    Case(
        "POST",
        "/uploadkey/api/upload",
        roles(anonymous=401, other_client=OK, other_user=OK, owner=OK, admin=OK),
        multipart=True,
    ),
    # "Your images": the admin lists its own, not the owner's.
    Case(
        "GET",
        "/uploadkey/api/list",
        roles(anonymous=401, other_client=UNLISTED, other_user=UNLISTED, owner=LISTED, admin=UNLISTED),
    ),
    *[
        case
        for private in (True, False)
        for label in ["" if private else " (public)"]
        for case in (
            Case(
                "DELETE",
                "/uploadkey/api/delete/{uuid}",
                OWNER_ONLY,
                private=private,
                bind=(("uuid", "image_id"),),
                id=f"DELETE /uploadkey/api/delete/{{uuid}}{label}",
            ),
            Case(
                "GET",
                "/uploadkey/api/images/{id}",
                roles(anonymous=401, other_client=404, other_user=404 if private else OK, owner=OK, admin=OK),
                private=private,
                bind=(("id", "image_id"),),
                id=f"GET /uploadkey/api/images/{{id}}{label}",
            ),
            Case(
                "PATCH",
                "/uploadkey/api/images/{id}",
                OWNER_ONLY,
                private=private,
                body=lambda _: {"private": True},
                bind=(("id", "image_id"),),
                id=f"PATCH /uploadkey/api/images/{{id}}{label}",
            ),
        )
    ],
    *[
        case
        for private in (True, False)
        for label in ["" if private else " (public)"]
        for method in ("GET", "HEAD")
        for case in (
            Case(
                method,
                "/uploadkey/api/proxy/{uuid}.{ext}",
                roles(anonymous=401, other_client=404, other_user=404, owner=OK, admin=OK)
                if private
                else roles(anonymous=401, other_client=OK, other_user=OK, owner=OK, admin=OK),
                private=private,
                setup=uploadkey_image,
                id=f"{method} /uploadkey/api/proxy/{{uuid}}.{{ext}}{label}",
            ),
            Case(
                method,
                "/uploadkey/{uuid}.{ext}",
                roles(anonymous=404, other_client=404, other_user=404, owner=OK, admin=OK) if private else everyone(OK),
                private=private,
                setup=uploadkey_image,
                id=f"{method} /uploadkey/{{uuid}}.{{ext}}{label}",
            ),
        )
    ],
    *[
        Case(
            method,
            "/uploadkey/{uuid}.{ext}",
            everyone(OK),
            query="key={image_key}",
            setup=uploadkey_image,
            id=f"{method} /uploadkey/{{uuid}}.{{ext}}?key=",
        )
        for method in ("GET", "HEAD")
    ],
    # --- end uploadkey dialect ---
    # --- userimages dialect ---
    # Only a client's API key (account credentials are 401). The key speaks for every user of its client, so the
    # path's userId decides whose images are acted on: "other_user" (the same client's key with another X-User-Id)
    # acts as alice at alice's path. Other clients see nothing (404); the matrix's admin is an account (401).
    Case(
        "POST",
        "/api/users/user/{userId}/images",
        roles(anonymous=401, other_client=OK, other_user=401, owner=401, admin=401),
        multipart=True,
        setup=userimages_image,
        client_world={"other_user": OK, "owner": OK},
    ),
    Case(
        "GET",
        "/api/users/user/{userId}/images",
        roles(anonymous=401, other_client=OK, other_user=401, owner=401, admin=401),
        setup=userimages_image,
        client_world={"other_user": OK, "owner": OK},
    ),
    *[
        Case(
            method,
            "/api/users/user/{userId}/images/{imageId}",
            roles(anonymous=401, other_client=404, other_user=401, owner=401, admin=401),
            private=private,
            setup=userimages_image,
            client_world={"other_user": OK, "owner": OK},
            id=f"{method} /api/users/user/{{userId}}/images/{{imageId}} ({'private' if private else 'public'})",
        )
        for method in ("GET", "DELETE")
        for private in (True, False)
    ],
    # PUT may only restate url/key: past authorization, a different url is 400 (contract tests cover the 200).
    Case(
        "PUT",
        "/api/users/user/{userId}/images/{imageId}",
        roles(anonymous=401, other_client=404, other_user=401, owner=401, admin=401),
        body=lambda _: {"url": "https://utfs.io/f/new-image.jpg"},
        setup=userimages_image,
        client_world={"other_user": 400, "owner": 400},
    ),
    *[
        Case(
            method,
            "/api/users/user/{userId}/images/group/{groupId}",
            roles(anonymous=401, other_client=404, other_user=401, owner=401, admin=401),
            body=(lambda _: {"name": "renamed"}) if method == "PUT" else None,
            setup=userimages_group,
            client_world={"other_user": OK, "owner": OK},
        )
        for method in ("GET", "PUT", "DELETE")
    ],
    # --- end userimages dialect ---
    # --- slink dialect ---
    # "JWT" routes take account tokens only: client keys (and the client world's owner and users) get 401. Guest
    # uploads are off by default (403 for everyone) and `/api/external/upload` takes `sk_` keys only, which no role
    # of the matrix sends (401 for everyone; the contract tests upload with sk_ keys).
    Case("POST", "/api/auth/login", ACCOUNT_SELF, body=slink_login, client_world=NON_ACCOUNTS_401),
    Case("POST", "/api/auth/refresh", ACCOUNT_SELF, body=slink_refresh, client_world=NON_ACCOUNTS_401),
    Case("POST", "/api/auth/logout", ACCOUNT_SELF, client_world=NON_ACCOUNTS_401),
    *[
        case
        for method in ("POST", "PUT")
        for case in (
            Case(
                method,
                "/api/upload",
                SLINK_JWT_OK,
                multipart=True,
                file_field="image",
                client_world=NON_ACCOUNTS_401,
            ),
            Case(method, "/api/guest/upload", everyone(403), multipart=True, file_field="image"),
            Case(method, "/api/external/upload", everyone(401), multipart=True, file_field="image"),
        )
    ],
    *[
        case
        for private in (True, False)
        for label in ["" if private else " (public)"]
        for method in ("GET", "HEAD")
        for case in (
            Case(
                method,
                "/image/{id}.{ext}",
                roles(anonymous=404, other_client=404, other_user=404, owner=OK, admin=OK) if private else everyone(OK),
                private=private,
                setup=uploadkey_image,
                bind=(("id", "image_id"),),
                id=f"{method} /image/{{id}}.{{ext}}{label}",
            ),
            Case(
                method,
                "/api/image/{file}",
                roles(anonymous=404, other_client=404, other_user=404, owner=OK, admin=OK) if private else everyone(OK),
                private=private,
                setup=slink_file,
                id=f"{method} /api/image/{{file}}{label}",
            ),
        )
    ],
    *[
        case
        for private in (True, False)
        for label in ["" if private else " (public)"]
        for case in (
            Case(
                "GET",
                "/api/image/{id}/detail",
                roles(anonymous=401, other_client=401, other_user=404 if private else OK, owner=OK, admin=OK),
                private=private,
                bind=(("id", "image_id"),),
                client_world=NON_ACCOUNTS_401,
                id=f"GET /api/image/{{id}}/detail{label}",
            ),
            # Public images of the caller's tenant: a private image is listed to nobody; admins list their own tenant.
            Case(
                "GET",
                "/api/images/{page}",
                roles(
                    anonymous=401,
                    other_client=401,
                    other_user=UNLISTED if private else LISTED,
                    owner=UNLISTED if private else LISTED,
                    admin=UNLISTED if private else LISTED,
                ),
                private=private,
                setup=slink_page,
                client_world=NON_ACCOUNTS_401 | {"admin": UNLISTED},
                id=f"GET /api/images/{{page}}{label}",
            ),
            Case(
                "GET",
                "/api/images",
                SLINK_JWT_OK,
                private=private,
                query="uuid[]={image_id}",
                client_world=NON_ACCOUNTS_401,
                id=f"GET /api/images?uuid[]={label}",
            ),
            Case(
                "GET",
                "/api/images/history/{page}",
                roles(anonymous=401, other_client=401, other_user=UNLISTED, owner=LISTED, admin=UNLISTED),
                private=private,
                setup=slink_page,
                client_world=NON_ACCOUNTS_401,
                id=f"GET /api/images/history/{{page}}{label}",
            ),
            *[
                Case(
                    method,
                    "/api/image/{id}",
                    roles(anonymous=401, other_client=401, other_user=404 if private else 403, owner=OK, admin=OK),
                    private=private,
                    body=body,
                    bind=(("id", "image_id"),),
                    client_world=NON_ACCOUNTS_401,
                    id=f"{method} /api/image/{{id}}{label}",
                )
                for method, body in (("PATCH", slink_patch), ("DELETE", None))
            ],
        )
    ],
    # --- end slink dialect ---
]


async def _world(kind: str, runtime: Runtime, tenant: ApiClient, other_tenant: ApiClient, n: int) -> World:
    accounts = {"admin": await make_account(runtime, f"ada{n}", role=Role.ADMIN)}
    if kind == "client":
        headers = {"owner": tenant.headers("alice"), "other_user": tenant.headers("bob")}
    else:
        accounts |= {
            "owner": await make_account(runtime, f"olivia{n}"),
            "other_user": await make_account(runtime, f"oscar{n}"),
        }
        headers = {"owner": accounts["owner"].headers(), "other_user": accounts["other_user"].headers()}
    headers |= {"anonymous": {}, "other_client": other_tenant.headers("alice"), "admin": accounts["admin"].headers()}
    return World(kind, headers, accounts)


async def _resources(http: httpx.AsyncClient, runtime: Runtime, world: World, n: int, *, private: bool) -> Resources:
    response = await http.post(
        "/v2/images",
        headers=world.headers["owner"],
        files={"file": ("m.jpg", make_jpeg(32, 24), "image/jpeg")},
        data={"isPrivate": "true" if private else "false"},
    )
    assert response.status_code == 201, response.text
    image_id = response.json()["id"]
    share = await http.post(f"/v2/images/{image_id}/share", headers=world.headers["owner"])
    assert share.status_code == 201, share.text
    holder = world.accounts.get("owner") or await make_account(runtime, f"kim{n}")
    key = await keys.create_personal_key(runtime.db, user_id=holder.id)
    upload_key = await keys.create_upload_key(runtime.db, secret=runtime.secret, user_id=holder.id)
    return Resources(
        image_id=image_id,
        share_token=share.json()["token"],
        values={"key_id": key.row.id, "upload_key_id": upload_key.row.id},
    )


def _values(res: Resources) -> dict[str, str]:
    return {"image_id": res.image_id, "share_token": res.share_token, "token": res.share_token, **res.values}


def _path(case: Case, res: Resources) -> str:
    values = _values(res)
    values |= {placeholder: values[source] for placeholder, source in case.bind}
    path = case.route.format(**values)
    return f"{path}?{case.query.format(**values)}" if case.query else path


async def _call(http: httpx.AsyncClient, case: Case, path: str, ctx: Ctx) -> httpx.Response:
    headers = ctx.world.headers[ctx.role] | case.headers
    if case.multipart:
        files = {case.file_field: ("n.jpg", make_jpeg(16, 16), "image/jpeg")}
        fields = case.body(ctx) if case.body else None
        return await http.request(case.method, path, headers=headers, files=files, data=fields)
    body = case.body(ctx) if case.body else None
    return await http.request(case.method, path, headers=headers, json=body)


def _outcome(response: httpx.Response, subject: str) -> Outcome:
    if response.status_code >= 300:
        return response.status_code
    if response.headers.get("x-pinhole-fallback") == "1":
        return FALLBACK
    if response.headers.get("content-type", "").startswith("application/json") and response.content:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            ids = {item.get("id") for item in body["data"]}
            return LISTED if subject in ids else UNLISTED
    return OK


@pytest.mark.parametrize("world_kind", ["client", "account"])
@pytest.mark.parametrize("case", CASES, ids=Case.label)
async def test_route_outcomes(
    http: httpx.AsyncClient,
    runtime: Runtime,
    tenant: ApiClient,
    other_tenant: ApiClient,
    case: Case,
    world_kind: str,
) -> None:
    got: dict[str, Outcome] = {}
    shared: tuple[World, Resources] | None = None
    for n, role in enumerate(ROLES):
        # Calls that change state (delete, logout, change-password...) get a fresh world and resources per role.
        if shared is None or case.method not in ("GET", "HEAD"):
            world = await _world(world_kind, runtime, tenant, other_tenant, n)
            res = await _resources(http, runtime, world, n, private=case.private)
            if case.setup is not None:
                res.values |= await case.setup(Setup(http, runtime, world, res, n))
            shared = (world, res)
        world, res = shared
        response = await _call(http, case, _path(case, res), Ctx(world, role))
        got[role] = _outcome(response, _values(res)[case.subject])
    assert got == case.expected(world_kind)


async def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    """Routes are taken from the OpenAPI document (every route is in it; FastAPI includes routers lazily)."""
    operations = {
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in ("get", "head", "post", "put", "patch", "delete")
    }
    assert len(operations) > 10
    assert sorted(operations - {(case.method, case.route) for case in CASES}) == []


# --- albums (helpers) ---
_album_images: dict[int, str] = {}  # the image id an album case's body names, per world


async def _album(s: Setup, *, public: bool) -> dict[str, str]:
    owner = s.world.headers["owner"]
    made = await s.http.post("/v2/albums", headers=owner, json={"name": f"album {s.n}", "isPublic": public})
    assert made.status_code == 201, made.text
    album_id = made.json()["id"]
    added = await s.http.post(f"/v2/albums/{album_id}/images", headers=owner, json={"imageIds": [s.resources.image_id]})
    assert added.status_code == 200, added.text
    token = await s.http.post(f"/v2/albums/{album_id}/tokens", headers=owner, json={})
    assert token.status_code == 201, token.text
    _album_images[id(s.world)] = s.resources.image_id
    return {"album_id": album_id, "album_token": token.json()["token"]}


def _album_image_ids(ctx: Ctx) -> dict[str, Any]:
    return {"imageIds": [_album_images[id(ctx.world)]]}
