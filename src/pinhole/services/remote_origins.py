"""Remote originals: images at allowed origin URLs, fetched for the proxy URL languages and kept like uploads.

A URL under `proxy.allowed_sources` is fetched by the hostile-target fetcher (`pinhole.fetch`; each redirect it
follows must stay under the allowlist too), checked and normalised like an upload (`services.ingest.prepare_file`:
sniffed, pixel and frame limits before decoding, polyglots refused), and stored as an original blob by content
hash, which a `remote_originals` row (one per normalised URL) aliases like an image. Both live in the database and
blob store every instance shares. For `proxy.origin_ttl_seconds` the copy is served as is; then the next request
asks the origin again with its ETag / Last-Modified: 304 keeps the copy, 200 replaces it (and releases the old
blob). Concurrent requests for one URL share one fetch (`SingleFlight` in a process, `SharedFlight` across
instances with Redis); a stranger pays for the fetch it causes from the render budget (`get(charge=...)`). The
rows count against the variant-cache budget and are evicted with variants (`services.variant_cache`).
docs/proxies.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import anyio
from sqlalchemy import update

from pinhole.concurrency.pool import WorkerPool
from pinhole.concurrency.singleflight import SingleFlight
from pinhole.db.engine import Database
from pinhole.db.models import RemoteOriginal, utcnow
from pinhole.fetch import Fetched, Fetcher
from pinhole.proxies.allowlist import Allowlist, SourceNotAllowed
from pinhole.services import blobs
from pinhole.services.ingest import IngestPolicy, Prepared, prepare_file, store_originals
from pinhole.shared.locks import SharedFlight
from pinhole.storage.base import BlobStore

Charge = Callable[[], Awaitable[None]]
TOUCH_EVERY = 60.0  # seconds between two writes of one URL's last access (eviction is coarser than that)


@dataclass(frozen=True)
class RemoteCopy:
    """The stored copy of one origin URL: what serving and rendering it need."""

    url: str
    content_hash: str
    mime_type: str
    format: str
    width: int
    height: int
    size: int
    checked_at: float  # epoch seconds of the last 200 or 304 from the origin


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _copy(row: RemoteOriginal) -> RemoteCopy:
    checked = row.checked_at if row.checked_at.tzinfo else row.checked_at.replace(tzinfo=UTC)
    return RemoteCopy(
        url=row.url,
        content_hash=row.content_hash,
        mime_type=row.mime_type,
        format=row.format,
        width=row.width,
        height=row.height,
        size=row.size,
        checked_at=checked.timestamp(),
    )


@dataclass
class RemoteOrigins:
    db: Database
    store: BlobStore
    pool: WorkerPool
    fetcher: Fetcher
    policy: IngestPolicy
    allowlist: Allowlist
    ttl: float
    max_bytes: int
    tmp_dir: Path
    shared: SharedFlight | None = None
    clock: Callable[[], float] = time.time  # tests move time forward
    flights: SingleFlight[RemoteCopy] = field(default_factory=SingleFlight)
    fetches: int = 0  # fetches this process made, conditional ones included (observability, tests)
    known: OrderedDict[str, RemoteCopy] = field(default_factory=OrderedDict)
    touched: dict[str, float] = field(default_factory=dict)

    def now(self) -> float:
        return self.clock()

    def _checked_at(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    async def get(self, url: str, *, charge: Charge | None = None) -> RemoteCopy:
        """The stored copy of `url`, fetched or revalidated now when it has none or it is older than the TTL.
        `charge` is awaited just before this process asks the origin (a stranger's render budget: it raises to
        refuse); a copy found fresh costs nothing. Raises SourceNotAllowed outside the allowlist, and the
        fetcher's and ingest's errors."""
        normalised = self.allowlist.check(url)
        key = url_hash(normalised)
        found = self.known.get(key)
        if found is None or not self._fresh(found):
            found = await self.flights.run(key, self._refresh(normalised, key, charge))
        await self._touch(key)
        return found

    async def drop(self, url: str, content_hash: str) -> None:
        """Forget the copy of `url` whose blob went (`content_hash`): the next `get` fetches it again. A row that
        names other content (another instance replaced the copy meanwhile) stays."""
        key = url_hash(self.allowlist.check(url))
        self.known.pop(key, None)
        async with self.db.writer() as session:
            row = await session.get(RemoteOriginal, key, with_for_update=True)
            if row is not None and row.content_hash == content_hash:
                await session.delete(row)
                await session.flush()
                await blobs.release_blob(session, self.store, content_hash)

    def _fresh(self, copy: RemoteCopy) -> bool:
        return self.now() - copy.checked_at < self.ttl

    def _remember(self, key: str, copy: RemoteCopy) -> RemoteCopy:
        self.known[key] = copy
        self.known.move_to_end(key)
        if len(self.known) > 10_000:
            self.known.popitem(last=False)
        return copy

    async def _row(self, key: str) -> RemoteOriginal | None:
        async with self.db.reader() as session:
            return await session.get(RemoteOriginal, key)

    async def _fresh_row(self, key: str) -> RemoteCopy | None:
        row = await self._row(key)
        return None if row is None or not self._fresh(_copy(row)) else _copy(row)

    async def _refresh(self, url: str, key: str, charge: Charge | None) -> RemoteCopy:
        # Looked up again inside the flight: another instance (or an earlier flight) may have fetched it.
        found = await self._fresh_row(key)
        if found is None and self.shared is not None:
            found = await self.shared.run(
                f"origin:{key}", lookup=lambda: self._fresh_row(key), make=lambda: self._fetch(url, key, charge)
            )
        elif found is None:
            found = await self._fetch(url, key, charge)
        return self._remember(key, found)

    async def _fetch(self, url: str, key: str, charge: Charge | None) -> RemoteCopy:
        if charge is not None:  # before any request leaves: a refused caller costs the origin nothing
            await charge()
        row = await self._row(key)
        dest = self.tmp_dir / f"upload-origin-{secrets.token_hex(16)}.part"  # the sweep clears leftovers
        self.fetches += 1
        fetched = await self.fetcher.fetch(
            url,
            dest=dest,
            max_bytes=self.max_bytes,
            etag=row.etag if row is not None else None,
            last_modified=row.last_modified if row is not None else None,
            follow=self._redirect_target,
        )
        try:
            if fetched.not_modified and row is not None:
                return await self._confirmed(key, fetched)
            assert fetched.path is not None
            assert fetched.sha256 is not None
            prepared = await prepare_file(
                pool=self.pool, policy=self.policy, path=fetched.path, sha256=fetched.sha256, limit=self.max_bytes
            )
            try:
                return await self._store(url, key, fetched, prepared, old=row.content_hash if row else None)
            finally:
                prepared.discard()
        finally:
            await anyio.Path(dest).unlink(missing_ok=True)

    def _redirect_target(self, url: str) -> str:
        """Where an origin redirects must be under the allowlist as well: an allowed origin cannot hand the
        fetcher on to a URL the operator did not allow."""
        try:
            return self.allowlist.check(url)
        except SourceNotAllowed:
            message = "The source URL redirects outside the allowed prefixes (proxy.allowed_sources)."
            raise SourceNotAllowed(message) from None

    async def _confirmed(self, key: str, fetched: Fetched) -> RemoteCopy:
        """A 304: the copy stands for another TTL (with any validators the origin sent anew)."""
        values: dict[str, object] = {"checked_at": self._checked_at()}
        if fetched.headers.get("etag"):
            values["etag"] = fetched.headers["etag"][:255]
        async with self.db.writer() as session:
            await session.execute(update(RemoteOriginal).where(RemoteOriginal.url_hash == key).values(**values))
            row = await session.get(RemoteOriginal, key, populate_existing=True)
        assert row is not None
        return _copy(row)

    async def _store(self, url: str, key: str, fetched: Fetched, prepared: Prepared, *, old: str | None) -> RemoteCopy:
        original = prepared.original
        values = {
            "url": url,
            "content_hash": prepared.content_hash,
            "mime_type": original.format.mime,
            "format": original.format.name,
            "width": original.width,
            "height": original.height,
            "frames": original.frames,
            "size": original.size,
            "etag": (fetched.headers.get("etag") or "")[:255] or None,
            "last_modified": (fetched.headers.get("last-modified") or "")[:64] or None,
            "checked_at": self._checked_at(),
        }
        written: list[str] = []
        try:
            async with self.db.writer() as session:
                await store_originals(self.db, session, self.store, [prepared], written)
                upsert = self.db.insert(RemoteOriginal).values(url_hash=key, last_accessed_at=utcnow(), **values)
                await session.execute(upsert.on_conflict_do_update(index_elements=["url_hash"], set_=values))
                if old is not None and old != prepared.content_hash:
                    await blobs.release_blob(session, self.store, old)
                row = await session.get(RemoteOriginal, key, populate_existing=True)
        except BaseException:
            for stored in written:
                await self.store.delete(stored)
            raise
        assert row is not None
        return _copy(row)

    async def _touch(self, key: str) -> None:
        now = time.monotonic()
        if now - self.touched.get(key, -TOUCH_EVERY) < TOUCH_EVERY:
            return
        self.touched[key] = now
        async with self.db.writer() as session:
            await session.execute(
                update(RemoteOriginal).where(RemoteOriginal.url_hash == key).values(last_accessed_at=utcnow())
            )


def remote_policy(policy: IngestPolicy) -> IngestPolicy:
    """Uploads' checks, without the placeholders a fetched original never shows."""
    return dataclasses.replace(policy, placeholders=False, accepted_formats=None)
