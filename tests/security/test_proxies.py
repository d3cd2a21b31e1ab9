"""Client address and scheme: forwarded headers count only from trusted proxies."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from pinhole.api.proxies import client_address, is_https

TRUSTED = ["127.0.0.1/32", "10.0.0.0/8"]


def request(peer: str, headers: dict[str, str], scheme: str = "http") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": raw, "client": (peer, 1234), "scheme": scheme}
    scope |= {"server": ("testserver", 80), "query_string": b""}
    return Request(scope)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("192.168.1.20", "", "192.168.1.20"),  # no proxy
        ("192.168.1.20", "6.6.6.6", "192.168.1.20"),  # untrusted peer cannot claim an address
        ("127.0.0.1", "203.0.113.9", "203.0.113.9"),  # one trusted proxy
        ("10.1.1.1", "203.0.113.9, 10.2.2.2", "203.0.113.9"),  # a chain of trusted proxies
        ("10.1.1.1", "1.1.1.1, 203.0.113.9", "203.0.113.9"),  # a spoofed left-most entry is ignored
        ("127.0.0.1", "", "127.0.0.1"),
    ],
)
def test_client_address(peer: str, forwarded: str, expected: str) -> None:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    assert client_address(request(peer, headers), TRUSTED) == expected


def test_https_is_believed_only_from_a_trusted_proxy() -> None:
    assert is_https(request("127.0.0.1", {"X-Forwarded-Proto": "https"}), TRUSTED)
    assert not is_https(request("192.168.1.20", {"X-Forwarded-Proto": "https"}), TRUSTED)
    assert not is_https(request("127.0.0.1", {"X-Forwarded-Proto": "https"}), [])
    assert not is_https(request("127.0.0.1", {}), TRUSTED)
    assert is_https(request("192.168.1.20", {}, scheme="https"), TRUSTED)
