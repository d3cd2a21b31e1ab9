"""The remote-origin allowlist: prefixes match after normalisation, at a `/` boundary, and tricks stay out."""

from __future__ import annotations

import pytest

from pinhole.proxies.allowlist import Allowlist, SourceNotAllowed

PREFIXES = ["https://images.example.com/photos/", "http://Static.Example.org:8080/img", "https://cdn.example.net"]


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://images.example.com/photos/a.jpg", "https://images.example.com/photos/a.jpg"),
        ("HTTPS://IMAGES.EXAMPLE.COM:443/photos/a.jpg", "https://images.example.com/photos/a.jpg"),
        ("https://images.example.com./photos/sub/b.png?x=1", "https://images.example.com/photos/sub/b.png?x=1"),
        ("https://images.example.com/photos/x/../a.jpg", "https://images.example.com/photos/a.jpg"),
        ("http://static.example.org:8080/img", "http://static.example.org:8080/img"),
        ("http://static.example.org:8080/img/a.gif", "http://static.example.org:8080/img/a.gif"),
        ("https://cdn.example.net/anything/at/all.jpg", "https://cdn.example.net/anything/at/all.jpg"),
    ],
)
def test_urls_under_a_prefix_are_allowed(url: str, normalised: str) -> None:
    assert Allowlist(PREFIXES).check(url) == normalised


@pytest.mark.parametrize(
    "url",
    [
        "https://images.example.com.evil.net/photos/a.jpg",  # a longer host
        "https://images.example.com@evil.net/photos/a.jpg",  # user info naming the allowed host
        "https://user:pw@images.example.com/photos/a.jpg",  # any user info
        "https://evil.net/photos/a.jpg?https://images.example.com/photos/",
        "https://evil.net/https://images.example.com/photos/a.jpg",
        "http://images.example.com/photos/a.jpg",  # another scheme
        "https://images.example.com:8443/photos/a.jpg",  # another port
        "https://images.example.com/photosx/a.jpg",  # not at a `/` boundary
        "https://images.example.com/photos/../private/a.jpg",  # climbs out
        "https://images.example.com/photos/%2e%2e/private/a.jpg",  # encoded dots an origin may decode
        "https://images.example.com/photos/..%2fprivate/a.jpg",
        "https://images.example.com/photos\\..\\private/a.jpg",
        "http://static.example.org:8080/images/a.gif",  # `/img` does not allow `/images`
        "http://static.example.org/img/a.gif",  # the default port is not 8080
        "https://images.example.com/photos/a.jpg#frag",
        "ftp://images.example.com/photos/a.jpg",
        "//images.example.com/photos/a.jpg",
        "images.example.com/photos/a.jpg",
        "https:///photos/a.jpg",
    ],
)
def test_urls_outside_every_prefix_are_refused(url: str) -> None:
    with pytest.raises(SourceNotAllowed):
        Allowlist(PREFIXES).check(url)


def test_an_empty_allowlist_refuses_everything() -> None:
    allowlist = Allowlist([])
    assert not allowlist.enabled
    with pytest.raises(SourceNotAllowed, match="not allowed here"):
        allowlist.check("https://images.example.com/photos/a.jpg")


def test_prefixes_that_are_not_urls_allow_nothing() -> None:
    allowlist = Allowlist(["images.example.com/", "*", "https://u:p@images.example.com/"])
    assert not allowlist.enabled


def test_idn_hosts_compare_in_their_ascii_form() -> None:
    allowlist = Allowlist(["https://bücher.example/"])
    assert allowlist.check("https://xn--bcher-kva.example/a.jpg") == "https://xn--bcher-kva.example/a.jpg"
    assert allowlist.check("https://BÜCHER.example/a.jpg") == "https://xn--bcher-kva.example/a.jpg"
