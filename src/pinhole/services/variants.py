"""Variants: rendered transforms of an original, made once and cached in the blob store.

A variant is keyed by (content hash, canonical options), so every image sharing an original shares its variants
and equivalent URLs map to one variant. Concurrent requests for the same missing variant render it once: in a
process through `SingleFlight`, and across instances sharing a Redis through `SharedFlight` (a lock per variant;
the other instances wait for the variant to be recorded and serve it).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from anyio import to_thread
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from pinhole.concurrency.pool import WorkerPool
from pinhole.concurrency.singleflight import SingleFlight
from pinhole.db.engine import Database
from pinhole.db.models import Variant, utcnow
from pinhole.errors import BlobNotFound, CorruptImage, ImageNotFound, InvalidTransform
from pinhole.imaging import intermediate as intermediates
from pinhole.imaging.formats import JPEG, Format, format_named
from pinhole.imaging.options import OutputLimits, TransformOptions
from pinhole.imaging.pipeline import Rendered, make_intermediate, render
from pinhole.imaging.sources import Source
from pinhole.observability.telemetry import record_render
from pinhole.observability.tracing import span
from pinhole.services.client_defaults import ClientDefaults
from pinhole.services.render_budget import RenderBudget
from pinhole.services.usage import UsageBuffer
from pinhole.services.variant_options import SiteMark
from pinhole.shared.locks import SharedFlight
from pinhole.storage.base import BlobStore
from pinhole.storage.keys import original_key, variant_key

log = logging.getLogger(__name__)

# Originals from this size up on local disk are read in place, in blocks (imaging/sources.py): held whole, a 30 MB
# one was 29 of the 47 MiB a render added to the server; below it, the bytes are cheaper than a Python call per 4 kB.
READ_IN_PLACE_FROM = 8 << 20


class Original(Protocol):
    """What variants are made from: an image or an avatar (an alias onto a stored original)."""

    @property
    def id(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def format(self) -> str: ...


@dataclass(frozen=True)
class StoredVariant:
    id: int
    key: str
    mime: str
    size: int
    etag: str
    data: bytes | None = None  # set when just rendered, so the first response needs no re-read
    cache_key: tuple[str, str] = ("", "")  # (content hash, canonical options)
    saved: asyncio.Future[None] | None = field(default=None, compare=False)
    """Just rendered and still being written and recorded (`id` is 0 until then): done when it is (never raises)."""


@dataclass
class VariantService:
    db: Database
    store: BlobStore
    pool: WorkerPool
    usage: UsageBuffer
    default_quality: int | None  # None: each format's own (imaging/formats.py)
    limits: OutputLimits
    flights: SingleFlight[StoredVariant]
    renders: int = 0  # variants rendered by this process (observability, and how tests see single flight)
    # Known variants, so a warm request skips the database. Pruning and deleting in this process drop entries
    # (`forget_keys`); other processes' stale entries are harmless: a variant's bytes are a pure function of
    # (content, options), and a vanished file is caught at send time (BlobNotFound → forget → render again).
    known: OrderedDict[tuple[str, str], StoredVariant] = field(default_factory=OrderedDict)
    known_limit: int = 10_000
    shared: SharedFlight | None = None  # set when instances share a Redis
    background: set[asyncio.Task[None]] = field(default_factory=set)  # eager renders under way
    budget: RenderBudget | None = None  # cold renders strangers may cause (None: unlimited)
    site_mark: SiteMark | None = None  # the configured watermark file, for `wm=site`
    clients: ClientDefaults | None = None  # each client's default watermark and original protection
    # Small variants of a large original start from its intermediate (imaging/intermediate.py), made at the second
    # render of that original in this process: an original rendered once never pays for one.
    intermediates: bool = True
    rendered_originals: OrderedDict[str, int] = field(default_factory=OrderedDict)  # renders so far, -1: none to make
    intermediate_flights: SingleFlight[StoredVariant | None] = field(default_factory=SingleFlight)
    # Rendered and answered, still being written and recorded: later requests get these bytes meanwhile.
    pending: dict[tuple[str, str], StoredVariant] = field(default_factory=dict)

    def render_later(self, *, image: Original, options: Collection[TransformOptions]) -> None:
        """Render these variants in the background, one after another (eager presets after an upload)."""
        if options:
            task = asyncio.create_task(self._render_all(image, list(options)))
            self.background.add(task)
            task.add_done_callback(self.background.discard)

    async def _render_all(self, image: Original, options: list[TransformOptions]) -> None:
        for item in options:
            try:
                await self.get(image=image, options=item)
            except Exception:  # a background render has nobody to answer: log and go on
                log.warning("eager render of %s for image %s failed", item.canonical(), image.id, exc_info=True)

    async def drain(self) -> None:
        """Wait for background renders (at shutdown, before the database and store close)."""
        while self.background:
            await asyncio.gather(*self.background, return_exceptions=True)

    async def get(self, *, image: Original, options: TransformOptions, stranger: str | None = None) -> StoredVariant:
        """The variant, made now if it has never been; `stranger` (a caller key) is charged a render budget."""
        key = (image.content_hash, options.canonical())
        found = self.known.get(key) or self.pending.get(key)
        if found is not None and found.saved is None:
            self.known.move_to_end(key)
        elif found is None:
            # One lookup, inside the flight: concurrent requests for a variant this process does not know share it,
            # and a cold render pays one database read before rendering, not two.
            found = await self.flights.run(key, self._lookup_or_make(image, options, key[1], stranger))
            if found.saved is None:
                self._remember(key, found)
        if found.saved is None:  # a new record's access time is its creation
            self.usage.record_variant_access(found.id)
        return found

    def _remember(self, key: tuple[str, str], variant: StoredVariant) -> None:
        self.known[key] = replace(variant, data=None, cache_key=key)
        if len(self.known) > self.known_limit:
            self.known.popitem(last=False)

    def forget_keys(self, keys: Collection[str]) -> None:
        """Drop known variants stored under these keys (pruned, or their original deleted)."""
        wanted = set(keys)
        for cache_key in [k for k, v in self.known.items() if v.key in wanted]:
            del self.known[cache_key]

    def drop_known(self, *, image: Original, options: TransformOptions) -> None:
        """Forget this process's note of a variant (the database is asked again next time)."""
        self.known.pop((image.content_hash, options.canonical()), None)

    async def forget(self, *, image: Original, options: TransformOptions) -> None:
        """Drop the record of a variant whose stored file is gone, so the next request renders it again."""
        self.drop_known(image=image, options=options)
        async with self.db.writer() as session:
            await session.execute(
                delete(Variant).where(
                    Variant.content_hash == image.content_hash, Variant.canonical == options.canonical()
                )
            )

    async def _lookup(self, content_hash: str, canonical: str) -> StoredVariant | None:
        async with self.db.reader() as session:
            row = await session.scalar(
                select(Variant).where(Variant.content_hash == content_hash, Variant.canonical == canonical)
            )
        if row is None:
            return None
        return StoredVariant(id=row.id, key=row.key, mime=_format(row.format).mime, size=row.size, etag=row.etag)

    async def _lookup_or_make(
        self, image: Original, options: TransformOptions, canonical: str, stranger: str | None = None
    ) -> StoredVariant:
        # Looked up inside the flight: a request that comes after an earlier flight committed finds its result
        # rather than render a second time.
        found = await self._lookup(image.content_hash, canonical)
        if found is not None:
            return found
        if stranger is not None and self.budget is not None:  # a cold render: a stranger pays from the budget
            await self.budget.charge(stranger)
        if self.shared is None:
            return await self._make(image, options, canonical)
        name = f"variant:{image.content_hash}:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"
        # Other instances wait on the lock for the record: stored before it is released.
        return await self.shared.run(
            name,
            lookup=lambda: self._lookup(image.content_hash, canonical),
            make=lambda: self._make(image, options, canonical, store_first=True),
        )

    async def _make(
        self, image: Original, options: TransformOptions, canonical: str, *, store_first: bool = False
    ) -> StoredVariant:
        """Render; the answer does not wait for the file's write (and fsync) and its record, unless `store_first`.

        A variant is a cache: a crash before it is recorded loses a render, never data. The write comes first, the
        record after, so a record never names a missing or partial file."""
        rendered = await self._render(image, options, canonical)
        key = variant_key(image.content_hash, canonical, rendered.format.extension)
        made = StoredVariant(
            id=0,
            key=key,
            mime=rendered.format.mime,
            size=len(rendered.data),
            etag=hashlib.sha256(rendered.data).hexdigest()[:32],
            data=rendered.data,
            cache_key=(image.content_hash, canonical),
        )
        if store_first:
            return await self._store(made, rendered)
        saving = asyncio.ensure_future(self._store_quietly(made, rendered))
        self.background.add(saving)
        saving.add_done_callback(self.background.discard)
        made = replace(made, saved=saving)
        self.pending[made.cache_key] = made
        return made

    async def _store(self, made: StoredVariant, rendered: Rendered) -> StoredVariant:
        """Write the variant's file, then record it; the stored variant, remembered (with its bytes)."""
        content_hash, canonical = made.cache_key
        await self.store.put_bytes(made.key, rendered.data)
        try:
            variant_id = await self._record(content_hash, canonical, made.key, rendered, made.etag)
        except IntegrityError as exc:  # the original was deleted while we rendered
            await self.store.delete(made.key)
            raise ImageNotFound() from exc
        stored = replace(made, id=variant_id, saved=None)
        self._remember(made.cache_key, stored)
        return stored

    async def _store_quietly(self, made: StoredVariant, rendered: Rendered) -> None:
        """`_store` after the answer: a failure costs a render later (the next request makes it again)."""
        try:
            await self._store(made, rendered)
        except ImageNotFound:
            log.info("variant %s not kept: its original was deleted meanwhile", made.key)
        except Exception:
            log.warning("could not store variant %s; it will be rendered again", made.key, exc_info=True)
        finally:
            if self.pending.get(made.cache_key) is not None:
                del self.pending[made.cache_key]

    async def _render(self, image: Original, options: TransformOptions, canonical: str) -> Rendered:
        self.renders += 1
        source = await self._original(image)
        mark = await self._mark(options)
        started = time.perf_counter()
        intermediate = await self._intermediate(image, source) if intermediates.may_serve(options) else None
        with span("render", **{"pinhole.options": canonical}):
            try:
                rendered = await self.pool.run(
                    render,
                    source,
                    mark=mark,
                    options=options,
                    source_format=_format(image.format),
                    default_quality=self.default_quality,
                    limits=self.limits,
                    intermediate=intermediate,
                )
            except (CorruptImage, FileNotFoundError) as exc:  # an original read in place, deleted meanwhile
                if isinstance(source, Path) and not await to_thread.run_sync(source.is_file):
                    raise ImageNotFound() from exc
                raise
        record_render(rendered.format.name, time.perf_counter() - started)
        return rendered

    async def _original(self, image: Original) -> Source:
        """The original as a render reads it: a large one on local disk as its file, read in blocks
        (imaging/sources.py), so it is never held whole; otherwise its bytes."""
        key = original_key(image.content_hash)
        path = self.store.local_path(key)
        try:
            if path is not None and await to_thread.run_sync(_file_size, path) >= READ_IN_PLACE_FROM:
                return path
            return await self.store.get_bytes(key)
        except BlobNotFound as exc:
            log.error("original %s of image %s is missing from the store", image.content_hash, image.id)
            raise ImageNotFound() from exc

    async def _mark(self, options: TransformOptions) -> bytes | None:
        """The watermark's picture of a resolved `options.watermark` (`h:<content hash>` or `f:<file hash>`)."""
        ref = options.watermark.ref if options.watermark else ""
        if ref.startswith("f:") and self.site_mark is not None:
            return self.site_mark.data
        if not ref.startswith("h:"):
            return None
        try:
            return await self.store.get_bytes(original_key(ref.removeprefix("h:")))
        except BlobNotFound as exc:  # the mark was deleted since the request resolved it
            raise InvalidTransform("The watermark image no longer exists.", field="wm") from exc

    async def _intermediate(self, image: Original, source: Source) -> bytes | None:
        """The intermediate's bytes when this original has (or now gets) one; None at its first render."""
        seen = self.rendered_originals.pop(image.content_hash, 0)
        self.rendered_originals[image.content_hash] = seen if seen < 0 else seen + 1
        if len(self.rendered_originals) > self.known_limit:
            self.rendered_originals.popitem(last=False)
        if not self.intermediates or seen < 1:
            return None
        key = (image.content_hash, intermediates.CANONICAL)
        found = self.known.get(key) or await self._lookup(*key)
        if found is None:
            found = await self.intermediate_flights.run(key, self._make_intermediate(image, source))
            if found is None:  # not worth one (small, animated, alpha): never asked again in this process
                self.rendered_originals[image.content_hash] = -1
                return None
        self._remember(key, found)
        self.usage.record_variant_access(found.id)
        if found.data is not None:
            return found.data
        try:
            return await self.store.get_bytes(found.key)
        except BlobNotFound:  # pruned meanwhile: this render starts from the original, the next makes it again
            await self.forget_intermediate(image.content_hash)
            return None

    async def forget_intermediate(self, content_hash: str) -> None:
        self.known.pop((content_hash, intermediates.CANONICAL), None)
        async with self.db.writer() as session:
            await session.execute(
                delete(Variant).where(
                    Variant.content_hash == content_hash, Variant.canonical == intermediates.CANONICAL
                )
            )

    async def _make_intermediate(self, image: Original, source: Source) -> StoredVariant | None:
        made = await self.pool.run(make_intermediate, source, source_format=_format(image.format))
        if made is None:
            return None
        data, width, height = made
        key = variant_key(image.content_hash, intermediates.CANONICAL, JPEG.extension)
        await self.store.put_bytes(key, data)
        etag = hashlib.sha256(data).hexdigest()[:32]
        rendered = Rendered(data=data, format=JPEG, width=width, height=height)
        try:
            variant_id = await self._record(image.content_hash, intermediates.CANONICAL, key, rendered, etag)
        except IntegrityError:  # the original was deleted meanwhile
            await self.store.delete(key)
            return None
        return StoredVariant(id=variant_id, key=key, mime=JPEG.mime, size=len(data), etag=etag, data=data)

    async def _record(self, content_hash: str, canonical: str, key: str, rendered: Rendered, etag: str) -> int:
        values = {
            "content_hash": content_hash,
            "canonical": canonical,
            "key": key,
            "format": rendered.format.name,
            "width": rendered.width,
            "height": rendered.height,
            "size": len(rendered.data),
            "etag": etag,
            "created_at": utcnow(),
            "last_accessed_at": utcnow(),
        }
        async with self.db.writer() as session:
            insert = self.db.insert(Variant).values(**values)
            upsert = insert.on_conflict_do_update(
                index_elements=["content_hash", "canonical"],
                set_={k: insert.excluded[k] for k in ("key", "format", "width", "height", "size", "etag")},
            ).returning(Variant.id)
            variant_id = await session.scalar(upsert)
        assert variant_id is not None
        return int(variant_id)


def _file_size(path: Path) -> int:
    """The file's size; 0 when it is missing (the store's own read then says so)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _format(name: str) -> Format:
    found = format_named(name)
    if found is None:
        raise ValueError(f"unknown stored format {name!r}")
    return found
