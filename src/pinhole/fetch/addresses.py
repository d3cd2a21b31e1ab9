"""Which IP addresses the fetcher may connect to: public ones; private ones only when the operator allows them.

Always refused, whatever the settings: unspecified (0.0.0.0/8, ::), link-local (169.254/16, fe80::/10), multicast,
reserved and broadcast, site-local, and the cloud metadata services (169.254.169.254, fd00:ec2::254 and the other
clouds' well-known addresses). Refused unless `allow_private`: loopback, RFC 1918, CGNAT (100.64/10), unique local
(fc00::/7) and every other address that is not globally routable. An IPv6 address that embeds an IPv4 one
(IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged by that IPv4
address too, so `::ffff:127.0.0.1` is loopback.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.123",  # AWS time sync
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (legacy)
        "fd00:ec2::254",  # AWS over IPv6
        "fd00:ec2::23",  # AWS DNS over IPv6
    )
)
ALWAYS_REFUSED = tuple(
    ipaddress.ip_network(text)
    for text in ("0.0.0.0/8", "240.0.0.0/4", "255.255.255.255/32", "::/128", "fec0::/10", "100::/64")
)
PRIVATE = tuple(
    ipaddress.ip_network(text)
    for text in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "::1/128", "fc00::/7")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or (int(address) >> 32 == 0 and int(address) > 1):  # NAT64, or IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why the fetcher must not connect to `address`, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return refusal(inner, allow_private=allow_private) or _own_refusal(address, allow_private, embedded=True)
    return _own_refusal(address, allow_private, embedded=False)


def _own_refusal(address: IPAddress, allow_private: bool, *, embedded: bool) -> str | None:
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_unspecified or any(address in net for net in ALWAYS_REFUSED if net.version == address.version):
        return "an unspecified or reserved address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if embedded:
        return None  # the embedded IPv4 address decided
    if allow_private:
        return None
    if address.is_loopback:
        return "a loopback address"
    if any(address in net for net in PRIVATE if net.version == address.version):
        return "a private address"
    if not address.is_global:
        return "an address that is not public"
    return None
