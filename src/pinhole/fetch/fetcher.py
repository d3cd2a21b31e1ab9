"""`Fetcher`: GET a URL someone else chose, as if the target were hostile.

Each hop (the URL, then every redirect, at most `max_redirects`): only http and https, no credentials in the URL;
the host is resolved first and every address it resolves to is checked (`addresses.refusal`); the connection then
goes to the vetted address itself, so a second DNS answer cannot swap in another one (DNS rebinding), while the
Host header, TLS SNI and certificate check keep the name. No cookies are kept or sent, no proxy is taken from
the environment, the User-Agent says who is fetching, and the whole fetch (every hop's name resolution, connection
and body) has one deadline and a byte limit counted while streaming (decoded bytes, so a compressed bomb stops at
the limit). Name resolution runs under that deadline too: the system resolver's getaddrinfo runs in a worker thread
that is abandoned when the deadline passes (a hung DNS server cannot hold the request). An injected `Resolver`
must be cancellable (await, not block) for the deadline to hold.

Conditional requests (`etag`, `last_modified`) answer `not_modified` on 304; `Fetched` gives the final URL and the
response headers. A caller with its own rule for where a fetch may go (remote origins: the allowlist) passes it as
`follow`, which every redirect target must pass too. Used by URL uploads (`pinhole.services.url_uploads`) and
remote origins (`pinhole.services.remote_origins`).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import anyio
import httpcore
import httpx

from pinhole.errors import FetchFailed, FetchRefused, PayloadTooLarge
from pinhole.fetch.addresses import IPAddress, refusal
from pinhole.uploads.limits import human_size

Resolver = Callable[[str, int], Awaitable[list[str]]]
Follow = Callable[[str], str]
"""A caller's rule for redirect targets: the URL to request in place of the one given, or an exception raised."""
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 65536


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer (getaddrinfo): every address, IPv4 and IPv6.

    Runs in an anyio worker thread that a cancelled caller abandons: the deadline holds while the lookup hangs,
    and the hung thread (left to finish when the OS gives up) is not one of the event loop's executor's few.
    """
    lookup = functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    infos = await anyio.to_thread.run_sync(lookup, abandon_on_cancel=True)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class FetchPolicy:
    allow_private: bool = False
    timeout: float = 20.0
    max_redirects: int = 3
    user_agent: str = "pinhole-fetcher/1.0"


@dataclass(frozen=True)
class Fetched:
    url: str  # the final URL, after redirects
    status: int
    headers: httpx.Headers
    path: Path | None  # where the body was written; None when not modified
    size: int
    sha256: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    def __init__(self, policy: FetchPolicy, *, resolver: Resolver = system_resolver) -> None:
        self.policy = policy
        self.resolver = resolver

    async def fetch(
        self,
        url: str,
        *,
        dest: Path,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
        follow: Follow | None = None,
    ) -> Fetched:
        """GET `url` into the new file `dest` (deleted again on any error). Raises `FetchRefused` for a URL or
        address it will not fetch, `FetchFailed` when the target fails, `PayloadTooLarge` past `max_bytes`.
        `follow` vets each redirect target before the address checks (what it raises propagates)."""
        conditions = {"If-None-Match": etag, "If-Modified-Since": last_modified}
        headers = {k: v for k, v in conditions.items() if v} | {"Accept": "image/*,*/*;q=0.5"}
        stage = _Stage()
        try:
            with anyio.fail_after(self.policy.timeout):
                return await self._follow(
                    url, headers=headers, dest=dest, max_bytes=max_bytes, stage=stage, follow=follow
                )
        except TimeoutError:
            await anyio.Path(dest).unlink(missing_ok=True)
            if stage.resolving is not None:
                message = f"The host {stage.resolving!r} did not resolve within {self.policy.timeout:g} seconds."
            else:
                message = f"The URL did not answer within {self.policy.timeout:g} seconds."
            raise FetchFailed(message, field="url") from None
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.Path(dest).unlink(missing_ok=True)
            raise

    async def _follow(
        self, url: str, *, headers: dict[str, str], dest: Path, max_bytes: int, stage: _Stage, follow: Follow | None
    ) -> Fetched:
        for hop in range(self.policy.max_redirects + 1):
            if hop and follow is not None:
                url = follow(url)
            target = parse_url(url)
            address = await self._vet(target, stage=stage)
            async with _client(target, address, self.policy) as client:
                request = client.build_request("GET", target, headers=headers)
                try:
                    response = await client.send(request, stream=True)
                except httpx.HTTPError as exc:
                    raise FetchFailed("The URL could not be reached.", field="url") from exc
                try:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECTS and location:
                        url = urljoin(str(target), location)
                        continue
                    return await _receive(response, str(target), dest=dest, max_bytes=max_bytes)
                finally:
                    await response.aclose()
        raise FetchRefused(f"The URL redirects more than {self.policy.max_redirects} times.", field="url")

    async def _vet(self, url: httpx.URL, *, stage: _Stage) -> IPAddress:
        """Resolve the URL's host and check every address; return the one to connect to."""
        host = url.raw_host.decode("ascii")  # IDNA-encoded: the name that is resolved, pinned and connected
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            found = [literal]
        else:
            answers = await self._resolve(host, url.port or _default_port(url), stage=stage)
            found = [ipaddress.ip_address(answer.split("%")[0]) for answer in answers]
        if not found:
            raise FetchFailed(f"The host {host!r} could not be resolved.", field="url")
        for address in found:  # one bad answer refuses the host: the next lookup might pick that one
            why = refusal(address, allow_private=self.policy.allow_private)
            if why is not None:
                raise FetchRefused(f"The URL's host resolves to {why}; it is not fetched.", field="url")
        return found[0]

    async def _resolve(self, host: str, port: int, *, stage: _Stage) -> list[str]:
        """The resolver's answer, under the whole fetch's deadline (`stage` names the host if it passes here)."""
        stage.resolving = host  # left set when the deadline cancels the lookup
        try:
            answers = await self.resolver(host, port)
        except OSError:
            raise FetchFailed(f"The host {host!r} could not be resolved.", field="url") from None
        stage.resolving = None
        return answers


