"""Issue 15 through the real app (v2): negotiated formats, crops that keep the subject, effects, focal points,
and errors that name the option; cold (the route renders) and warm (the fast path answers from memory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips

from pinhole.runtime import Runtime
from pinhole.security.principal import Role
from pinhole.security.signing import SigningMode
from pinhole.services.variant_options import SiteMark
from tests.api.accounthelpers import make_account
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.imaging.test_negotiation import CHROME, CURL, FIREFOX, SAFARI, SAFARI_15
from tests.support import images as img
from tests.support.scenes import CORNERS, colour_share_in, object_share, scene_png

pytestmark = pytest.mark.anyio


@pytest.fixture
async def photo(http: httpx.AsyncClient, tenant: ApiClient) -> dict[str, Any]:
    return await upload(http, tenant, img.make_jpeg(400, 300), user="alice")


async def _cold_then_warm(
    http: httpx.AsyncClient, runtime: Runtime, url: str, params: dict[str, Any], headers: dict[str, str]
) -> tuple[httpx.Response, httpx.Response]:
    cold = await http.get(url, params=params, headers=headers)
    await http.get(url, params=params, headers=headers)  # the fast path loads the bytes into memory
    hits = runtime.hot.hits
    warm = await http.get(url, params=params, headers=headers)
    assert runtime.hot.hits == hits + 1, "the warm request was not answered from memory"
    return cold, warm


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [(CHROME, "avif"), (SAFARI, "avif"), (FIREFOX, "avif"), (SAFARI_15, "webp"), (CURL, "jpeg")],
)
async def test_negotiated_format_cold_and_warm(
    http: httpx.AsyncClient, runtime: Runtime, photo: dict[str, Any], accept: str, fmt: str
) -> None:
    url = f"/v2/images/{photo['id']}"
    cold, warm = await _cold_then_warm(http, runtime, url, {"w": 200}, {"Accept": accept})
    for response in (cold, warm):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == f"image/{fmt}"
        assert response.headers["vary"] == "Accept"
        img.assert_image(response.content, format=fmt, width=200, height=150)
    assert warm.headers["etag"] == cold.headers["etag"]
    original = (await http.get(url)).content
    assert img.similarity(original, warm.content) > 0.9


async def test_a_cdn_keeps_one_answer_per_accept(
    http: httpx.AsyncClient, runtime: Runtime, photo: dict[str, Any]
) -> None:
    url = f"/v2/images/{photo['id']}"
    answers = {accept: await http.get(url, params={"w": 120}, headers={"Accept": accept}) for accept in (CHROME, CURL)}
    assert {a: r.headers["content-type"] for a, r in answers.items()} == {CHROME: "image/avif", CURL: "image/jpeg"}
    assert all(r.headers["vary"] == "Accept" for r in answers.values())
    assert answers[CHROME].headers["etag"] != answers[CURL].headers["etag"]
    # A validator of the AVIF answer does not match the JPEG one: no 304 hands curl an AVIF it cannot show.
    stale = await http.get(
        url, params={"w": 120}, headers={"Accept": CURL, "If-None-Match": answers[CHROME].headers["etag"]}
    )
    assert stale.status_code == 200
    same = await http.get(
        url, params={"w": 120}, headers={"Accept": CHROME, "If-None-Match": answers[CHROME].headers["etag"]}
    )
    assert same.status_code == 304
    assert same.headers["vary"] == "Accept"
    head = await http.head(url, params={"w": 120}, headers={"Accept": CHROME})
    assert (head.headers["content-type"], head.headers["vary"]) == ("image/avif", "Accept")


@pytest.mark.parametrize(
    ("params", "vary"), [({}, False), ({"w": 100, "format": "webp"}, False), ({"w": 100, "format": "auto"}, True)]
)
async def test_only_open_formats_are_negotiated(
    http: httpx.AsyncClient, photo: dict[str, Any], params: dict[str, Any], vary: bool
) -> None:
    response = await http.get(f"/v2/images/{photo['id']}", params=params, headers={"Accept": CHROME})
    assert ("accept" in response.headers.get("vary", "").lower()) is vary
    expected = "image/avif" if vary else "image/webp" if params else "image/jpeg"
    assert response.headers["content-type"] == expected


@pytest.mark.parametrize("settings_overrides", [{"transforms": {"negotiate": False}}])
async def test_negotiation_can_be_turned_off(http: httpx.AsyncClient, photo: dict[str, Any]) -> None:
    response = await http.get(f"/v2/images/{photo['id']}", params={"w": 100}, headers={"Accept": CHROME})
    assert response.headers["content-type"] == "image/jpeg"
    assert "vary" not in response.headers


@pytest.mark.parametrize("settings_overrides", [{"transforms": {"negotiate_formats": ["webp"]}}])
async def test_the_formats_negotiation_may_choose_are_a_setting(http: httpx.AsyncClient, photo: dict[str, Any]) -> None:
    response = await http.get(f"/v2/images/{photo['id']}", params={"w": 100}, headers={"Accept": CHROME})
    assert response.headers["content-type"] == "image/webp"


@pytest.mark.parametrize("settings_overrides", [{"imaging": {"default_quality": 30}}])
async def test_the_default_quality_setting_replaces_the_formats_own(
    http: httpx.AsyncClient, photo: dict[str, Any]
) -> None:
    url = f"/v2/images/{photo['id']}"
    low = await http.get(url, params={"w": 300, "format": "webp"})
    asked = await http.get(url, params={"w": 300, "format": "webp", "q": 90})
    assert len(low.content) < 0.7 * len(asked.content)


@pytest.mark.parametrize("corner", CORNERS)
@pytest.mark.parametrize("how", [{"gravity": "smart"}, {"gravity": "entropy"}])
async def test_smart_crops_keep_the_subject(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, corner: str, how: dict[str, str]
) -> None:
    body = await upload(http, tenant, scene_png(400, 200, at=CORNERS[corner]), filename="scene.png")
    params = {"w": 100, "h": 100, "fit": "cover", "format": "png", **how}
    cold, warm = await _cold_then_warm(http, runtime, f"/v2/images/{body['id']}", params, {})
    for response in (cold, warm):
        img.assert_image(response.content, format="png", width=100, height=100)
        assert object_share(response.content) > 0.03


async def test_an_images_focal_point_places_its_cover_crops(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    body = await upload(http, tenant, scene_png(400, 200, at=(0.0, 1.0)), filename="scene.png", user="alice")
    url = f"/v2/images/{body['id']}"
    params: dict[str, str | int] = {"w": 100, "h": 100, "fit": "cover", "format": "png"}
    assert object_share((await http.get(url, params=params)).content) < 0.01  # centred: the subject is cut off
    patched = await http.patch(url, json={"focalPoint": {"x": 0.05, "y": 0.9}}, headers=tenant.headers("alice"))
    assert patched.status_code == 200, patched.text
    assert patched.json()["focalPoint"] == {"x": 0.05, "y": 0.9}
    info = await http.get(url, params={"info": "true"}, headers=tenant.headers("alice"))
    assert info.json()["focalPoint"] == {"x": 0.05, "y": 0.9}
    cold, warm = await _cold_then_warm(http, runtime, url, params, {})
    assert object_share(cold.content) > 0.03
    assert warm.content == cold.content
    centred = await http.get(url, params={**params, "gravity": "centre"})  # the request says otherwise
    assert object_share(centred.content) < 0.01
    cleared = await http.patch(url, json={"focalPoint": None}, headers=tenant.headers("alice"))
    assert cleared.json()["focalPoint"] is None
    assert object_share((await http.get(url, params=params)).content) < 0.01


@pytest.mark.parametrize("point", [{"x": 1.5, "y": 0.5}, {"x": 0.5}, {"x": "left", "y": 0}])
async def test_a_bad_focal_point_is_refused(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], point: dict[str, Any]
) -> None:
    response = await http.patch(
        f"/v2/images/{photo['id']}", json={"focalPoint": point}, headers=tenant.headers("alice")
    )
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({"w": 100, "dpr": "2"}, (200, 150)),
        ({"w": 100, "h": 100, "fit": "pad", "bg": "00ff00"}, (100, 100)),
        ({"w": 100, "h": 100, "fit": "outside"}, (133, 100)),
        ({"crop": "0,0,200,150", "w": 100}, (100, 75)),
        ({"crop": "0.5,0.5,0.5,0.5"}, (200, 150)),
        ({"rotate": "90", "w": 150}, (150, 200)),
        ({"flip": "true", "flop": "true", "w": 100}, (100, 75)),
        ({"blur": "2", "w": 100}, (100, 75)),
        ({"sharpen": "1", "w": 100}, (100, 75)),
        ({"grayscale": "true", "w": 100}, (100, 75)),
        ({"w": 100, "h": 100, "fit": "cover", "gravity": "ne"}, (100, 100)),
        ({"w": 100, "h": 100, "fit": "cover", "fp": "0.2,0.7"}, (100, 100)),
        ({"thumb": "true"}, (256, 256)),
        ({"w": 800, "enlarge": "true"}, (800, 600)),
        ({"w": 100, "q": "30"}, (100, 75)),
    ],
)
async def test_new_options_cold_and_warm(
    http: httpx.AsyncClient, runtime: Runtime, photo: dict[str, Any], params: dict[str, Any], size: tuple[int, int]
) -> None:
    cold, warm = await _cold_then_warm(http, runtime, f"/v2/images/{photo['id']}", params, {"Accept": CURL})
    for response in (cold, warm):
        assert response.status_code == 200, response.text
        img.assert_image(response.content, format="jpeg", width=size[0], height=size[1])
    assert warm.headers["etag"] == cold.headers["etag"]


async def test_rotation_turns_the_picture(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    body = await upload(http, tenant, img.make_jpeg(64, 48))
    response = await http.get(f"/v2/images/{body['id']}", params={"rotate": "90", "format": "png"})
    assert img.red_block_corner(response.content) == "top-right"


@pytest.mark.parametrize(
    "params",
    [
        {"w": "100", "dpr": "9"},
        {"crop": "1,2"},
        {"gravity": "up", "w": "10", "h": "10", "fit": "cover"},
        {"fp": "2,2"},
        {"blur": "-1"},
        {"sharpen": "abc"},
        {"rotate": "45"},
        {"bg": "zz"},
        {"fit": "squash"},
    ],
)
async def test_bad_options_are_400_naming_the_option(
    http: httpx.AsyncClient, photo: dict[str, Any], params: dict[str, str]
) -> None:
    url = f"/v2/images/{photo['id']}"
    await http.get(url)  # the record is warm: the fast path sees these first
    response = await http.get(url, params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    named = [name for name in params if name not in ("w", "h", "fit")] or ["fit"]
    assert error["field"] == named[0]


PRESETS = {"card": "w=120&h=90&fit=cover&gravity=smart", "mono": "w=100&grayscale=true&format=png"}


@pytest.mark.parametrize("settings_overrides", [{"transforms": {"presets": PRESETS}}])
async def test_presets_expand_to_the_same_variant(http: httpx.AsyncClient, photo: dict[str, Any]) -> None:
    url = f"/v2/images/{photo['id']}"
    named = await http.get(url, params={"preset": "card"})
    spelled = await http.get(url, params={"w": 120, "h": 90, "fit": "cover", "gravity": "smart"})
    img.assert_image(named.content, format="jpeg", width=120, height=90)
    assert named.headers["etag"] == spelled.headers["etag"]
    overridden = await http.get(url, params={"preset": "card", "w": 60})
    img.assert_image(overridden.content, format="jpeg", width=60, height=90)
    mono = await http.get(url, params={"preset": "mono"})
    img.assert_image(mono.content, format="png", width=100, height=75)
    unknown = await http.get(url, params={"preset": "poster"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["field"] == "preset"


@pytest.mark.parametrize("settings_overrides", [{"transforms": {"presets": PRESETS, "presets_only": True}}])
async def test_presets_only_for_strangers(http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any]) -> None:
    url = f"/v2/images/{photo['id']}"
    assert (await http.get(url)).status_code == 200  # the original is not a transform
    for _ in range(3):  # cold, then warm: the fast path refuses the same
        assert (await http.get(url, params={"preset": "card"})).status_code == 200
        refused = await http.get(url, params={"w": 100})
        assert refused.status_code == 403
        assert refused.json()["error"]["field"] == "preset"
        assert (await http.get(url, params={"preset": "card", "w": 50})).status_code == 403
    owner = await http.get(url, params={"w": 100}, headers=tenant.headers("alice"))
    assert owner.status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"transforms": {"presets": PRESETS, "eager_presets": ["card"]}}])
async def test_eager_presets_are_rendered_after_upload(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    body = await upload(http, tenant, img.make_jpeg(400, 300))
    await runtime.variants.drain()
    assert runtime.variants.renders == 3  # AVIF, WebP and JPEG
    url = f"/v2/images/{body['id']}"
    for accept, fmt in ((CHROME, "avif"), (SAFARI_15, "webp"), (CURL, "jpeg")):
        response = await http.get(url, params={"preset": "card"}, headers={"Accept": accept})
        img.assert_image(response.content, format=fmt, width=120, height=90)
    assert runtime.variants.renders == 3  # every first view was already made


@pytest.mark.parametrize("settings_overrides", [{"transforms": {"stranger_renders_per_minute": 3}}])
async def test_strangers_have_a_render_budget(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    url = f"/v2/images/{photo['id']}"
    for width in (10, 11, 12):
        assert (await http.get(url, params={"w": width})).status_code == 200
    refused = await http.get(url, params={"w": 13})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["code"] == "rate_limited"
    assert (await http.get(url, params={"w": 10})).status_code == 200  # made before: not a render
    assert (await http.get(url)).status_code == 200  # the original
    owner = await http.get(url, params={"w": 14}, headers=tenant.headers("alice"))
    assert owner.status_code == 200  # owners are never limited
    other_api = await http.get(f"/image/{photo['id']}.jpg", params={"w": 15})  # slink's shape
    assert other_api.status_code == 429
    assert set(other_api.json()["error"]) == {"title", "message", "violations"}
    assert "retry-after" in other_api.headers


@pytest.mark.parametrize("settings_overrides", [{"transforms": {"width_step": 16}}])
async def test_widths_snap_to_the_ladder(http: httpx.AsyncClient, photo: dict[str, Any]) -> None:
    url = f"/v2/images/{photo['id']}"
    snapped = await http.get(url, params={"w": 100})
    img.assert_image(snapped.content, format="jpeg", width=112, height=84)
    same = await http.get(url, params={"w": 97})
    assert same.headers["etag"] == snapped.headers["etag"]


async def test_range_requests_on_originals(http: httpx.AsyncClient, photo: dict[str, Any]) -> None:
    url = f"/v2/images/{photo['id']}"
    whole = await http.get(url)
    await http.get(url)  # warm: the fast path now holds the original, and must still leave ranges to the route
    assert whole.headers["accept-ranges"] == "bytes"
    first = await http.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-99/{len(whole.content)}"
    assert first.content == whole.content[:100]
    tail = await http.get(url, headers={"Range": "bytes=-50"})
    assert (tail.status_code, tail.content) == (206, whole.content[-50:])
    rest = await http.get(url, headers={"Range": "bytes=100-"})
    assert rest.content == whole.content[100:]
    beyond = await http.get(url, headers={"Range": f"bytes={len(whole.content) + 10}-"})
    assert beyond.status_code == 416
    other_version = await http.get(url, headers={"Range": "bytes=0-99", "If-Range": '"not-this-one"'})
    assert (other_version.status_code, other_version.content) == (200, whole.content)
    same_version = await http.get(url, headers={"Range": "bytes=0-9", "If-Range": whole.headers["etag"]})
    assert same_version.status_code == 206


async def test_range_requests_on_a_fresh_variant(http: httpx.AsyncClient, photo: dict[str, Any]) -> None:
    url = f"/v2/images/{photo['id']}"
    part = await http.get(url, params={"w": 90}, headers={"Range": "bytes=0-9", "Accept": CURL})  # rendered now
    whole = await http.get(url, params={"w": 90}, headers={"Accept": CURL})
    assert part.status_code == 206
    assert part.content == whole.content[:10]
    assert part.headers["content-range"] == f"bytes 0-9/{len(whole.content)}"


@pytest.mark.parametrize("mode", ["off", "anonymous"])
async def test_info_offers_a_srcset_that_works_for_strangers(
    http: httpx.AsyncClient, tenant: ApiClient, runtime: Runtime, mode: str
) -> None:
    runtime.signing_mode = SigningMode(mode)
    body = await upload(http, tenant, img.make_jpeg(700, 350), user="alice")
    info = await http.get(f"/v2/images/{body['id']}", params={"info": "true"}, headers=tenant.headers("alice"))
    entries = [entry.rsplit(" ", 1) for entry in info.json()["srcset"].split(", ")]
    assert [width for _, width in entries] == ["320w", "640w", "700w"]
    for url, width in entries:
        assert ("sig=" in url) is (mode != "off")
        response = await http.get(url.removeprefix("http://testserver"), headers={"Accept": CHROME})
        assert response.status_code == 200, response.text
        img.assert_image(response.content, format="avif", width=int(width[:-1]), height=int(width[:-1]) // 2)
    if mode != "off":
        unsigned = await http.get(f"/v2/images/{body['id']}", params={"w": 320})
        assert unsigned.status_code == 403


LIMITS = {"max_output_width": 1000, "max_output_height": 900, "max_output_pixels": 400_000}


@pytest.mark.parametrize("settings_overrides", [{"imaging": LIMITS}])
@pytest.mark.parametrize(("size", "top"), [((1500, 300), 1000), ((300, 1500), 180), ((1200, 900), 729)])
async def test_an_original_beyond_the_output_limits_uploads_and_its_srcset_stops_at_them(
    http: httpx.AsyncClient, tenant: ApiClient, size: tuple[int, int], top: int
) -> None:
    """A 12000-px panorama used to answer 400 (`w` out of range) to its own upload: the srcset asked for the
    original's width. The widest entry is now the widest the limits allow (width, height, then pixels)."""
    body = await upload(http, tenant, img.make_jpeg(*size))
    widths = [entry.rsplit(" ", 1)[1] for entry in body["srcset"].split(", ")]
    assert widths[-1] == f"{top}w"
    largest = await http.get(body["srcset"].split(", ")[-1].rsplit(" ", 1)[0].removeprefix("http://testserver"))
    assert largest.status_code == 200, largest.text
    assert pyvips.Image.new_from_buffer(largest.content, "").width == top


