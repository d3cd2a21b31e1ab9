"""Who is on the other end: the client address and scheme, believing `X-Forwarded-*` only from trusted proxies.

Rate limits and sign-in back-off count by this address; cookies get `Secure` when this scheme is https.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _trusted(address: str | None, cidrs: Sequence[str]) -> bool:
    if not address or not cidrs:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(cidrs)))


def is_trusted_address(address: str, cidrs: Sequence[str]) -> bool:
    """Whether `address` (a peer's) belongs to one of the trusted proxies' networks."""
    return _trusted(address, cidrs)


def _peer(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else ""


def client_address(conn: HTTPConnection, trusted_proxies: Sequence[str]) -> str:
    """The first address in `X-Forwarded-For` (read right to left) that is not a trusted proxy, else the peer."""
    address = _peer(conn)
    if not _trusted(address, trusted_proxies):
        return address
    forwarded = [part.strip() for part in conn.headers.get("x-forwarded-for", "").split(",") if part.strip()]
    for hop in reversed(forwarded):
        address = hop
        if not _trusted(hop, trusted_proxies):
            break
    return address


def is_https(conn: HTTPConnection, trusted_proxies: Sequence[str]) -> bool:
    """Whether the client's request came over HTTPS: the scheme, or `X-Forwarded-Proto` from a trusted proxy."""
    if conn.url.scheme in ("https", "wss"):
        return True
    if not _trusted(_peer(conn), trusted_proxies):
        return False
    proto = conn.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https"