@dataclass
class _Stage:
    """Where one fetch is, for the message when its deadline passes."""

    resolving: str | None = None  # the host name being resolved


def parse_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise FetchRefused("Not a valid URL.", field="url") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchRefused("Only http and https URLs are fetched.", field="url")
    if not parsed.host:
        raise FetchRefused("The URL has no host.", field="url")
    if parsed.userinfo:
        raise FetchRefused("URLs with a user name or password are not fetched.", field="url")
    return parsed


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


async def _receive(response: httpx.Response, url: str, *, dest: Path, max_bytes: int) -> Fetched:
    if response.status_code == 304:
        return Fetched(url=url, status=304, headers=response.headers, path=None, size=0, sha256=None)
    if response.status_code != 200:
        raise FetchFailed(
            f"The URL answered HTTP {response.status_code}.", field="url", details={"status": response.status_code}
        )
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    digest, size = hashlib.sha256(), 0
    async with await anyio.open_file(dest, "xb") as out:
        try:
            async for chunk in response.aiter_bytes(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(max_bytes)
                digest.update(chunk)
                await out.write(chunk)
        except httpx.HTTPError as exc:
            raise FetchFailed("The URL's answer broke off.", field="url") from exc
    return Fetched(url=url, status=200, headers=response.headers, path=dest, size=size, sha256=digest.hexdigest())


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file at the URL is too large: the limit is {human_size(limit)}.",
        field="url",
        details={"limit": limit, "field": "url"},
    )


def _client(url: httpx.URL, address: IPAddress, policy: FetchPolicy) -> httpx.AsyncClient:
    """A client for one hop, whose every connection goes to `address` (a fresh one: no cookies carried over)."""
    pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl.create_default_context(),
        network_backend=PinnedBackend({url.raw_host.decode("ascii"): str(address)}),
        max_connections=1,
    )
    return httpx.AsyncClient(
        transport=PoolTransport(pool),
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(policy.timeout),
        headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
    )


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects a vetted host name to its vetted address; any other host is refused (never resolved here)."""

    def __init__(self, pins: dict[str, str]) -> None:
        self.pins = pins
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = self.pins.get(host.strip("[]"))
        if address is None:
            raise httpcore.ConnectError(f"host {host!r} was not vetted")
        return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class PoolTransport(httpx.AsyncBaseTransport):
    """An httpx transport over a given httpcore pool (httpx's own builds its pool with the default backend)."""

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self.pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            response = await self.pool.handle_async_request(core)
        except httpcore.TimeoutException as exc:
            raise httpx.TimeoutException(str(exc), request=request) from exc
        except httpcore.ConnectError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except httpcore.NetworkError as exc:
            raise httpx.NetworkError(str(exc), request=request) from exc
        except httpcore.ProtocolError as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_CoreStream(response),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()


class _CoreStream(httpx.AsyncByteStream):
    def __init__(self, response: httpcore.Response) -> None:
        self.response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self.response.aiter_stream():
                yield part
        except httpcore.TimeoutException as exc:
            raise httpx.ReadTimeout(str(exc)) from exc
        except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
            raise httpx.ReadError(str(exc)) from exc

    async def aclose(self) -> None:
        await self.response.aclose()
