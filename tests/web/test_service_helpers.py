"""The small service helpers the web app added: listing and revoking share links by id, and `inactive_status`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from pinhole.api.credentials import account_principal
from pinhole.db.models import ShareLink, utcnow
from pinhole.errors import ImageNotFound, NotFound
from pinhole.runtime import Runtime
from pinhole.security.principal import Principal, Via
from pinhole.services import shares, users
from pinhole.services.users import Status
from tests.api.accounthelpers import PASSWORD, make_account
from tests.web.webhelpers import Browser

pytestmark = pytest.mark.anyio


async def _principal(runtime: Runtime, username: str) -> Principal:
    user = await users.find_user(runtime.db, username)
    if user is None:
        await make_account(runtime, username)
        user = await users.find_user(runtime.db, username)
    assert user is not None
    return account_principal(user, via=Via.SESSION, credential_id="test")


async def test_list_shares_gives_live_links_to_the_owner_only(signed_in: Browser, runtime: Runtime) -> None:
    image = await signed_in.upload()
    owner = await _principal(runtime, "alice")
    kept = await shares.create_share(db=runtime.db, principal=owner, image_id=image["id"])
    expiring = await shares.create_share(db=runtime.db, principal=owner, image_id=image["id"], expires_in=timedelta(1))
    revoked = await shares.create_share(db=runtime.db, principal=owner, image_id=image["id"])
    await shares.revoke_share(db=runtime.db, principal=owner, image_id=image["id"], token=revoked.token)
    async with runtime.db.writer() as session:
        await session.execute(
            update(ShareLink)
            .where(ShareLink.token_hash == expiring.link.token_hash)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    listed = await shares.list_shares(db=runtime.db, principal=owner, image_id=image["id"])
    assert [link.token_hash for link in listed] == [kept.link.token_hash]
    bob = await _principal(runtime, "bob")
    with pytest.raises(ImageNotFound):
        await shares.list_shares(db=runtime.db, principal=bob, image_id=image["id"])
    with pytest.raises(NotFound):
        await shares.revoke_share_link(db=runtime.db, principal=bob, image_id=image["id"], link_id=kept.link.token_hash)
    other = await signed_in.upload()
    with pytest.raises(NotFound):  # the link belongs to another image
        await shares.revoke_share_link(
            db=runtime.db, principal=owner, image_id=other["id"], link_id=kept.link.token_hash
        )
    await shares.revoke_share_link(db=runtime.db, principal=owner, image_id=image["id"], link_id=kept.link.token_hash)
    assert await shares.resolve_share(db=runtime.db, token=kept.token) is None


async def test_inactive_status_needs_the_password(runtime: Runtime) -> None:
    account = await make_account(runtime, "carol")
    assert await users.inactive_status(runtime.accounts, login="carol", password=PASSWORD) is None
    await users.set_status(runtime.db, account.id, Status.SUSPENDED)
    assert await users.inactive_status(runtime.accounts, login="CAROL", password=PASSWORD) is Status.SUSPENDED
    assert await users.inactive_status(runtime.accounts, login="carol", password="wrong password") is None
    assert await users.inactive_status(runtime.accounts, login="nobody", password=PASSWORD) is None
