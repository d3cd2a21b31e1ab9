"""The fetcher for hostile targets: refusals case by case (with private networks refused, as by default), and
what it does for allowed targets (a real origin on loopback, with private networks allowed)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from pinhole.errors import FetchFailed, FetchRefused, PayloadTooLarge
from pinhole.fetch import Fetched, Fetcher, FetchPolicy, Resolver, system_resolver
from tests.support.origin import ETAG, LAST_MODIFIED, Origin, run_origin
from tests.support.routing import PUBLIC, route_public_to_loopback

pytestmark = pytest.mark.anyio

LIMIT = 1 << 20


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with run_origin() as running:
        yield running


def resolver_of(table: dict[str, list[str]]) -> Resolver:
    """A resolver answering from `table` (names the tests make up), the system's for anything else."""

    async def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return table[host]
        return await system_resolver(host, port)

    return resolve


NAMES = {
    "loopback.test": ["127.0.0.1"],
    "loopback6.test": ["::1"],
    "private.test": ["10.0.0.7"],
    "mixed.test": ["93.184.215.14", "192.168.1.1"],  # one public answer does not make the other one safe
    "metadata.test": ["169.254.169.254"],
    "zero.test": ["0.0.0.0"],  # noqa: S104 (an address to refuse, not to bind)
    "public.test": [PUBLIC],  # routed to the loopback origin by `route_public_to_loopback`
}


def fetcher(*, allow_private: bool, timeout: float = 20.0) -> Fetcher:
    return Fetcher(FetchPolicy(allow_private=allow_private, timeout=timeout), resolver=resolver_of(NAMES))


async def get(fetcher: Fetcher, url: str, tmp_path: Path) -> Fetched:
    return await fetcher.fetch(url, dest=tmp_path / "body", max_bytes=LIMIT)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1.2.3",
        "[::1]",
        "2130706433",  # 127.0.0.1 spelled as one decimal number
        "0x7f.1",  # ... in hex, short form
        "0177.0.0.1",  # ... in octal
        "017700000001",  # ... one octal number
        "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
        "[::ffff:7f00:1]",
        "[64:ff9b::7f00:1]",  # NAT64
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "100.64.0.1",  # CGNAT
        "[fc00::1]",
        "[fd12:3456::1]",
        "[::ffff:10.0.0.1]",
        "localhost",  # the system resolver's name for loopback
        "loopback.test",  # DNS names resolving to loopback or private addresses
        "loopback6.test",
        "private.test",
        "mixed.test",
    ],
)
async def test_private_targets_are_refused_by_default(origin: Origin, tmp_path: Path, host: str) -> None:
    with pytest.raises(FetchRefused) as refused:
        await get(fetcher(allow_private=False), f"http://{host}:{origin.port}/image.jpg", tmp_path)
    assert refused.value.status == 400
    assert refused.value.field == "url"
    # Refused for what the host is (httpx itself rejects a dotted octal spelling as an invalid address).
    expected = "Not a valid URL" if host == "0177.0.0.1" else "resolves to a"
    assert expected in refused.value.message
    assert not (tmp_path / "body").exists()


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",  # cloud metadata
        "[fd00:ec2::254]",
        "[::ffff:169.254.169.254]",
        "metadata.test",
        "169.254.1.1",  # link-local
        "[fe80::1]",
        "0.0.0.0",  # noqa: S104 (unspecified: refused)
        "0",
        "[::]",
        "zero.test",
        "224.0.0.1",  # multicast
        "[ff02::1]",
        "255.255.255.255",
    ],
)
async def test_some_targets_are_refused_even_on_private_networks(origin: Origin, tmp_path: Path, host: str) -> None:
    with pytest.raises(FetchRefused):
        await get(fetcher(allow_private=True), f"http://{host}:{origin.port}/image.jpg", tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x.jpg",
        "gopher://127.0.0.1:70/_",
        "http://user:pass@127.0.0.1/x.jpg",
        "http:///nohost",
        "not a url at all",
    ],
)
async def test_other_schemes_and_credentials_are_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(FetchRefused):
        await get(fetcher(allow_private=True), url, tmp_path)


async def test_a_redirect_target_is_checked_again(origin: Origin, tmp_path: Path) -> None:
    allowed = fetcher(allow_private=True)
    for target in ("http://169.254.169.254/latest/meta-data/", "http://[::]:80/", "http://metadata.test/"):
        with pytest.raises(FetchRefused):
            await get(allowed, f"{origin.base}/to?url={target}", tmp_path)
    with pytest.raises(FetchRefused):  # private networks refused: the same origin's redirect to loopback
        await get(fetcher(allow_private=False), f"{origin.base}/to?url=http://localhost:{origin.port}/", tmp_path)


