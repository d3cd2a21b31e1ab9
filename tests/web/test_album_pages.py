"""The album pages over httpx: my albums, one album and every form on it, adding images from the image page and the
bulk form, album links for signed-out visitors, public albums, other accounts, CSRF and escaping."""

from __future__ import annotations

import re

import httpx
import pytest
from markupsafe import escape

from pinhole.runtime import Runtime
from pinhole.services import album_tokens
from tests.api.accounthelpers import PASSWORD, make_account
from tests.web.conftest import ClientFactory
from tests.web.test_image_pages import HOSTILE, hidden_value
from tests.web.webhelpers import Browser, browser

pytestmark = pytest.mark.anyio


async def make_album(owner: Browser, name: str = "Trip", **fields: str) -> str:
    response = await owner.post_form("/albums", {"name": name, **fields})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/albums/([0-9a-f-]{36})", response.headers["location"])
    assert match is not None, response.headers["location"]
    return match[1]


async def test_albums_need_a_session(http: httpx.AsyncClient) -> None:
    response = await http.get("/albums")
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/albums")
    refused = await http.post("/albums", data={"name": "x"})
    assert refused.status_code == 303  # to the sign-in page
    assert refused.headers["location"].startswith("/login")


async def test_create_list_rename_and_delete(signed_in: Browser, http: httpx.AsyncClient) -> None:
    empty = await http.get("/albums")
    assert empty.status_code == 200
    assert "No albums yet." in empty.text
    album_id = await make_album(signed_in, "Summer", description="Sea and sun")
    page = await http.get(f"/albums/{album_id}")
    assert page.status_code == 200
    assert "Album created." in page.text
    assert "Sea and sun" in page.text
    assert 'id="album-visibility">private<' in page.text
    listed = (await http.get("/albums")).text
    assert f'href="/albums/{album_id}"' in listed
    assert "0 images" in listed

    form = {"name": "Autumn", "description": "", "public": "1"}
    saved = await signed_in.post_form(f"/albums/{album_id}/details", form)
    assert (saved.status_code, saved.headers["location"]) == (303, f"/albums/{album_id}")
    html = (await http.get(saved.headers["location"])).text
    assert "Saved." in html
    assert 'id="album-name-heading">Autumn<' in html
    assert 'id="album-visibility">public<' in html
    assert 'id="album-description-text"' not in html

    private = await signed_in.post_form(f"/albums/{album_id}/details", {"name": "Autumn"})
    assert private.status_code == 303
    assert 'id="album-visibility">private<' in (await http.get(f"/albums/{album_id}")).text

    deleted = await signed_in.post_form(f"/albums/{album_id}/delete")
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/albums")
    assert "its images are kept" in (await http.get("/albums")).text
    assert (await http.get(f"/albums/{album_id}")).status_code == 404
    assert (await signed_in.post_form(f"/albums/{album_id}/delete")).status_code == 404


async def test_album_fields_are_validated(signed_in: Browser, http: httpx.AsyncClient) -> None:
    for form, message in (
        ({"name": "  "}, "Give the album a name."),
        ({"name": "x" * 201}, "at most 200 characters"),
        ({"name": "ok", "description": "d" * 2001}, "at most 2000 characters"),
    ):
        response = await signed_in.post_form("/albums", form)
        assert response.status_code == 400, form
        assert message in response.text
    assert "No albums yet." in (await http.get("/albums")).text  # nothing half made
    album_id = await make_album(signed_in, "Kept")
    bad = await signed_in.post_form(f"/albums/{album_id}/details", {"name": ""})
    assert bad.status_code == 400
    assert "Give the album a name." in bad.text
    assert 'id="album-name-heading">Kept<' in (await http.get(f"/albums/{album_id}")).text


