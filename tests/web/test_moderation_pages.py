"""Issue 22's moderation and small things over httpx: notices in a signed cookie that show once, the trash (gone from
the APIs at once, quotas freed, restore, files kept until the sweep empties it), admin password reset links, user
quotas typed as "5 GB", per-user storage, deleting an account with a confirmation that counts, the size filter."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from pinhole.db.models import PasswordReset, TrashedImage, utcnow
from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.security.secrets import hash_token
from pinhole.services import images as image_rows
from pinhole.services import trash
from pinhole.services import users as user_service
from pinhole.storage.keys import original_key
from pinhole.web.flash import FLASH_COOKIE
from tests.api.accounthelpers import PASSWORD, Account, make_account
from tests.support.images import make_jpeg
from tests.web.conftest import ClientFactory
from tests.web.webhelpers import Browser, browser, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
async def admin(runtime: Runtime, new_client: ClientFactory) -> Browser:
    await make_account(runtime, "root", role=Role.ADMIN)
    return await browser(await new_client(), "root", PASSWORD)


async def test_a_notice_shows_once_and_never_from_the_address(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload()
    saved = await signed_in.post_form(f"/images/{image['id']}/details", {"description": "a", "tags": ""})
    assert (saved.status_code, saved.headers["location"]) == (303, f"/images/{image['id']}")  # no ?done=
    assert FLASH_COOKIE in saved.cookies
    assert "<span>Saved.</span>" in (await http.get(saved.headers["location"])).text
    assert "<span>Saved.</span>" not in (await http.get(saved.headers["location"])).text  # a reload: gone
    # A notice planted in the cookie without the server's signature is ignored.
    http.cookies.set(FLASH_COOKIE, "eyJ0IjoiaGFja2VkIiwidSI6W10sImUiOjk5OTk5OTk5OTl9.forged")
    assert "hacked" not in (await http.get("/images")).text


async def test_trash_hides_at_once_frees_quota_restores_and_keeps_files_until_emptied(
    runtime: Runtime, alice: Account, signed_in: Browser, http: httpx.AsyncClient, new_client: ClientFactory
) -> None:
    await user_service.set_quota(runtime.db, alice.id, quota_bytes=None, quota_images=1)
    first = await signed_in.upload(make_jpeg(80, 60))
    found = await image_rows.find_image(db=runtime.db, image_id=first["id"])
    assert found is not None
    key = original_key(found.content_hash)
    deleted = await signed_in.post_form(f"/images/{first['id']}/delete")
    assert deleted.headers["location"] == "/images"
    page = (await http.get("/images")).text
    assert "Moved 1 image to the trash (kept 7 days)." in page
    assert f'name="ids" value="{first["id"]}"' in page  # the Undo form
    stranger = await new_client()
    assert (await http.get(f"/v2/images/{first['id']}?info=true")).status_code == 404  # gone for the owner too
    assert (await stranger.get(f"/v2/images/{first['id']}")).headers.get("X-Pinhole-Fallback") == "1"
    assert await runtime.store.stat(key) is not None  # the file stays while the trash holds it
    second = await signed_in.upload(make_jpeg(70, 50, seed=3))  # the quota of one image counts the trash out

    refused = await signed_in.post_form("/trash/restore", {"ids": first["id"]})
    assert refused.status_code == 403  # restoring would pass the quota
    assert "quota" in refused.text.lower()
    await signed_in.post_form(f"/images/{second['id']}/delete")
    trash_page = (await http.get("/trash")).text
    assert f'id="trashed-{first["id"]}"' in trash_page
    assert f'id="trashed-{second["id"]}"' in trash_page
    restored = await signed_in.post_form("/trash/restore", {"ids": first["id"]})
    assert (restored.status_code, restored.headers["location"]) == (303, f"/images/{first['id']}")
    assert (await http.get(f"/v2/images/{first['id']}?info=true")).status_code == 200
    assert "Restored 1 image." in (await http.get(restored.headers["location"])).text
    # Someone else cannot restore or empty it.
    await signed_in.post_form(f"/images/{first['id']}/delete")
    bob = await browser(await new_client(), (await make_account(runtime, "bob")).username, PASSWORD)
    assert (await bob.post_form("/trash/restore", {"ids": first["id"]})).status_code == 404
    assert f"trashed-{first['id']}" not in (await bob.http.get("/trash")).text

    emptied, _ = await trash.purge_expired(db=runtime.db, store=runtime.store, now=utcnow() + timedelta(days=8))
    assert emptied == 2
    assert await runtime.store.stat(key) is None  # the sweep's purge released the file
    assert (await signed_in.post_form("/trash/restore", {"ids": first["id"]})).status_code == 404


async def test_trash_restores_tags_and_albums(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload(fields={"tags": "sea, dog"})
    made = await signed_in.post_form("/albums", {"name": "Beach"})
    album_id = made.headers["location"].rsplit("/", 1)[1]
    await signed_in.post_form(f"/images/{image['id']}/albums", {"album": album_id, "action": "add"})
    await signed_in.post_form("/images/bulk", {"ids": image["id"], "action": "delete"})
    assert f'href="/images/{image["id"]}"' not in (await http.get(f"/albums/{album_id}")).text
    await signed_in.post_form("/trash/restore", {"ids": image["id"]})
    info = (await http.get(f"/v2/images/{image['id']}?info=true")).json()
    assert info["tags"] == ["dog", "sea"]
    assert f'value="{image["id"]}"' in (await http.get(f"/albums/{album_id}")).text


async def test_reset_link_is_one_time_expiring_and_hashed(
    runtime: Runtime, admin: Browser, alice: Account, new_client: ClientFactory
) -> None:
    made = await admin.post_form(f"/admin/users/{alice.id}/reset-link")
    assert made.status_code == 201
    link = re.search(r'id="reset-link" value="([^"]+)"', made.text)
    assert link is not None
    token = link[1].rsplit("/reset/", 1)[1]
    async with runtime.db.reader() as session:
        stored = list(await session.scalars(select(PasswordReset.token_hash)))
    assert stored == [hash_token(token)]  # only the hash is kept
    assert token not in (await admin.http.get("/admin/users")).text  # shown once

    owner = await new_client()
    page = await owner.get(f"/reset/{token}")
    assert page.status_code == 200
    assert "alice" in page.text
    differ = await owner.post(f"/reset/{token}", data={"password": "new long passphrase", "password2": "other"})
    assert differ.status_code == 400
    weak = await owner.post(f"/reset/{token}", data={"password": "short", "password2": "short"})
    assert weak.status_code == 400
    done = await owner.post(
        f"/reset/{token}", data={"password": "new long passphrase", "password2": "new long passphrase"}
    )
    assert (done.status_code, done.headers["location"]) == (303, "/login")
    assert "Your new password is set." in (await owner.get("/login")).text
    assert (await sign_in(owner, "alice", "new long passphrase")).status_code == 303
    assert (await sign_in(await new_client(), "alice", PASSWORD)).status_code == 401
    again = await owner.post(
        f"/reset/{token}", data={"password": "another passphrase!", "password2": "another passphrase!"}
    )
    assert again.status_code == 404  # one time
    assert (await owner.get("/reset/pr_unknown")).status_code == 404

    expired = await admin.post_form(f"/admin/users/{alice.id}/reset-link")
    old = re.search(r"/reset/(pr_[A-Za-z0-9_-]+)", expired.text)
    assert old is not None
    newer = await admin.post_form(f"/admin/users/{alice.id}/reset-link")  # voids the older link
    assert (await owner.get(f"/reset/{old[1]}")).status_code == 404
    fresh = re.search(r"/reset/(pr_[A-Za-z0-9_-]+)", newer.text)
    assert fresh is not None
    async with runtime.db.writer() as session:
        row = await session.get(PasswordReset, hash_token(fresh[1]))
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    assert (await owner.get(f"/reset/{fresh[1]}")).status_code == 404


async def test_user_quota_as_5_gb_and_storage_column(
    runtime: Runtime, admin: Browser, alice: Account, signed_in: Browser
) -> None:
    image = await signed_in.upload(make_jpeg(120, 90))
    saved = await admin.post_form(f"/admin/users/{alice.id}/quota", {"quota_bytes": "5 GB", "quota_images": "40"})
    assert saved.headers["location"] == "/admin/users"
    user = await user_service.get_user(runtime.db, alice.id)
    assert user is not None
    assert (user.quota_bytes, user.quota_images) == (5 * 1024**3, 40)
    page = (await admin.http.get("/admin/users")).text
    assert f'id="quota-bytes-{alice.id}" name="quota_bytes"' in page
    assert 'value="5 GB"' in page
    row = page.split(f'id="user-{alice.id}"', 1)[1].split("</tr>", 1)[0]
    assert f"{image['size'] / 1024:.1f} KB" in row
    assert "1 image<" in row
    bad = await admin.post_form(f"/admin/users/{alice.id}/quota", {"quota_bytes": "5 XB"})
    assert bad.status_code == 400
    assert "5 GB or 500 MB" in bad.text
    cleared = await admin.post_form(f"/admin/users/{alice.id}/quota", {"quota_bytes": "", "quota_images": ""})
    assert cleared.status_code == 303
    user = await user_service.get_user(runtime.db, alice.id)
    assert user is not None
    assert (user.quota_bytes, user.quota_images) == (None, None)


async def test_delete_user_says_how_many_then_deletes_everything(
    runtime: Runtime, admin: Browser, alice: Account, signed_in: Browser, new_client: ClientFactory
) -> None:
    images = [await signed_in.upload(make_jpeg(60 + n, 40)) for n in range(3)]
    await signed_in.post_form(f"/images/{images[2]['id']}/delete")  # one in the trash
    total = sum(image["size"] for image in images[:2])
    confirm = await admin.http.get(f"/admin/users/{alice.id}/delete")
    assert confirm.status_code == 200
    assert f"2 images ({total / 1024:.1f} KB)" in confirm.text
    assert "1 in its trash" in confirm.text
    suspend = await admin.http.get(f"/admin/users/{alice.id}/suspend")
    assert "the 2 public ones" in suspend.text
    assert "stay online" in suspend.text
    me = await user_service.find_user(runtime.db, "root")
    assert me is not None
    assert (await admin.http.get(f"/admin/users/{me.id}/delete")).status_code == 400  # not oneself
    assert (await signed_in.post_form(f"/admin/users/{alice.id}/delete")).status_code == 403  # admins only

    gone = await admin.post_form(f"/admin/users/{alice.id}/delete")
    assert gone.headers["location"] == "/admin/users"
    assert "Deleted the account alice and its 2 images" in (await admin.http.get("/admin/users")).text
    assert await user_service.get_user(runtime.db, alice.id) is None
    stranger = await new_client()
    for image in images:
        assert (await stranger.get(f"/v2/images/{image['id']}")).headers.get("X-Pinhole-Fallback") == "1"
    async with runtime.db.reader() as session:
        assert list(await session.scalars(select(TrashedImage.id))) == []  # its trash emptied too


async def test_moderation_size_filter(admin: Browser, signed_in: Browser) -> None:
    small = await signed_in.upload(make_jpeg(40, 30))
    large = await signed_in.upload(make_jpeg(900, 700))
    limit = f"{(small['size'] + large['size']) // 2} bytes"
    page = (await admin.http.get("/admin/images", params={"min": limit})).text
    assert f'value="{large["id"]}"' in page
    assert f'value="{small["id"]}"' not in page
    page = (await admin.http.get("/admin/images", params={"max": limit})).text
    assert f'value="{small["id"]}"' in page
    assert f'value="{large["id"]}"' not in page
    assert (await admin.http.get("/admin/images", params={"min": "huge"})).status_code == 400
