"""What `pinhole doctor` says about the proxy URL languages: each enabled one, its signing state, its client, how
many clients hold their own keys for it (from the database; never a secret), and the remote-origin allowlist
(empty: proxy mode off, only hosted images are served)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import distinct, func, select

from pinhole.db.engine import Database
from pinhole.db.models import ProxyClientKey
from pinhole.proxies.allowlist import Allowlist, normalise
from pinhole.services.proxy_keys import DIALECTS
from pinhole.settings import Settings

KeyCounts = Mapping[str, Mapping[str, int]]
"""Per dialect: `clients` holding own keys and their `keys`."""


async def client_key_counts(settings: Settings) -> dict[str, dict[str, int]] | None:
    """How many clients hold their own keys per dialect, and how many keys; None when the database cannot say."""
    database = Database(settings.database_url)
    try:
        async with database.reader() as session:
            rows = await session.execute(
                select(ProxyClientKey.dialect, func.count(distinct(ProxyClientKey.client_id)), func.count())
                .group_by(ProxyClientKey.dialect)
            )  # fmt: skip
            found = {dialect: {"clients": clients, "keys": keys} for dialect, clients, keys in rows.tuples()}
    except Exception:  # unreachable or not migrated: the database check reports why
        return None
    finally:
        await database.dispose()
    return {dialect: found.get(dialect, {"clients": 0, "keys": 0}) for dialect in DIALECTS}


def _signing(settings: Settings) -> dict[str, str]:
    dialects = settings.dialects
    thumbor = "hmac-sha1" if dialects.thumbor.security_key else "no key"
    if dialects.thumbor.allow_unsafe:
        thumbor += ", unsafe allowed"
    imgproxy = f"hmac-sha256, {len(dialects.imgproxy.key)} key/salt pair(s)" if dialects.imgproxy.key else "off"
    return {
        "thumbor": thumbor,
        "imgproxy": imgproxy,
        "imgix": "md5 token" if dialects.imgix.token else "off",
        "cloudinary": "sha1 secret (optional per URL)" if dialects.cloudinary.api_secret else "no secret",
    }


def proxy_report(settings: Settings, keys: KeyCounts | None = None) -> dict[str, Any]:
    mounts = {
        "thumbor": settings.dialects.thumbor,
        "imgproxy": settings.dialects.imgproxy,
        "imgix": settings.dialects.imgix,
        "cloudinary": settings.dialects.cloudinary,
    }
    signing = _signing(settings)
    enabled: dict[str, dict[str, Any]] = {
        name: {"prefix": mount.prefix, "signing": signing[name], "clientId": mount.client_id}
        for name, mount in mounts.items()
        if mount.enabled
    }
    if settings.dialects.imgix.enabled and settings.dialects.imgix.origin:
        enabled["imgix"]["origin"] = settings.dialects.imgix.origin
    proxy = settings.proxy
    return {
        "dialects": enabled,
        "clientKeys": None if keys is None else {name: dict(counts) for name, counts in keys.items()},
        "allowedSources": list(proxy.allowed_sources),
        "originTtlSeconds": proxy.origin_ttl_seconds,
        "allowPrivateNetworks": settings.fetch.allow_private_networks,
    }


def _unsigned(settings: Settings) -> dict[str, str]:
    """The enabled dialects whose settings let unsigned URLs through, each with why."""
    dialects = settings.dialects
    found = {
        "thumbor": "dialects.thumbor.allow_unsafe" if dialects.thumbor.allow_unsafe else "",
        "imgproxy": "dialects.imgproxy has no key" if not dialects.imgproxy.key else "",
        "imgix": "dialects.imgix has no token" if dialects.imgix.token is None else "",
        "cloudinary": "dialects.cloudinary has no api_secret" if dialects.cloudinary.api_secret is None else "",
    }
    return {name: why for name, why in found.items() if why and getattr(dialects, name).enabled}


def _signing_warning(name: str, why: str, clients: int | None) -> str | None:
    if clients == 0:  # nobody's URLs are signed: the render budget is all that limits strangers
        return (
            f"{why} and no client holds its own {name} keys: no {name} URL is signed, anyone may have any size of "
            "any public image rendered (only transforms.stranger_renders_per_minute limits it)"
        )
    if name == "cloudinary":  # Cloudinary URLs may be unsigned anyway: only the instance's cloud cannot sign
        return None
    if name == "thumbor":
        return f"{why}: anyone may have any size of any public image rendered (except clients with own keys)"
    return f"{why}: {name} URLs are not signed (except for clients with own keys)"


def proxy_warnings(settings: Settings, keys: KeyCounts | None = None) -> list[str]:
    """`keys` (from `client_key_counts`) sharpens the signing warnings; None: the settings alone speak."""
    found = []
    for name, why in _unsigned(settings).items():
        clients = None if keys is None else keys.get(name, {}).get("clients", 0)
        warning = _signing_warning(name, why, clients)
        if warning is not None:
            found.append(warning)
    if _thumbor_refuses_all(settings, keys):
        found.append(
            "dialects.thumbor has no security_key, unsafe URLs are off and no client holds its own thumbor keys: "
            "every thumbor URL is refused"
        )
    return found + _origin_warnings(settings)


def _thumbor_refuses_all(settings: Settings, keys: KeyCounts | None) -> bool:
    thumbor = settings.dialects.thumbor
    if not thumbor.enabled or thumbor.security_key is not None or thumbor.allow_unsafe or keys is None:
        return False
    return keys.get("thumbor", {}).get("clients", 0) == 0


def _origin_warnings(settings: Settings) -> list[str]:
    found = []
    allowlist = Allowlist(settings.proxy.allowed_sources)
    dropped = len(settings.proxy.allowed_sources) - len(allowlist.prefixes)
    if dropped:
        found.append(f"proxy.allowed_sources: {dropped} entr(y/ies) are not http(s) URL prefixes and allow nothing")
    origin = settings.dialects.imgix.origin
    if settings.dialects.imgix.enabled and origin:
        normalised = normalise(origin)
        if normalised is None or not allowlist.allows(normalised):
            found.append("dialects.imgix.origin is not under proxy.allowed_sources: every imgix path is refused")
    if allowlist.enabled and settings.fetch.allow_private_networks:
        found.append("fetch.allow_private_networks: remote origins may reach loopback and private addresses")
    return found


def _own_keys(counts: Mapping[str, int] | None) -> str:
    if counts is None:
        return "own keys unknown (database unreadable)"
    return f"own keys: {counts['clients']} client(s), {counts['keys']} key(s)"


def proxy_lines(report: dict[str, Any]) -> list[str]:
    keys = report["clientKeys"]
    lines = [
        f"proxy {name} at {item['prefix']}: signing {item['signing']}, "
        f"client {item['clientId'] or 'any (public only)'}, {_own_keys(None if keys is None else keys[name])}"
        for name, item in report["dialects"].items()
    ]
    if report["dialects"]:
        sources = report["allowedSources"]
        if sources:
            ttl = report["originTtlSeconds"]
            lines.append(f"proxy remote origins allowed under: {', '.join(sources)} (revalidated after {ttl} s)")
        else:
            lines.append("proxy remote origins: none allowed (proxy.allowed_sources is empty: only hosted images)")
    return lines
