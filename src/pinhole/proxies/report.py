"""What `pinhole doctor` says about the proxy URL languages: each enabled one, its signing state, its client and
the remote-origin allowlist (none: proxy mode is not built, so only hosted images are served)."""

from __future__ import annotations

from typing import Any

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
    return {"dialects": enabled, "allowedSources": []}


def proxy_warnings(settings: Settings) -> list[str]:
    dialects = settings.dialects
    found = []
    if dialects.thumbor.enabled and dialects.thumbor.allow_unsafe:
        found.append("dialects.thumbor.allow_unsafe: anyone may have any size of any public image rendered")
    if dialects.imgproxy.enabled and not dialects.imgproxy.key:
        found.append("dialects.imgproxy has no key: imgproxy URLs are not signed (except for clients with own keys)")
    if dialects.imgix.enabled and dialects.imgix.token is None:
        found.append("dialects.imgix has no token: imgix URLs are not signed (except for clients with own keys)")
    return found


def proxy_lines(report: dict[str, Any]) -> list[str]:
    lines = [
        f"proxy {name} at {item['prefix']}: signing {item['signing']}, client {item['clientId'] or 'any (public only)'}"
        for name, item in report["dialects"].items()
    ]
    if report["dialects"]:
        lines.append("proxy remote origins: none allowed (only hosted images)")
    return lines
