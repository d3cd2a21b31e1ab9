"""Photo details over httpx: sorting albums by date taken (owner, public visitor, token holder), the account's
"Photos" choices (CSRF, defaults), and the viewer page's uploader line, which never shows for a private image."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.support.exif import camera_exif, photo_with_exif
from tests.support.images import assert_image, make_jpeg
from tests.web.conftest import ClientFactory
from tests.web.test_album_pages import make_album
from tests.web.test_image_pages import hidden_value
from tests.web.webhelpers import Browser

pytestmark = pytest.mark.anyio

TAKEN = {"early": "2018:05:05 10:00:00", "late": "2024:01:01 08:00:00", "middle": "2020:06:06 12:00:00"}


def ids_in_order(page: str, ids: dict[str, str]) -> list[str]:
    """The names of `ids` in the order their tiles appear on the page."""
    found = re.findall(r'class="tile">\s*<a href="[^"]*?([0-9a-f-]{36})', page)
    names = {value: key for key, value in ids.items()}
    return [names[image_id] for image_id in found if image_id in names]


async def upload_taken(owner: Browser) -> dict[str, str]:
    ids = {}
    for name, taken in TAKEN.items():  # uploaded early, late, middle
        image = await owner.upload(photo_with_exif(camera_exif(taken=taken, position=None)))
        ids[name] = image["id"]
    return ids


async def test_albums_sort_by_date_taken(
    signed_in: Browser, http: httpx.AsyncClient, new_client: ClientFactory
) -> None:
    ids = await upload_taken(signed_in)
    album_id = await make_album(signed_in, "Years", public="1")
    added = await signed_in.post_form("/images/bulk", {"ids": list(ids.values()), "action": "album", "album": album_id})
    assert added.status_code == 303
    page = (await http.get(f"/albums/{album_id}?sort=taken")).text
    assert ids_in_order(page, ids) == ["late", "middle", "early"]
    assert '<option value="taken" selected>Date taken</option>' in page
    assert ids_in_order((await http.get(f"/albums/{album_id}?sort=name")).text, ids) != []
    mine = (await http.get(f"/images?sort=taken&album={album_id}")).text
    assert ids_in_order(mine, ids) == ["late", "middle", "early"]
    stranger = await new_client()
    public = await stranger.get(f"/albums/{album_id}?sort=taken")
    assert public.status_code == 200
    assert ids_in_order(public.text, ids) == ["late", "middle", "early"]
    assert (await stranger.get(f"/albums/{album_id}?sort=sideways")).status_code == 400

    created = await signed_in.post_form(f"/albums/{album_id}/tokens", {"expires": "7d"})
    link = hidden_value(created.text, "new-token").removeprefix("http://testserver")
    # A token's holder sorts too, and sees the private image the token opens.
    private = await signed_in.upload(photo_with_exif(camera_exif(taken="2025:02:02 02:02:02", position=None)))
    await signed_in.post_form(f"/images/{private['id']}/privacy", {"private": "1"})
    await signed_in.post_form("/images/bulk", {"ids": [private["id"]], "action": "album", "album": album_id})
    ids["private"] = private["id"]
    by_token = await stranger.get(link + "&sort=taken")
    assert by_token.status_code == 200
    assert ids_in_order(by_token.text, ids) == ["private", "late", "middle", "early"]
    assert f'<input type="hidden" name="token" value="{link.split("token=", 1)[1]}">' in by_token.text
    assert ids_in_order((await stranger.get(f"/albums/{album_id}?sort=taken")).text, ids) == [
        "late",
        "middle",
        "early",
    ]


async def test_photo_choices_are_off_by_default_and_saved(signed_in: Browser, http: httpx.AsyncClient) -> None:
    page = (await http.get("/account")).text
    assert 'id="keep-location" name="keep_location" value="1">' in page
    assert 'id="show-name" name="show_name" value="1">' in page
    refused = await http.post("/account/photos", data={"keep_location": "1"})
    assert refused.status_code == 403  # no CSRF token
    saved = await signed_in.post_form("/account/photos", {"keep_location": "1", "show_name": "1"})
    assert (saved.status_code, saved.headers["location"]) == (303, "/account#photo-privacy")
    page = (await http.get("/account")).text  # the notice comes in the flash cookie, once
    assert 'name="keep_location" value="1" checked' in page
    assert "Your photo choices are saved." in page
    assert "Your photo choices are saved." not in (await http.get("/account")).text
    await signed_in.post_form("/account/photos", {})
    assert 'name="keep_location" value="1" checked' not in (await http.get("/account")).text


async def test_viewer_shows_the_name_only_when_allowed_and_never_for_private(
    signed_in: Browser, http: httpx.AsyncClient, new_client: ClientFactory
) -> None:
    image = await signed_in.upload(photo_with_exif(camera_exif()))
    stranger = await new_client()
    page = (await stranger.get(f"/images/{image['id']}")).text
    assert 'id="uploader"' not in page
    assert '<dd id="camera">Canon EOS R5</dd>' in page
    assert "48.85" not in page

    await signed_in.post_form("/account/photos", {"show_name": "1"})
    page = (await stranger.get(f"/images/{image['id']}")).text
    assert '<p id="uploader">By alice</p>' in page
    oembed = await stranger.get("/oembed", params={"url": f"http://testserver/images/{image['id']}"})
    assert oembed.json()["author_name"] == "alice"

    # A share link's page of a private image: the picture, but not the name.
    await signed_in.post_form(f"/images/{image['id']}/privacy", {"private": "1"})
    shared = await signed_in.post_form(f"/images/{image['id']}/shares", {"expires": "1d"})
    token = hidden_value(shared.text, "new-share").rsplit("/", 1)[1]
    share_page = await stranger.get(f"/s/{token}")
    assert share_page.status_code == 200
    assert 'id="uploader"' not in share_page.text
    assert "alice" not in share_page.text
    oembed = await stranger.get("/oembed", params={"url": f"http://testserver/s/{token}"})
    assert oembed.status_code == 200
    assert "author_name" not in oembed.json()


PRESETS = {"card": "w=200&h=100&fit=cover", "wide": "w=300"}


def preset_choices(page: str) -> dict[str, str]:
    return {
        name: html.unescape(query)
        for name, query in re.findall(r'<option value="([a-z]+)" data-query="([^"]+)">', page)
    }


@pytest.mark.parametrize("settings_overrides", [{"transforms": {"presets": PRESETS, "presets_only": True}}])
async def test_the_picker_offers_the_servers_presets(
    signed_in: Browser, http: httpx.AsyncClient, new_client: ClientFactory
) -> None:
    image = await signed_in.upload(make_jpeg(800, 600))
    choices = preset_choices((await http.get(f"/images/{image['id']}")).text)
    assert choices == {"card": "?preset=card", "wide": "?preset=wide"}
    stranger = await new_client()
    card = await stranger.get(f"/v2/images/{image['id']}{choices['card']}")
    assert card.status_code == 200  # a preset alone is what presets-only lets strangers ask for
    assert_image(card.content, format="jpeg", width=200, height=100)


@pytest.mark.parametrize("settings_overrides", [{"signing": {"mode": "anonymous"}, "transforms": {"presets": PRESETS}}])
async def test_with_signing_the_presets_come_signed(
    signed_in: Browser, http: httpx.AsyncClient, new_client: ClientFactory
) -> None:
    image = await signed_in.upload(make_jpeg(800, 600))
    choices = preset_choices((await http.get(f"/images/{image['id']}")).text)
    assert choices["wide"].startswith("?preset=wide&")
    stranger = await new_client()
    wide = await stranger.get(f"/v2/images/{image['id']}{choices['wide']}")
    assert wide.status_code == 200, wide.text
    assert_image(wide.content, format="jpeg", width=300, height=225)
    assert (await stranger.get(f"/v2/images/{image['id']}?preset=wide")).status_code == 403