async def test_add_and_remove_from_the_image_page(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload()
    image_path = f"/images/{image['id']}"
    assert "Make an album" in (await http.get(image_path)).text
    album_id = await make_album(signed_in, "Beach")
    page = (await http.get(image_path)).text
    assert f'<option value="{album_id}">Beach</option>' in page
    added = await signed_in.post_form(f"{image_path}/albums", {"album": album_id, "action": "add"})
    assert (added.status_code, added.headers["location"]) == (303, f"/albums/{album_id}")  # lands on the album
    assert "Added to the album." in (await http.get(added.headers["location"])).text
    assert f'<a href="/albums/{album_id}">Beach</a>' in (await http.get(image_path)).text
    album_page = (await http.get(f"/albums/{album_id}")).text
    assert f'value="{image["id"]}"' in album_page
    assert "1 image<" in album_page

    removed = await signed_in.post_form(f"{image_path}/albums", {"album": album_id, "action": "remove"})
    assert removed.headers["location"] == f"{image_path}"
    assert image["id"] not in (await http.get(f"/albums/{album_id}")).text
    for form in ({"album": album_id, "action": "move"}, {"album": "", "action": "add"}):
        assert (await signed_in.post_form(f"{image_path}/albums", form)).status_code == 400
    missing = await signed_in.post_form(f"{image_path}/albums", {"album": "nope", "action": "add"})
    assert missing.status_code == 404


async def test_bulk_add_filter_and_remove(signed_in: Browser, http: httpx.AsyncClient) -> None:
    first, second, third = [await signed_in.upload() for _ in range(3)]
    album_id = await make_album(signed_in, "Picks")
    grid = (await http.get("/images")).text
    assert 'id="bulk-add-album"' in grid
    added = await signed_in.post_form(
        "/images/bulk", {"ids": [first["id"], second["id"]], "action": "album", "album": album_id}
    )
    assert (added.status_code, added.headers["location"]) == (303, f"/albums/{album_id}")
    album_page = (await http.get(added.headers["location"])).text  # the album itself, where the images went
    assert "Added to the album." in album_page
    assert (first["id"] in album_page, second["id"] in album_page, third["id"] in album_page) == (True, True, False)
    filtered = (await http.get(f"/images?album={album_id}")).text  # the grid's album filter still works
    assert (first["id"] in filtered, second["id"] in filtered, third["id"] in filtered) == (True, True, False)
    assert f'<option value="{album_id}" selected>' in filtered
    assert (await http.get("/images?album=not-an-album")).status_code == 404
    assert (await signed_in.post_form("/images/bulk", {"ids": first["id"], "action": "album"})).status_code == 400

    removed = await signed_in.post_form(f"/albums/{album_id}/images/remove", {"ids": [first["id"]]})
    assert (removed.status_code, removed.headers["location"]) == (303, f"/albums/{album_id}")
    page = (await http.get(f"/albums/{album_id}")).text
    assert (first["id"] in page, second["id"] in page) == (False, True)
    assert (await signed_in.post_form(f"/albums/{album_id}/images/remove", {})).status_code == 400


async def test_album_link_opens_the_album_signed_out(
    signed_in: Browser, http: httpx.AsyncClient, new_client: ClientFactory
) -> None:
    image = await signed_in.upload(fields={"isPrivate": "true"})
    album_id = await make_album(signed_in, "Family")
    await signed_in.post_form(f"/images/{image['id']}/albums", {"album": album_id, "action": "add"})
    stranger = await new_client()
    assert (await stranger.get(f"/albums/{album_id}")).status_code == 404  # private album, no token

    created = await signed_in.post_form(f"/albums/{album_id}/tokens", {"expires": "7d"})
    assert created.status_code == 201
    assert "shown only once" in created.text
    link = hidden_value(created.text, "new-token")
    token = link.split("token=", 1)[1]
    assert link == f"http://testserver/albums/{album_id}?token={token}"
    assert album_tokens.is_album_token(token)
    assert token not in (await http.get(f"/albums/{album_id}")).text  # listed by hash only
    assert "expires " in (await http.get(f"/albums/{album_id}")).text

    shared = await stranger.get(link.removeprefix("http://testserver"))
    assert shared.status_code == 200
    assert "Family" in shared.text
    assert 'action="/albums/' not in shared.text  # no owner's forms
    thumb = f"/v2/images/{image['id']}?w=320&amp;format=webp&amp;token={token}"
    assert thumb in shared.text
    picture = await stranger.get(thumb.replace("&amp;", "&"))
    assert picture.status_code == 200
    assert "x-pinhole-fallback" not in picture.headers

    token_hash = (await http.get(f"/albums/{album_id}")).text.split('name="link" value="', 1)[1].split('"', 1)[0]
    assert len(token_hash) == 64
    revoked = await signed_in.post_form(f"/albums/{album_id}/tokens/revoke", {"link": token_hash})
    assert (revoked.status_code, revoked.headers["location"]) == (303, f"/albums/{album_id}")
    assert (await stranger.get(link.removeprefix("http://testserver"))).status_code == 404
    assert 'id="token-list"' not in (await http.get(f"/albums/{album_id}")).text
    assert (await signed_in.post_form(f"/albums/{album_id}/tokens/revoke", {"link": "0" * 64})).status_code == 404
    assert (await signed_in.post_form(f"/albums/{album_id}/tokens/revoke", {})).status_code == 404
    assert (await signed_in.post_form(f"/albums/{album_id}/tokens", {"expires": "1y"})).status_code == 400
    assert (await stranger.get(f"/albums/{album_id}?token=alb_forged")).status_code == 404


async def test_public_album_shows_public_images_to_anyone(
    signed_in: Browser, http: httpx.AsyncClient, new_client: ClientFactory
) -> None:
    public = await signed_in.upload()
    private = await signed_in.upload(fields={"isPrivate": "true"})
    album_id = await make_album(signed_in, "Open", public="1")
    await signed_in.post_form(
        "/images/bulk", {"ids": [public["id"], private["id"]], "action": "album", "album": album_id}
    )
    stranger = await new_client()
    page = await stranger.get(f"/albums/{album_id}")
    assert page.status_code == 200
    assert (public["id"] in page.text, private["id"] in page.text) == (True, False)
    assert "1 image<" in page.text
    assert "csrf" not in page.text


async def test_another_account_cannot_change_my_albums(
    signed_in: Browser, http: httpx.AsyncClient, runtime: Runtime, new_client: ClientFactory
) -> None:
    image = await signed_in.upload()
    private_id = await make_album(signed_in, "Mine")
    public_id = await make_album(signed_in, "Shown", public="1")
    await make_account(runtime, "bob")
    bob = await browser(await new_client(), "bob", PASSWORD)
    assert (await bob.http.get(f"/albums/{private_id}")).status_code == 404
    shown = await bob.http.get(f"/albums/{public_id}")
    assert shown.status_code == 200
    assert 'id="save-album"' not in shown.text
    assert public_id not in (await bob.http.get("/albums")).text  # my albums: bob's own only
    for path, form in (
        (f"/albums/{public_id}/details", {"name": "hijacked"}),
        (f"/albums/{public_id}/delete", {}),
        (f"/albums/{public_id}/tokens", {"expires": ""}),
    ):
        assert (await bob.post_form(path, form)).status_code == 403, path
    assert (await bob.post_form(f"/albums/{private_id}/delete")).status_code == 404
    bob_album = await make_album(bob, "Bob's")
    stolen = await bob.post_form(f"/images/{image['id']}/albums", {"album": bob_album, "action": "add"})
    assert stolen.status_code == 403
    assert 'id="album-name-heading">Shown<' in (await http.get(f"/albums/{public_id}")).text


async def test_album_forms_without_the_csrf_token_change_nothing(signed_in: Browser, http: httpx.AsyncClient) -> None:
    image = await signed_in.upload()
    album_id = await make_album(signed_in, "Guarded")
    posts = {
        "/albums": {"name": "sneaky"},
        f"/albums/{album_id}/details": {"name": "changed"},
        f"/albums/{album_id}/delete": {},
        f"/albums/{album_id}/images/remove": {"ids": image["id"]},
        f"/albums/{album_id}/tokens": {"expires": ""},
        f"/albums/{album_id}/tokens/revoke": {"link": "0" * 64},
        f"/images/{image['id']}/albums": {"album": album_id, "action": "add"},
        "/images/bulk": {"ids": image["id"], "action": "album", "album": album_id},
    }
    for path, data in posts.items():
        for token in (None, "forged"):
            form = data | ({"csrf": token} if token else {})
            response = await http.post(path, data=form)
            assert response.status_code == 403, path
            assert "csrf_failed" in response.text
    page = (await http.get(f"/albums/{album_id}")).text
    assert 'id="album-name-heading">Guarded<' in page
    assert "0 images" in page
    assert 'id="token-list"' not in page
    assert "sneaky" not in (await http.get("/albums")).text


async def test_album_text_is_escaped(signed_in: Browser, http: httpx.AsyncClient, new_client: ClientFactory) -> None:
    image = await signed_in.upload(fields={"description": HOSTILE})
    album_id = await make_album(signed_in, HOSTILE, description=HOSTILE, public="1")
    await signed_in.post_form(f"/images/{image['id']}/albums", {"album": album_id, "action": "add"})
    stranger = await new_client()
    pages = [
        await http.get("/albums"),
        await http.get(f"/albums/{album_id}"),
        await http.get(f"/images/{image['id']}"),
        await http.get("/images"),
        await stranger.get(f"/albums/{album_id}"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "<img src=x" not in page.text
        assert str(escape(HOSTILE)) in page.text
