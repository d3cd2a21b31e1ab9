"""The authorization matrix: every route of every API, driven by anonymous, another client, another user of the
same client, the owner and an admin, with the exact outcome each must get.

Two worlds own the resources: a client's external user (X-API-Key + X-User-Id) and a user account (JWT).
`test_every_route_is_in_the_matrix` fails when a route is added without rows here, so new routes get decided.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.services import keys
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
class Case:
    method: str
    route: str  # the route's path template, as FastAPI has it
    expect: dict[str, Outcome]
    private: bool = True
    query: str = ""
    body: Callable[[Ctx], dict[str, Any] | None] | None = None
    multipart: bool = False
    id: str = ""
    client_world: dict[str, Outcome] | None = None  # where the client world differs
    subject: str = "image_id"  # the resource a listing is checked for
    bind: tuple[tuple[str, str], ...] = ()  # path placeholders filled from another resource value

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


# Self routes: what an account does to itself. Client keys have no account, so they get 401 like anonymous callers.
NON_ACCOUNTS_401 = {"other_user": 401, "owner": 401}
ACCOUNT_SELF = roles(anonymous=401, other_client=401, other_user=OK, owner=OK, admin=OK)
ADMIN_SELF = roles(anonymous=401, other_client=401, other_user=403, owner=403, admin=OK)
COOKIE_ONLY = everyone(401)  # bearer credentials do not open browser-session routes (tested with cookies elsewhere)

OWNER_ONLY = roles(anonymous=401, other_client=404, other_user=404, owner=OK, admin=OK)
OWNER_ONLY_PUBLIC = roles(anonymous=401, other_client=404, other_user=403, owner=OK, admin=OK)

CASES = [
    Case(
        "POST", "/v2/images", roles(anonymous=401, other_client=OK, other_user=OK, owner=OK, admin=OK), multipart=True
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
    headers = ctx.world.headers[ctx.role]
    if case.multipart:
        files = {"file": ("n.jpg", make_jpeg(16, 16), "image/jpeg")}
        return await http.request(case.method, path, headers=headers, files=files)
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
            shared = (world, await _resources(http, runtime, world, n, private=case.private))
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
