"""The image pages over httpx: the grid, search, paging, one image's page and every form on it, escaping, CSRF."""

from __future__ import annotations

import html
import json
import re

import httpx
import pytest
from fastapi import FastAPI
from markupsafe import escape

from pinhole.runtime import Runtime
from pinhole.services import images as image_service
from tests.api.accounthelpers import PASSWORD, make_account
from tests.support.images import assert_image, make_jpeg
from tests.web.conftest import ClientFactory
from tests.web.webhelpers import Browser, browser, hidden

pytestmark = pytest.mark.anyio

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def test_v2_upload_accepts_the_browser_session(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload()
    refused = await http.post("/v2/images", files={"file": ("a.jpg", make_jpeg(8, 8), "image/jpeg")})
    assert refused.status_code == 403  # the cookie without X-CSRF-Token
    assert refused.json()["error"]["code"] == "csrf_failed"
    grid = await http.get("/images")
    assert grid.status_code == 200
    assert f'href="/images/{image["id"]}"' in grid.text
    assert f'src="/v2/images/{image["id"]}?w=320&amp;format=webp" loading="lazy"' in grid.text


async def test_thumbnails_are_small_webp(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload(make_jpeg(800, 600), fields={"isPrivate": "true"})
    thumb = await http.get(f"/v2/images/{image['id']}?w=320&format=webp")
    assert thumb.status_code == 200
    assert_image(thumb.content, format="webp", width=320, height=240)


async def test_user_text_is_escaped_everywhere(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload(fields={"description": HOSTILE, "tags": "<b>bold</b>"})
    for path in (f"/images/{image['id']}", "/images", "/images?q=script"):
        page = await http.get(path)
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "<b>bold</b>" not in page.text
        assert "<img src=x" not in page.text
    html = (await http.get(f"/images/{image['id']}")).text
    assert str(escape(HOSTILE)) in html  # the caption, shown as text
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


async def test_search_and_tag_filter_the_grid(signed_in: Browser, http: httpx.AsyncClient) -> None:
    cat = await signed_in.upload(fields={"description": "A sleepy cat", "tags": "animals"})
    dog = await signed_in.upload(fields={"description": "A dog", "tags": "animals,park"})
    tree = await signed_in.upload(fields={"description": "An oak", "tags": "park"})
    by_text = (await http.get("/images?q=CAT")).text
    assert cat["id"] in by_text
    assert dog["id"] not in by_text
    by_tag = (await http.get("/images?tag=Park")).text
    assert (dog["id"] in by_tag, tree["id"] in by_tag, cat["id"] in by_tag) == (True, True, False)
    assert "No images match." in (await http.get("/images?q=nothing-like-it")).text


async def test_paging_over_the_cursor(signed_in: Browser, http: httpx.AsyncClient) -> None:
    ids = [(await signed_in.upload(make_jpeg(16, 16)))["id"] for _ in range(26)]
    first = (await http.get("/images")).text
    assert first.count('name="ids"') == 24
    next_url = html.unescape(first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0])
    second = await http.get(next_url)
    assert second.text.count('name="ids"') == 2
    assert ids[0] in second.text  # oldest last
    assert 'rel="next"' not in second.text
    assert "First page" in second.text
    bad = await http.get("/images?cursor=garbage")
    assert bad.status_code == 400
    assert "cursor is not valid" in bad.text


async def test_image_page_shows_the_facts_and_the_ways_to_paste_it(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload(make_jpeg(1200, 900), fields={"description": "Harbour", "tags": "sea"})
    page = await http.get(f"/images/{image['id']}")
    assert page.status_code == 200
    text = page.text
    url = f"http://testserver/v2/images/{image['id']}"
    assert "1200 \u00d7 900" in text
    assert "JPEG" in text
    assert f'value="{url}"' in text
    assert str(escape(f"![Harbour]({url})")) in text
    assert str(escape(f'<img src="{url}" alt="Harbour">')) in text
    assert f"[img]{url}[/img]" in text
    for size in (160, 320, 640, 1024):
        assert f'<option value="{size}">' in text
    assert '<option value="1600">' not in text  # not wider than the original


async def test_forms_without_the_csrf_token_change_nothing(
    signed_in: Browser, http: httpx.AsyncClient, runtime: Runtime
) -> None:
    image = await signed_in.upload()
    image_id = image["id"]
    posts = {
        f"/images/{image_id}/delete": {},
        f"/images/{image_id}/privacy": {"private": "1"},
        f"/images/{image_id}/details": {"description": "changed", "tags": "x"},
        f"/images/{image_id}/shares": {"expires": ""},
        "/images/bulk": {"ids": image_id, "action": "delete"},
        "/account/keys": {"name": "k"},
        "/account/upload-keys": {"name": "k"},
        "/account/password": {"current": PASSWORD, "new": "another long passphrase", "new2": "another long passphrase"},
    }
    for path, data in posts.items():
        for token in (None, "forged"):
            form = data | ({"csrf": token} if token else {})
            response = await http.post(path, data=form)
            assert response.status_code == 403, path
            assert "csrf_failed" in response.text
    stored = await image_service.find_image(db=runtime.db, image_id=image_id)
    assert stored is not None
    assert (stored.is_private, stored.description, stored.tag_names) == (False, None, [])


async def test_edit_description_and_tags(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload(fields={"description": "old", "tags": "a"})
    path = f"/images/{image['id']}"
    response = await signed_in.post_form(f"{path}/details", {"description": "New words", "tags": "Sea, sky ,sea"})
    assert (response.status_code, response.headers["location"]) == (303, f"{path}")
    page = (await http.get(response.headers["location"])).text
    assert "Saved." in page
    assert "New words</textarea>" in page
    assert 'value="sea, sky"' in page
    cleared = await signed_in.post_form(f"{path}/details", {"description": "", "tags": ""})
    assert cleared.status_code == 303
    info = (await http.get(f"/v2/images/{image['id']}?info=true")).json()
    assert (info["description"], info["tags"]) == (None, [])
    too_long = await signed_in.post_form(f"{path}/details", {"description": "x" * 2001, "tags": ""})
    assert too_long.status_code == 400
    assert "at most 2000 characters" in too_long.text


async def test_privacy_share_links_and_delete(
    signed_in: Browser, http: httpx.AsyncClient, new_client: ClientFactory
) -> None:
    image = await signed_in.upload()
    path = f"/images/{image['id']}"
    stranger = await new_client()
    private = await signed_in.post_form(f"{path}/privacy", {"private": "1"})
    assert private.headers["location"] == f"{path}"
    assert (await stranger.get(f"/v2/images/{image['id']}")).headers.get("x-pinhole-fallback") == "1"

    created = await signed_in.post_form(f"{path}/shares", {"expires": "1d"})
    assert created.status_code == 201
    assert "shown only once" in created.text
    share_url = hidden_value(created.text, "new-share")
    shared = await stranger.get(share_url.removeprefix("http://testserver"))
    assert shared.status_code == 200
    assert "x-pinhole-fallback" not in shared.headers
    assert "expires " in created.text

    link = hidden(created.text, "link")
    revoked = await signed_in.post_form(f"{path}/shares/revoke", {"link": link})
    assert revoked.headers["location"] == f"{path}"
    assert (await stranger.get(share_url.removeprefix("http://testserver"))).headers["x-pinhole-fallback"] == "1"
    again = await signed_in.post_form(f"{path}/shares/revoke", {"link": "not-a-link"})
    assert again.status_code == 404
    bad_expiry = await signed_in.post_form(f"{path}/shares", {"expires": "forever"})
    assert bad_expiry.status_code == 400

    public = await signed_in.post_form(f"{path}/privacy", {"private": "0"})
    assert public.headers["location"] == f"{path}"
    assert "x-pinhole-fallback" not in (await stranger.get(f"/v2/images/{image['id']}")).headers

    deleted = await signed_in.post_form(f"{path}/delete")
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/images")
    assert (await http.get(path)).status_code == 404


def hidden_value(page: str, element_id: str) -> str:
    return html.unescape(page.split(f'id="{element_id}" readonly value="', 1)[1].split('"', 1)[0])


async def test_another_accounts_images(signed_in: Browser, runtime: Runtime, new_client: ClientFactory) -> None:
    public = await signed_in.upload()
    private = await signed_in.upload(fields={"isPrivate": "true"})
    await make_account(runtime, "bob")
    bob = await browser(await new_client(), "bob", PASSWORD)
    hidden_page = await bob.http.get(f"/images/{private['id']}")
    assert hidden_page.status_code == 404
    assert "Image not found." in hidden_page.text
    # The accounts tenant may read public images' details, as the API allows; only the owner gets the controls.
    seen = await bob.http.get(f"/images/{public['id']}")
    assert seen.status_code == 200
    assert "Delete image" not in seen.text
    assert (await bob.post_form(f"/images/{public['id']}/delete")).status_code == 403
    assert (await bob.post_form(f"/images/{private['id']}/privacy", {"private": "0"})).status_code == 404
    assert (await bob.post_form(f"/images/{public['id']}/shares", {"expires": ""})).status_code == 403
    grid = (await bob.http.get("/images")).text
    assert public["id"] not in grid
    assert "No images yet." in grid
    bobs = await bob.upload()
    refused = await bob.post_form("/images/bulk", {"ids": [bobs["id"], private["id"]], "action": "delete"})
    assert refused.status_code == 404
    tag_both = {"ids": [bobs["id"], public["id"]], "action": "tag", "tags": "x"}
    assert (await bob.post_form("/images/bulk", tag_both)).status_code == 403
    assert (await bob.http.get(f"/v2/images/{bobs['id']}?info=true")).json()["tags"] == []  # all or nothing
    assert (await signed_in.http.get(f"/images/{private['id']}")).status_code == 200


async def test_bulk_tag_and_delete(signed_in: Browser, http: httpx.AsyncClient) -> None:
    one = await signed_in.upload(fields={"tags": "old"})
    two = await signed_in.upload()
    keep = await signed_in.upload()
    tagged = await signed_in.post_form(
        "/images/bulk", {"ids": [one["id"], two["id"]], "action": "tag", "tags": "Trip, 2026"}
    )
    assert tagged.headers["location"] == "/images"
    info = (await http.get(f"/v2/images/{one['id']}?info=true")).json()
    assert info["tags"] == ["2026", "old", "trip"]
    assert (await signed_in.post_form("/images/bulk", {"ids": one["id"], "action": "tag"})).status_code == 400
    assert (await signed_in.post_form("/images/bulk", {"action": "delete"})).status_code == 400
    assert (await signed_in.post_form("/images/bulk", {"ids": one["id"], "action": "burn"})).status_code == 400
    deleted = await signed_in.post_form("/images/bulk", {"ids": [one["id"], two["id"]], "action": "delete"})
    assert deleted.headers["location"] == "/images"
    grid = (await http.get("/images")).text
    assert "Moved 2 images to the trash (kept 7 days)." in grid
    assert 'id="undo"' in grid
    tiles = tuple(f'href="/images/{image["id"]}"' in grid for image in (one, two, keep))
    assert tiles == (False, False, True)


async def test_upload_page(signed_in: Browser, http: httpx.AsyncClient) -> None:
    page = await http.get("/upload")
    assert page.status_code == 200
    assert 'data-upload-url="/v2/images"' in page.text
    assert f'data-csrf="{signed_in.csrf}"' in page.text
    assert 'type="file"' in page.text
    assert "multiple" in page.text


@pytest.mark.parametrize("settings_overrides", [{"accounts": {"guest_uploads": True}}])
async def test_guest_upload_page_when_guest_uploads_are_on(http: httpx.AsyncClient) -> None:
    page = await http.get("/upload")
    assert page.status_code == 200
    assert "Upload as a guest" in page.text
    assert 'data-csrf=""' in page.text
    assert "upload as a guest" in (await http.get("/login")).text


async def test_static_files_and_unknown_ones(http: httpx.AsyncClient) -> None:
    page = (await http.get("/login")).text
    css_url = page.split('rel="stylesheet" href="', 1)[1].split('"', 1)[0]
    css = await http.get(css_url)
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    assert "prefers-color-scheme: dark" in css.text
    js = await http.get("/static/upload.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert js.headers["cache-control"] == "no-cache"
    for name in ("nope.js", "..%2Fapp.py", "__init__.py"):
        assert (await http.get(f"/static/{name}")).status_code == 404


@pytest.mark.parametrize("settings_overrides", [{"web": {"enabled": False}}])
async def test_the_web_app_can_be_turned_off(http: httpx.AsyncClient) -> None:
    assert (await http.get("/login")).status_code == 404
    assert (await http.get("/v2/status")).status_code == 200


def _signed_choices(page: str) -> dict[str, str]:
    found = re.search(r'data-signed="([^"]*)"', page)
    assert found is not None
    raw = html.unescape(found.group(1))
    return json.loads(raw) if raw else {}


async def test_without_signing_the_picker_builds_plain_urls(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload(make_jpeg(800, 600))
    assert _signed_choices((await http.get(f"/images/{image['id']}")).text) == {}


@pytest.mark.parametrize("settings_overrides", [{"signing": {"mode": "anonymous"}}])
async def test_with_signing_the_picker_offers_signed_urls_that_work_for_strangers(
    signed_in: Browser, http: httpx.AsyncClient, app: FastAPI
) -> None:
    image = await signed_in.upload(make_jpeg(800, 600))
    choices = _signed_choices((await http.get(f"/images/{image['id']}")).text)
    assert "640|webp" in choices
    assert "|" not in choices  # the original needs no signature
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as stranger:
        signed = await stranger.get(f"/v2/images/{image['id']}{choices['640|webp']}")
        assert signed.status_code == 200, signed.text
        assert_image(signed.content, format="webp", width=640, height=480)
        unsigned = await stranger.get(f"/v2/images/{image['id']}?w=640&format=webp")
        assert unsigned.status_code == 403