MAGENTA = (255, 0, 255)


def _mark_png() -> bytes:
    return bytes(pyvips.Image.black(64, 64).new_from_image([255, 0, 255]).cast("uchar").pngsave_buffer())


async def test_watermark_by_image_id_cold_and_warm(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, other_tenant: ApiClient, photo: dict[str, Any]
) -> None:
    mark = await upload(http, tenant, _mark_png(), filename="mark.png", user="alice")
    url = f"/v2/images/{photo['id']}"
    params = {"w": 200, "wm": mark["id"], "wm_gravity": "nw", "wm_opacity": "1", "wm_scale": "0.2", "wm_margin": "8"}
    cold, warm = await _cold_then_warm(http, runtime, url, params, {"Accept": CURL})
    for response in (cold, warm):
        img.assert_image(response.content, format="jpeg", width=200, height=150)
        assert colour_share_in(response.content, MAGENTA, (0.0, 0.0, 0.3, 0.4)) > 0.2
        assert colour_share_in(response.content, MAGENTA, (0.5, 0.5, 1.0, 1.0)) == 0
    elsewhere = await http.get(url, params={**params, "wm_gravity": "se"}, headers={"Accept": CURL})
    assert colour_share_in(elsewhere.content, MAGENTA, (0.7, 0.6, 1.0, 1.0)) > 0.2
    foreign = await upload(http, other_tenant, _mark_png(), filename="mark.png")
    refused = await http.get(url, params={"w": 200, "wm": foreign["id"]})
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "wm"
    bad = await http.get(url, params={"w": 200, "wm": mark["id"], "wm_opacity": "2"})
    assert (bad.status_code, bad.json()["error"]["field"]) == (400, "wm_opacity")