async def test_with_private_networks_refused_a_public_origin_cannot_redirect_inward(
    origin: Origin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    route_public_to_loopback(monkeypatch)
    refusing = fetcher(allow_private=False)
    public, port = f"http://public.test:{origin.port}", origin.port
    for target in (
        f"http://127.0.0.1:{port}/image.jpg",
        f"http://localhost:{port}/image.jpg",
        f"http://loopback.test:{port}/image.jpg",  # a DNS name that resolves to loopback
        f"http://[::1]:{port}/image.jpg",
        f"http://private.test:{port}/image.jpg",
        "http://metadata.test/computeMetadata/v1/",
    ):
        with pytest.raises(FetchRefused, match="resolves to"):
            await get(refusing, f"{public}/to?url={target}", tmp_path)
        assert not (tmp_path / "body").exists()
    # The route works: the same origin redirecting to its public name is fetched.
    fetched = await get(refusing, f"{public}/to?url={public}/image.jpg", tmp_path)
    assert (fetched.url, fetched.size) == (f"{public}/image.jpg", len(origin.image))


async def test_a_callers_rule_vets_every_redirect_target(origin: Origin, tmp_path: Path) -> None:
    seen: list[str] = []

    def follow(url: str) -> str:
        seen.append(url)
        return url

    allowed = fetcher(allow_private=True)
    fetched = await allowed.fetch(f"{origin.base}/redirect/2", dest=tmp_path / "ok", max_bytes=LIMIT, follow=follow)
    assert seen == [f"{origin.base}/redirect/1", f"{origin.base}/image.jpg"]  # the targets, not the URL asked
    assert fetched.url == f"{origin.base}/image.jpg"

    class Outside(Exception):
        pass

    def refuse(url: str) -> str:
        raise Outside(url)

    with pytest.raises(Outside):
        await allowed.fetch(f"{origin.base}/redirect/1", dest=tmp_path / "no", max_bytes=LIMIT, follow=refuse)
    assert not (tmp_path / "no").exists()
    # What the rule answers is requested, and still passes the address checks.
    swapped = await allowed.fetch(
        f"{origin.base}/to?url=http://169.254.169.254/", dest=tmp_path / "swapped", max_bytes=LIMIT,
        follow=lambda url: f"{origin.base}/image.jpg",
    )  # fmt: skip
    assert (swapped.url, (tmp_path / "swapped").read_bytes()) == (f"{origin.base}/image.jpg", origin.image)
    with pytest.raises(FetchRefused):
        await allowed.fetch(
            f"{origin.base}/redirect/1", dest=tmp_path / "metadata", max_bytes=LIMIT,
            follow=lambda url: "http://169.254.169.254/latest/meta-data/",
        )  # fmt: skip


async def test_at_most_three_redirects(origin: Origin, tmp_path: Path) -> None:
    allowed = fetcher(allow_private=True)
    fetched = await allowed.fetch(f"{origin.base}/redirect/3", dest=tmp_path / "ok", max_bytes=LIMIT)
    assert fetched.url == f"{origin.base}/image.jpg"
    with pytest.raises(FetchRefused):
        await get(allowed, f"{origin.base}/redirect/4", tmp_path)


async def test_fetches_an_allowed_target_with_its_headers(origin: Origin, tmp_path: Path) -> None:
    fetched = await fetcher(allow_private=True).fetch(
        f"{origin.base}/redirect/1", dest=tmp_path / "image", max_bytes=LIMIT
    )
    assert (fetched.status, fetched.url, fetched.size) == (200, f"{origin.base}/image.jpg", len(origin.image))
    assert (tmp_path / "image").read_bytes() == origin.image
    assert (fetched.headers["etag"], fetched.headers["last-modified"]) == (ETAG, LAST_MODIFIED)
    assert fetched.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize("condition", [{"etag": ETAG}, {"last_modified": LAST_MODIFIED}])
async def test_conditional_requests(origin: Origin, tmp_path: Path, condition: dict[str, str]) -> None:
    fetched = await fetcher(allow_private=True).fetch(
        f"{origin.base}/image.jpg",
        dest=tmp_path / "image",
        max_bytes=LIMIT,
        etag=condition.get("etag"),
        last_modified=condition.get("last_modified"),
    )
    assert fetched.not_modified
    assert fetched.path is None
    assert not (tmp_path / "image").exists()


async def test_the_connection_goes_to_the_vetted_address_under_the_name(origin: Origin, tmp_path: Path) -> None:
    # `pinned.test` exists only in this resolver: the request reaching the origin proves where it connected,
    # and the origin saw the name in Host (what TLS would use for SNI and the certificate too).
    pinned = Fetcher(FetchPolicy(allow_private=True), resolver=resolver_of({"pinned.test": ["127.0.0.1"]}))
    fetched = await pinned.fetch(f"http://pinned.test:{origin.port}/echo", dest=tmp_path / "echo", max_bytes=LIMIT)
    seen = json.loads((tmp_path / "echo").read_bytes())
    assert seen["Host"] == f"pinned.test:{origin.port}"
    assert seen["User-Agent"] == "pinhole-fetcher/1.0"
    assert "Cookie" not in seen
    assert fetched.url == f"http://pinned.test:{origin.port}/echo"


async def test_no_cookies_are_kept_across_redirects(origin: Origin, tmp_path: Path) -> None:
    await fetcher(allow_private=True).fetch(f"{origin.base}/set-cookie", dest=tmp_path / "echo", max_bytes=LIMIT)
    assert "Cookie" not in json.loads((tmp_path / "echo").read_bytes())


async def test_the_byte_limit_is_counted_while_streaming(origin: Origin, tmp_path: Path) -> None:
    with pytest.raises(PayloadTooLarge):
        await get(fetcher(allow_private=True), f"{origin.base}/endless", tmp_path)
    with pytest.raises(PayloadTooLarge):  # announced too large: refused before reading
        await get(fetcher(allow_private=True), f"{origin.base}/big", tmp_path)
    assert not (tmp_path / "body").exists()


async def test_a_stalled_target_times_out(origin: Origin, tmp_path: Path) -> None:
    with pytest.raises(FetchFailed) as failed:
        await get(fetcher(allow_private=True, timeout=0.5), f"{origin.base}/stall", tmp_path)
    assert "did not answer" in failed.value.message
    assert not (tmp_path / "body").exists()


@pytest.mark.parametrize("status", [404, 500, 403])
async def test_error_statuses_fail(origin: Origin, tmp_path: Path, status: int) -> None:
    with pytest.raises(FetchFailed) as failed:
        await get(fetcher(allow_private=True), f"{origin.base}/status/{status}", tmp_path)
    assert failed.value.details == {"status": status}


async def test_unreachable_and_unresolvable_hosts_fail(tmp_path: Path) -> None:
    with pytest.raises(FetchFailed):
        await get(fetcher(allow_private=True), "http://127.0.0.1:1/x.jpg", tmp_path)
    with pytest.raises(FetchFailed):
        await get(fetcher(allow_private=True), "http://no-such-host.invalid/x.jpg", tmp_path)


@pytest.fixture
def hung_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Test double: `socket.getaddrinfo` as a DNS server that never answers makes it (it blocks until the test
    ends), under the real `system_resolver`. The event releases the abandoned lookup threads afterwards."""
    release = threading.Event()

    def hung_getaddrinfo(*args: object, **kwargs: object) -> list[object]:
        release.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hung_getaddrinfo)
    yield release
    release.set()


async def test_a_hung_system_resolver_is_abandoned_at_the_deadline(tmp_path: Path, hung_dns: threading.Event) -> None:
    hung = Fetcher(FetchPolicy(allow_private=True, timeout=0.5))
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        await hung.fetch("http://hangs.example/x.jpg", dest=tmp_path / "body", max_bytes=LIMIT)
    assert time.monotonic() - started < 1.5
    assert failed.value.message == "The host 'hangs.example' did not resolve within 0.5 seconds."
    assert not (tmp_path / "body").exists()


async def test_resolving_a_redirect_target_shares_the_fetch_deadline(origin: Origin, tmp_path: Path) -> None:
    """The first hop takes part of the time; the redirect's slow lookup gets only what is left, not a new limit."""

    async def slow_resolver(host: str, port: int) -> list[str]:  # test double: a name server that answers late
        if host == "slow.test":
            await anyio.sleep(10)
        return await system_resolver(host, port)

    slow = Fetcher(FetchPolicy(allow_private=True, timeout=1.0), resolver=slow_resolver)
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        await get(slow, f"{origin.base}/to?url=http://slow.test:{origin.port}/image.jpg", tmp_path)
    assert time.monotonic() - started < 2.0
    assert "'slow.test' did not resolve" in failed.value.message
