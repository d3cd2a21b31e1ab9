"""Which remote origin URLs a proxy URL may name: those under a prefix of `proxy.allowed_sources`.

Both sides are normalised before comparing: scheme and host lower-cased, the host IDNA-encoded, the default port
made explicit, dot segments resolved. A prefix matches a URL of the same scheme, host and port whose path starts
with the prefix's path, cut at a `/` (so `https://a.com/img` allows `/img/x.jpg` and `/img`, never `/imgs/x.jpg`);
a prefix naming only an origin allows its whole site. URLs with user info, fragments, other schemes, no host, or
an encoded slash, dot or backslash in the path never match, so `https://a.com@evil/` and `https://a.com.evil/` stay out.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from pinhole.errors import Forbidden

DEFAULT_PORTS = {"http": 80, "https": 443}
HIDDEN = ("%2f", "%2e", "%5c", "\\")  # encoded slash, dot and backslash, and a bare backslash


class SourceNotAllowed(Forbidden):
    code = "source_not_allowed"


@dataclass(frozen=True)
class Normalised:
    scheme: str
    host: str
    port: int
    path: str  # percent-encoded as sent, dot segments resolved, always starting with `/`
    query: str

    @property
    def url(self) -> str:
        port = "" if DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}{port}{self.path}" + (f"?{self.query}" if self.query else "")


def normalise(text: str) -> Normalised | None:
    """The comparable form of an absolute http(s) URL; None when it is not one or carries user info."""
    try:
        url = httpx.URL(text)
        host = url.raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, TypeError, ValueError, UnicodeError):
        return None
    if url.scheme not in DEFAULT_PORTS or not host or url.userinfo or url.fragment or "@" in text.split("?")[0]:
        return None
    raw_path = url.raw_path.decode("ascii")
    path, _, query = raw_path.partition("?")
    if any(hidden in path.lower() for hidden in HIDDEN):  # an origin might decode them into `/` or `..`
        return None
    resolved = posixpath.normpath(path or "/")
    if path.endswith("/") and resolved != "/":
        resolved += "/"
    resolved = "/" + resolved.lstrip("/")  # normpath keeps a leading `//`
    return Normalised(url.scheme, host.rstrip("."), url.port or DEFAULT_PORTS[url.scheme], resolved, query)


class Allowlist:
    """The configured prefixes; `check(url)` answers the normalised URL to fetch or raises SourceNotAllowed."""

    def __init__(self, prefixes: Iterable[str]):
        self.prefixes = tuple(found for found in (normalise(text) for text in prefixes) if found is not None)

    @property
    def enabled(self) -> bool:
        return bool(self.prefixes)

    def allows(self, url: Normalised) -> bool:
        return any(_under(url, prefix) for prefix in self.prefixes)

    def check(self, text: str) -> str:
        if not self.prefixes:
            raise SourceNotAllowed("Remote sources are not allowed here (proxy.allowed_sources is empty).")
        url = normalise(text)
        if url is None or not self.allows(url):
            raise SourceNotAllowed("This source URL is not under an allowed prefix (proxy.allowed_sources).")
        return url.url


def _under(url: Normalised, prefix: Normalised) -> bool:
    if (url.scheme, url.host, url.port) != (prefix.scheme, prefix.host, prefix.port):
        return False
    if prefix.query:
        return url.path == prefix.path and url.query.startswith(prefix.query)
    base = prefix.path
    if base.endswith("/"):
        return url.path.startswith(base)
    return url.path == base or url.path.startswith(base + "/")