async def test_site_watermark_from_the_configured_file(
    http: httpx.AsyncClient, runtime: Runtime, photo: dict[str, Any], tmp_path: Path
) -> None:
    url = f"/v2/images/{photo['id']}"
    missing = await http.get(url, params={"w": 200, "wm": "site"})
    assert (missing.status_code, missing.json()["error"]["field"]) == (400, "wm")
    (tmp_path / "mark.png").write_bytes(_mark_png())
    runtime.variants.site_mark = SiteMark(tmp_path / "mark.png")
    marked = await http.get(url, params={"w": 200, "wm": "site", "wm_opacity": "1"}, headers={"Accept": CURL})
    assert colour_share_in(marked.content, MAGENTA, (0.6, 0.5, 1.0, 1.0)) > 0.15


async def test_a_clients_watermark_marks_every_public_variant(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    admin = await make_account(runtime, "root", role=Role.ADMIN)
    mark = await upload(http, tenant, _mark_png(), filename="mark.png", user="alice")
    url = f"/v2/images/{photo['id']}"
    before = await http.get(url, params={"w": 200}, headers={"Accept": CURL})
    assert colour_share_in(before.content, MAGENTA, (0, 0, 1, 1)) == 0
    setting = f"wm={mark['id']}&wm_gravity=sw&wm_opacity=1&wm_scale=0.2"
    patched = await http.patch(f"/v2/admin/clients/{tenant.id}", json={"watermark": setting}, headers=admin.headers())
    assert patched.status_code == 200, patched.text
    cold, warm = await _cold_then_warm(http, runtime, url, {"w": 200}, {"Accept": CURL})
    for response in (cold, warm):
        assert colour_share_in(response.content, MAGENTA, (0.0, 0.6, 0.3, 1.0)) > 0.2
    assert cold.headers["etag"] != before.headers["etag"]
    own = await http.get(url, params={"w": 200, "wm": mark["id"], "wm_gravity": "ne", "wm_opacity": "1"})
    assert colour_share_in(own.content, MAGENTA, (0.0, 0.6, 0.3, 1.0)) == 0  # the request's own mark instead
    private = await upload(http, tenant, img.make_jpeg(400, 300), user="alice", fields={"isPrivate": "true"})
    unmarked = await http.get(f"/v2/images/{private['id']}", params={"w": 200}, headers=tenant.headers("alice"))
    assert colour_share_in(unmarked.content, MAGENTA, (0, 0, 1, 1)) == 0
    bad = await http.patch(f"/v2/admin/clients/{tenant.id}", json={"watermark": "w=100"}, headers=admin.headers())
    assert (bad.status_code, bad.json()["error"]["field"]) == (400, "watermark")


async def test_protected_originals_are_for_owners_only(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    admin = await make_account(runtime, "root", role=Role.ADMIN)
    url = f"/v2/images/{photo['id']}"
    hits = runtime.hot.hits
    for _ in range(3):  # the last from the warm path's memo
        assert (await http.get(url)).status_code == 200
    assert runtime.hot.hits > hits
    patched = await http.patch(
        f"/v2/admin/clients/{tenant.id}", json={"protectOriginals": True}, headers=admin.headers()
    )
    assert patched.status_code == 200, patched.text
    for _ in range(2):  # the warm path must not hand out the original it holds
        refused = await http.get(url)
        assert refused.status_code == 403
    assert (await http.get(url, params={"w": 100})).status_code == 200  # transforms still work
    owner = await http.get(url, headers=tenant.headers("alice"))
    assert owner.status_code == 200
    assert owner.headers["cache-control"].startswith("private")  # no shared cache may hand it to strangers


@pytest.mark.parametrize("settings_overrides", [{"signing": {"mode": "anonymous", "keys": ["k1:" + "s" * 40]}}])
async def test_signed_urls_carry_the_new_options(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    url = f"/v2/images/{photo['id']}"
    body = {"w": 100, "h": 100, "fit": "cover", "options": {"gravity": "smart", "grayscale": "true", "rotate": "90"}}
    signed = await http.post(f"{url}/sign", headers=tenant.headers("alice"), json=body)
    assert signed.status_code == 200, signed.text
    link = signed.json()["url"].removeprefix("http://testserver")
    assert "gravity=smart" in link
    served = await http.get(link, headers={"Accept": CURL})
    assert served.status_code == 200, served.text
    img.assert_image(served.content, format="jpeg", width=100, height=100)
    unsigned = await http.get(url, params={"w": 100, "h": 100, "fit": "cover", "gravity": "smart"})
    assert unsigned.status_code == 403
    unknown = await http.post(f"{url}/sign", headers=tenant.headers("alice"), json={"options": {"zoom": "2"}})
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (400, "zoom")
