"""The policy: its rules, and its SQL form (listings) agreeing with it row by row, on both databases."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from pinhole.db.models import ACCOUNTS_CLIENT_ID, Album, Blob, Client, Image
from pinhole.errors import Forbidden, NotFound, Unauthorized
from pinhole.runtime import Runtime
from pinhole.security.policy import Action, can_see_whole_album, may, readable_filter, require
from pinhole.security.principal import ANONYMOUS, GUEST, Principal, Role, Via


@dataclass(frozen=True)
class Thing:
    client_id: str
    owner_id: str | None
    is_private: bool


@dataclass(frozen=True)
class Key:
    user_id: str


CLIENT_A = Principal(client_id="a", via=Via.CLIENT_KEY, credential_id="a")
ALICE_VIA_A = Principal(client_id="a", user_id="alice", via=Via.CLIENT_KEY, credential_id="a")
BOB_VIA_A = Principal(client_id="a", user_id="bob", via=Via.CLIENT_KEY, credential_id="a")
CLIENT_B = Principal(client_id="b", user_id="alice", via=Via.CLIENT_KEY, credential_id="b")


def account(user: str, via: Via = Via.ACCESS_TOKEN, role: Role = Role.USER) -> Principal:
    return Principal(client_id=ACCOUNTS_CLIENT_ID, user_id=user, account_id=user, role=role, via=via, credential_id="s")


ADMIN = account("root", role=Role.ADMIN)
PRINCIPALS = {
    "anonymous": ANONYMOUS,
    "guest": GUEST,
    "client_a": CLIENT_A,
    "alice_via_a": ALICE_VIA_A,
    "bob_via_a": BOB_VIA_A,
    "client_b": CLIENT_B,
    "carol": account("carol"),
    "carol_sk": account("carol", Via.PERSONAL_KEY),
    "carol_upload": account("carol", Via.UPLOAD_KEY),
    "dave": account("dave"),
    "admin": ADMIN,
}


def test_tenants_are_isolated_except_public_bytes() -> None:
    public = Thing("a", "alice", False)
    private = Thing("a", "alice", True)
    assert may(CLIENT_B, Action.VIEW, public)
    for action in (Action.READ, Action.UPDATE, Action.DELETE, Action.SHARE, Action.TRANSFORM):
        assert not may(CLIENT_B, action, public)
    assert not may(CLIENT_B, Action.VIEW, private)


def test_private_things_are_for_their_owner_or_a_token() -> None:
    private = Thing("a", "alice", True)
    assert may(ALICE_VIA_A, Action.VIEW, private)
    assert not may(BOB_VIA_A, Action.VIEW, private)
    assert not may(BOB_VIA_A, Action.READ, private)
    assert may(ANONYMOUS, Action.VIEW, private, token_grants=True)
    assert may(ANONYMOUS, Action.READ, private, token_grants=True)
    assert not may(ANONYMOUS, Action.UPDATE, private, token_grants=True)


def test_a_client_key_speaks_for_ownerless_things_but_an_account_does_not() -> None:
    tenant_thing = Thing("a", None, True)
    assert may(CLIENT_A, Action.UPDATE, tenant_thing)
    assert may(BOB_VIA_A, Action.UPDATE, tenant_thing)
    guest_upload = Thing(ACCOUNTS_CLIENT_ID, None, False)
    assert not may(account("carol"), Action.UPDATE, guest_upload)
    assert may(account("carol"), Action.READ, guest_upload)
    assert may(ADMIN, Action.DELETE, guest_upload)


def test_credentials_narrow_what_an_account_may_do() -> None:
    mine = Thing(ACCOUNTS_CLIENT_ID, "carol", True)
    assert may(account("carol", Via.PERSONAL_KEY), Action.DELETE, mine)
    assert not may(account("carol", Via.PERSONAL_KEY), Action.MANAGE, Key("carol"))
    assert may(account("carol", Via.UPLOAD_KEY), Action.CREATE)
    for action in (Action.LIST, Action.VIEW, Action.READ, Action.DELETE):
        assert not may(account("carol", Via.UPLOAD_KEY), action, None if action is Action.LIST else mine)


def test_keys_belong_to_their_account() -> None:
    assert may(account("carol"), Action.MANAGE, Key("carol"))
    assert not may(account("dave"), Action.MANAGE, Key("carol"))
    assert not may(CLIENT_A, Action.MANAGE, Key("carol"))
    assert may(ADMIN, Action.MANAGE, Key("carol"))


def test_only_admins_administer() -> None:
    assert may(ADMIN, Action.ADMINISTER)
    for name, principal in PRINCIPALS.items():
        if name != "admin":
            assert not may(principal, Action.ADMINISTER), name


def test_anonymous_callers_create_nothing_but_guests_may() -> None:
    assert not may(ANONYMOUS, Action.CREATE)
    assert not may(ANONYMOUS, Action.LIST)
    assert may(CLIENT_A, Action.CREATE)


def test_require_answers_401_for_anonymous_and_hides_resources_from_others() -> None:
    private = Thing("a", "alice", True)
    with pytest.raises(Unauthorized):
        require(ANONYMOUS, Action.UPDATE, private)
    with pytest.raises(NotFound):
        require(CLIENT_B, Action.UPDATE, private)
    with pytest.raises(Forbidden):
        require(CLIENT_B, Action.UPDATE, private, hide=False)
    with pytest.raises(Forbidden):
        require(CLIENT_A, Action.ADMINISTER)
    require(ALICE_VIA_A, Action.UPDATE, private)


@pytest.mark.anyio
async def test_listing_filter_agrees_with_the_policy_row_by_row(runtime: Runtime) -> None:
    owners = [None, "alice", "bob", "carol", "dave"]
    clients = ["a", "b", ACCOUNTS_CLIENT_ID]
    async with runtime.db.writer() as session:
        for client in clients:
            session.add(Client(id=client, name=client, api_key_hash=f"hash-{client}", api_key_prefix="x"))
        session.add(Blob(content_hash="0" * 64, key="k", size=1))
        await session.flush()
        for client, owner, private in itertools.product(clients, owners, [False, True]):
            session.add(
                Image(
                    client_id=client,
                    owner_id=owner,
                    is_private=private,
                    content_hash="0" * 64,
                    mime_type="image/png",
                    format="png",
                    width=1,
                    height=1,
                    size=1,
                )
            )
    async with runtime.db.reader() as session:
        rows = list(await session.scalars(select(Image)))
        for name, principal in PRINCIPALS.items():
            listed = set(await session.scalars(select(Image.id).where(readable_filter(principal, Image))))
            expected = {row.id for row in rows if may(principal, Action.READ, row)}
            assert listed == expected, name


def test_album_tokens_open_albums_but_change_nothing() -> None:
    private_album = Thing("a", "alice", True)
    assert may(ANONYMOUS, Action.VIEW, private_album, token_grants=True)
    assert can_see_whole_album(ANONYMOUS, private_album, token_grants=True)
    assert can_see_whole_album(ALICE_VIA_A, private_album)
    assert can_see_whole_album(ADMIN, private_album)
    for principal in (BOB_VIA_A, CLIENT_B, ANONYMOUS, account("carol", Via.UPLOAD_KEY)):
        assert not can_see_whole_album(principal, Thing("a", "alice", False))
    for action in (Action.UPDATE, Action.DELETE, Action.SHARE):
        assert not may(ANONYMOUS, action, private_album, token_grants=True)


@pytest.mark.anyio
async def test_album_listing_filter_agrees_with_the_policy_row_by_row(runtime: Runtime) -> None:
    owners = [None, "alice", "bob", "carol", "dave"]
    clients = ["a", "b", ACCOUNTS_CLIENT_ID]
    async with runtime.db.writer() as session:
        for client in clients:
            session.add(Client(id=client, name=client, api_key_hash=f"hash-{client}", api_key_prefix="x"))
        await session.flush()
        for client, owner, public in itertools.product(clients, owners, [False, True]):
            session.add(Album(client_id=client, owner_id=owner, is_public=public, name="n"))
    public_filter = Album.is_public.is_(True)
    async with runtime.db.reader() as session:
        rows = list(await session.scalars(select(Album)))
        for name, principal in PRINCIPALS.items():
            listed = set(
                await session.scalars(select(Album.id).where(readable_filter(principal, Album, public=public_filter)))
            )
            expected = {row.id for row in rows if may(principal, Action.READ, row)}
            assert listed == expected, name
