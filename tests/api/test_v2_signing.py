"""Signed transform URLs through the v2 API: who must sign, what a signature covers, expiry, key rotation,
the warm fast path, and the sign endpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from pinhole.app import build_signer
from pinhole.cli.sign import signed_url as cli_signed_url
from pinhole.runtime import Runtime
from pinhole.settings import Settings, SigningSettings
from tests.api.v2helpers import upload
from tests.conftest import ApiClient
from tests.security.clock import ManualClock
from tests.support import images as img

pytestmark = pytest.mark.anyio

OLD_KEY = "k1:" + "o" * 32
NEW_KEY = "k2:" + "n" * 40


def signing(mode: str, **extra: Any) -> dict[str, Any]:
    return {"signing": {"mode": mode, "keys": [OLD_KEY], **extra}}


ANONYMOUS_MODE = pytest.mark.parametrize("settings_overrides", [signing("anonymous")], ids=["anonymous"])
ALL_MODE = pytest.mark.parametrize("settings_overrides", [signing("all")], ids=["all"])


@pytest.fixture
async def photo(http: httpx.AsyncClient, tenant: ApiClient) -> dict[str, Any]:
    return await upload(http, tenant, img.make_jpeg(300, 200), user="alice")


@pytest.fixture
def clock(runtime: Runtime) -> ManualClock:
    """The signer's clock, moved by hand: no test waits for a URL to expire."""
    manual = ManualClock()
    runtime.signer.clock = manual
    return manual


async def sign(
    http: httpx.AsyncClient, tenant: ApiClient, image_id: str, *, user: str | None = "alice", **body: Any
) -> httpx.Response:
    return await http.post(f"/v2/images/{image_id}/sign", headers=tenant.headers(user), json=body)


async def signed_url(http: httpx.AsyncClient, tenant: ApiClient, image_id: str, **body: Any) -> str:
    response = await sign(http, tenant, image_id, **body)
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


