"""What `pinhole doctor` says about the proxy URL languages: each enabled one, its signing state, its client and
the remote-origin allowlist (empty: proxy mode off, only hosted images are served)."""

from __future__ import annotations

from typing import Any

from pinhole.proxies.allowlist import Allowlist, normalise
from pinhole.settings import Settings


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


def proxy_report(settings: Settings) -> dict[str, Any]:
    mounts = {
        "thumbor": settings.dialects.thumbor,
        "imgproxy": settings.dialects.imgproxy,
        "imgix": settings.dialects.imgix,
        "cloudinary": settings.dialects.cloudinary,
    }
    signing = _signing(settings)
    enabled = {
        name: {"prefix": mount.prefix, "signing": signing[name], "clientId": mount.client_id}
        for name, mount in mounts.items()
        if mount.enabled
    }
    if settings.dialects.imgix.enabled and settings.dialects.imgix.origin:
        enabled["imgix"]["origin"] = settings.dialects.imgix.origin
    proxy = settings.proxy
    return {
        "dialects": enabled,
        "allowedSources": list(proxy.allowed_sources),
        "originTtlSeconds": proxy.origin_ttl_seconds,
        "allowPrivateNetworks": settings.fetch.allow_private_networks,
    }


def proxy_warnings(settings: Settings) -> list[str]:
    dialects = settings.dialects
    found = []
    if dialects.thumbor.enabled and dialects.thumbor.allow_unsafe:
        found.append("dialects.thumbor.allow_unsafe: anyone may have any size of any public image rendered")
    if dialects.imgproxy.enabled and not dialects.imgproxy.key:
        found.append("dialects.imgproxy has no key: imgproxy URLs are not signed (except for clients with own keys)")
    if dialects.imgix.enabled and dialects.imgix.token is None:
        found.append("dialects.imgix has no token: imgix URLs are not signed (except for clients with own keys)")
    found += _origin_warnings(settings)
    return found


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


def proxy_lines(report: dict[str, Any]) -> list[str]:
    lines = [
        f"proxy {name} at {item['prefix']}: signing {item['signing']}, client {item['clientId'] or 'any (public only)'}"
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