def with_params(url: str, **changes: str | None) -> str:
    """`url` with query parameters replaced (None drops one)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query)) | changes
    return f"{parts.path}?{urlencode({k: v for k, v in params.items() if v is not None})}"


def assert_refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json() == {
        "error": {"code": code, "message": response.json()["error"]["message"], "status": 403, "field": "sig"}
    }
    assert response.headers["cache-control"] == "no-store"


def is_fallback(response: httpx.Response) -> bool:
    return response.status_code == 200 and response.headers.get("x-pinhole-fallback") == "1"


# Who must sign


async def test_mode_off_needs_no_signature(http: httpx.AsyncClient, photo: dict[str, Any]) -> None:
    url = f"/v2/images/{photo['id']}"
    img.assert_image((await http.get(url, params={"w": 50})).content, format="jpeg", width=50, height=33)
    garbage = await http.get(url, params={"w": 60, "sig": "nonsense", "exp": "1"})
    img.assert_image(garbage.content, format="jpeg", width=60, height=40)


@ANONYMOUS_MODE
async def test_anonymous_mode_refuses_unsigned_anonymous_transforms(
    http: httpx.AsyncClient, photo: dict[str, Any]
) -> None:
    url = f"/v2/images/{photo['id']}"
    assert_refused(await http.get(url, params={"w": 50}), "missing_signature")
    assert_refused(await http.get(url, params={"thumb": "true"}), "missing_signature")
    head = await http.head(url, params={"w": 50})
    assert (head.status_code, head.headers["cache-control"]) == (403, "no-store")
    original = await http.get(url, params={"t": "cache-buster"})
    img.assert_image(original.content, format="jpeg", width=300, height=200)


@ANONYMOUS_MODE
@pytest.mark.parametrize("caller", ["owner", "colleague", "client", "other-tenant"])
async def test_anonymous_mode_lets_identified_callers_transform(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, photo: dict[str, Any], caller: str
) -> None:
    headers = {
        "owner": tenant.headers("alice"),
        "colleague": tenant.headers("bob"),
        "client": tenant.headers(),
        "other-tenant": other_tenant.headers("alice"),
    }[caller]
    response = await http.get(f"/v2/images/{photo['id']}", params={"w": 50}, headers=headers)
    img.assert_image(response.content, format="jpeg", width=50, height=33)


@pytest.mark.parametrize("settings_overrides", [signing("anonymous"), signing("all")], ids=["anonymous", "all"])
async def test_share_token_holders_transform_freely(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    share = (await http.post(f"/v2/images/{photo['id']}/share", headers=tenant.headers("alice"))).json()
    by_param = await http.get(f"/v2/images/{photo['id']}", params={"token": share["token"], "w": 50})
    img.assert_image(by_param.content, format="jpeg", width=50, height=33)
    by_link = await http.get(f"/v2/images/share/{share['token']}", params={"w": 70})
    img.assert_image(by_link.content, format="jpeg", width=70, height=47)


@ALL_MODE
@pytest.mark.parametrize("caller", ["anonymous", "colleague", "client", "other-tenant"])
async def test_mode_all_asks_everyone_but_the_owner_to_sign(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient, photo: dict[str, Any], caller: str
) -> None:
    headers = {
        "anonymous": {},
        "colleague": tenant.headers("bob"),
        "client": tenant.headers(),
        "other-tenant": other_tenant.headers("alice"),
    }[caller]
    url = f"/v2/images/{photo['id']}"
    assert_refused(await http.get(url, params={"w": 50}, headers=headers), "missing_signature")
    signed = await signed_url(http, tenant, photo["id"], w=50)
    img.assert_image((await http.get(signed, headers=headers)).content, format="jpeg", width=50, height=33)
    owner = await http.get(url, params={"w": 50}, headers=tenant.headers("alice"))
    img.assert_image(owner.content, format="jpeg", width=50, height=33)


# What a signature covers


@ANONYMOUS_MODE
async def test_signed_url_serves_its_transform(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    url = await signed_url(http, tenant, photo["id"], w=80, format="webp")
    assert url.startswith(f"http://testserver/v2/images/{photo['id']}?")
    params = dict(parse_qsl(urlsplit(url).query))
    assert params.keys() == {"w", "format", "sig", "exp"}
    assert params["sig"].startswith("k1.")
    response = await http.get(url)
    img.assert_image(response.content, format="webp", width=80, height=53)
    assert (await http.head(url)).status_code == 200


@ANONYMOUS_MODE
@pytest.mark.parametrize(
    "body",
    [
        {"w": 80},
        {"thumb": True},
        {"w": 80, "h": 40, "fit": "cover"},
        {"w": 40, "h": 40, "fit": "inside"},
        {"w": 80, "fit": "fill"},
        {"format": "png", "q": 50},
        {"format": "jpg", "q": 70},
        {"w": 500, "enlarge": True},
    ],
)
async def test_signed_urls_carry_options_the_serve_route_reads_back(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], body: dict[str, Any]
) -> None:
    response = await http.get(await signed_url(http, tenant, photo["id"], **body))
    assert response.status_code == 200, response.text
    assert response.headers.get("x-pinhole-fallback") is None


@ANONYMOUS_MODE
async def test_thumbnails_are_signed_as_their_size(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    url = await signed_url(http, tenant, photo["id"], thumb=True)
    params = dict(parse_qsl(urlsplit(url).query))
    assert {k: params[k] for k in ("w", "h", "fit")} == {"w": "256", "h": "256", "fit": "cover"}
    owner = await http.get(f"/v2/images/{photo['id']}", params={"thumb": "true"}, headers=tenant.headers("alice"))
    assert (await http.get(url)).headers["etag"] == owner.headers["etag"]


@ANONYMOUS_MODE
async def test_signature_parameters_are_not_transform_options(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    signed = await http.get(await signed_url(http, tenant, photo["id"], w=90))
    owner = await http.get(f"/v2/images/{photo['id']}", params={"w": 90}, headers=tenant.headers("alice"))
    assert signed.headers["etag"] == owner.headers["etag"]  # one variant, whatever the URL carries


@ANONYMOUS_MODE
@pytest.mark.parametrize(
    "tamper",
    ["width", "format", "added-option", "mac", "expiry", "expiry-dropped", "other-image"],
)
async def test_tampered_urls_are_refused(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], tamper: str
) -> None:
    url = await signed_url(http, tenant, photo["id"], w=80)
    params = dict(parse_qsl(urlsplit(url).query))
    mac = params["sig"].split(".", 1)[1]
    other = await upload(http, tenant, img.make_png(40, 40), user="alice")
    tampered = {
        "width": with_params(url, w="81"),
        "format": with_params(url, format="png"),
        "added-option": with_params(url, enlarge="true"),
        "mac": with_params(url, sig=f"k1.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"),
        "expiry": with_params(url, exp=str(int(params["exp"]) + 1)),
        "expiry-dropped": with_params(url, exp=None),
        "other-image": with_params(url).replace(photo["id"], other["id"]),
    }[tamper]
    assert_refused(await http.get(tampered), "invalid_signature")


@ANONYMOUS_MODE
async def test_expired_urls_are_refused(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], clock: ManualClock
) -> None:
    response = await sign(http, tenant, photo["id"], w=80, expiresIn=60)
    assert datetime.fromisoformat(response.json()["expiresAt"]) == datetime.fromtimestamp(clock.now + 60, UTC)
    url = response.json()["url"]
    assert (await http.get(url)).headers["cache-control"] == "public, max-age=60, immutable"
    clock.advance(59)
    assert (await http.get(url)).headers["cache-control"] == "public, max-age=1, immutable"
    clock.advance(1)
    assert_refused(await http.get(url), "expired_signature")


@ANONYMOUS_MODE
async def test_rotated_keys(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], runtime: Runtime, settings: Settings
) -> None:
    def restart_with(*keys: str) -> None:
        changed = settings.model_copy(update={"signing": SigningSettings(mode="anonymous", keys=list(keys))})
        runtime.signer = build_signer(changed, runtime.secret)

    old = await signed_url(http, tenant, photo["id"], w=80)
    restart_with(NEW_KEY, OLD_KEY)
    new = await signed_url(http, tenant, photo["id"], w=80)
    assert dict(parse_qsl(urlsplit(new).query))["sig"].startswith("k2.")
    for url in (old, new):
        img.assert_image((await http.get(url)).content, format="jpeg", width=80, height=53)
    restart_with(NEW_KEY)
    assert_refused(await http.get(old), "unknown_signing_key")
    assert (await http.get(new)).status_code == 200


# Nothing about images the caller may not see


@ALL_MODE
async def test_signatures_never_open_or_reveal_private_images(
    http: httpx.AsyncClient, tenant: ApiClient, other_tenant: ApiClient
) -> None:
    private = await upload(http, tenant, img.make_jpeg(60, 40), user="alice", fields={"isPrivate": "true"})
    url = await signed_url(http, tenant, private["id"], w=30)
    assert is_fallback(await http.get(url))
    assert is_fallback(await http.get(url, headers=other_tenant.headers("alice")))
    assert is_fallback(await http.get(with_params(url, sig="k1.bad")))
    missing = "7d3f9a52-3c1e-4b8f-9a0e-2f6b1c5d8e41"
    assert is_fallback(await http.get(f"/v2/images/{missing}", params={"w": 30}))
    owner = await http.get(url, headers=tenant.headers("alice"))
    assert owner.headers["cache-control"].startswith("private")
    img.assert_image(owner.content, format="jpeg", width=30, height=20)


# The warm fast path


@pytest.mark.parametrize("settings_overrides", [signing("anonymous"), signing("all")], ids=["anonymous", "all"])
async def test_fast_path_never_answers_an_unsigned_transform(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], runtime: Runtime
) -> None:
    url = f"/v2/images/{photo['id']}"
    for _ in range(3):
        owner = await http.get(url, params={"w": 50}, headers=tenant.headers("alice"))
        assert owner.status_code == 200  # the variant is rendered and known to this process
        assert (await http.get(url)).status_code == 200
    hits = runtime.hot.hits
    assert hits >= 1  # originals still take the fast path
    for _ in range(3):
        assert_refused(await http.get(url, params={"w": 50}), "missing_signature")
    assert runtime.hot.hits == hits


@ANONYMOUS_MODE
async def test_fast_path_never_answers_a_signed_url_after_it_expires(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], runtime: Runtime, clock: ManualClock
) -> None:
    url = (await sign(http, tenant, photo["id"], w=50, expiresIn=30)).json()["url"]
    for _ in range(3):
        assert (await http.get(url)).status_code == 200
    clock.advance(30)
    for _ in range(2):
        assert_refused(await http.get(url), "expired_signature")
    assert runtime.hot.hits == 0


# The sign endpoint


@ANONYMOUS_MODE
@pytest.mark.parametrize(
    ("caller", "status", "code"),
    [
        ("colleague", 403, "forbidden"),
        ("client", 403, "forbidden"),
        ("other-tenant", 404, "image_not_found"),
        ("anonymous", 401, "missing_api_key"),
    ],
)
async def test_only_the_owner_may_sign(
    http: httpx.AsyncClient,
    tenant: ApiClient,
    other_tenant: ApiClient,
    photo: dict[str, Any],
    caller: str,
    status: int,
    code: str,
) -> None:
    headers = {
        "colleague": tenant.headers("bob"),
        "client": tenant.headers(),
        "other-tenant": other_tenant.headers("alice"),
        "anonymous": {},
    }[caller]
    response = await http.post(f"/v2/images/{photo['id']}/sign", headers=headers, json={"w": 50})
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_a_client_key_signs_its_ownerless_images(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    ownerless = await upload(http, tenant)
    assert (await sign(http, tenant, ownerless["id"], user=None, w=20)).status_code == 200


async def test_signing_an_unknown_image(http: httpx.AsyncClient, tenant: ApiClient) -> None:
    for image_id in ("7d3f9a52-3c1e-4b8f-9a0e-2f6b1c5d8e41", "not-an-id"):
        response = await sign(http, tenant, image_id, w=20)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "image_not_found")


@pytest.mark.parametrize("settings_overrides", [signing("anonymous", max_expiry_days=2)], ids=["two-days"])
@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"expiresIn": 2 * 86_400 + 1}, "expiresIn", "invalid_input"),
        ({"expiresIn": 0}, "expiresIn", "invalid_input"),
        ({"w": 0}, "w", "invalid_transform"),
        ({"format": "bmp"}, "format", "invalid_transform"),
        ({"fit": "squash"}, "fit", "invalid_input"),
        ({"width": 10}, "width", "invalid_input"),
    ],
)
async def test_sign_refuses_bad_requests(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], body: dict[str, Any], field: str, code: str
) -> None:
    response = await sign(http, tenant, photo["id"], **body)
    assert response.status_code == 400, response.text
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == (code, field)


@pytest.mark.parametrize("settings_overrides", [signing("anonymous", max_expiry_days=2)], ids=["two-days"])
async def test_urls_last_at_most_the_longest_expiry(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any], clock: ManualClock
) -> None:
    response = await http.post(f"/v2/images/{photo['id']}/sign", headers=tenant.headers("alice"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert datetime.fromisoformat(body["expiresAt"]) == datetime.fromtimestamp(clock.now + 2 * 86_400, UTC)
    assert dict(parse_qsl(urlsplit(body["url"]).query)).keys() == {"sig", "exp"}  # the original, signed
    exact = await sign(http, tenant, photo["id"], expiresIn=2 * 86_400)
    assert exact.status_code == 200


@pytest.mark.parametrize(
    "settings_overrides",
    [signing("anonymous") | {"server": {"public_url": "https://img.example.com/"}}],
    ids=["public-url"],
)
async def test_signed_urls_use_the_public_url(
    http: httpx.AsyncClient, tenant: ApiClient, photo: dict[str, Any]
) -> None:
    url = await signed_url(http, tenant, photo["id"], w=50)
    assert url.startswith(f"https://img.example.com/v2/images/{photo['id']}?")
    local = url.replace("https://img.example.com", "")
    img.assert_image((await http.get(local)).content, format="jpeg", width=50, height=33)


# The CLI


@pytest.mark.parametrize(
    "settings_overrides",
    [signing("anonymous"), {"signing": {"mode": "anonymous"}}],
    ids=["configured-key", "key-from-the-server-secret"],
)
@pytest.mark.parametrize("expires_in", [None, 600])
async def test_cli_signs_urls_the_server_accepts(
    http: httpx.AsyncClient, photo: dict[str, Any], settings: Settings, expires_in: int | None
) -> None:
    options = {"w": 40, "h": None, "q": None, "format": "png", "fit": None, "thumb": False, "enlarge": False}
    result = await cli_signed_url(settings, photo["id"], options, expires_in=expires_in)
    assert result["url"].startswith(f"/v2/images/{photo['id']}?w=40&format=png&sig=")
    assert (result["expiresAt"] is None) == (expires_in is None)
    assert ("exp=" in result["url"]) == (expires_in is not None)
    img.assert_image((await http.get(result["url"])).content, format="png", width=40, height=27)
