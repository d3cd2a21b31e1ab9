"""Usage statistics read from counters the database keeps (migration 0004's triggers), and their recount.
What each figure means and how the counters stay exact: docs/admin.md."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select, text, union
from sqlalchemy.ext.asyncio import AsyncSession

from pinhole.db.engine import Database
from pinhole.db.models import (
    Album,
    Avatar,
    Blob,
    Client,
    ClientCounters,
    Image,
    ImageGroup,
    StorageTotals,
    Variant,
)
from pinhole.services import quotas


@dataclass(frozen=True)
class ClientStats:
    images: int = 0
    original_bytes: int = 0
    variant_bytes: int = 0
    views: int = 0
    albums: int = 0
    avatars: int = 0
    avatar_bytes: int = 0
    groups: int = 0


@dataclass(frozen=True)
class Totals:
    blobs: int = 0
    blob_bytes: int = 0
    variants: int = 0
    variant_bytes: int = 0


@dataclass(frozen=True)
class UserStats:
    """One external user's (or account's) own figures within a client, counted from its rows (an indexed range)."""

    images: int
    original_bytes: int
    views: int
    albums: int
    avatars: int


@dataclass(frozen=True)
class GlobalStats:
    clients: int
    sums: ClientStats  # per-client counters added up (variant bytes of shared blobs counted per client)
    totals: Totals
    per_client: list[tuple[Client, ClientStats]]


@dataclass(frozen=True)
class Drift:
    """A counter that did not match its rows: `scope` is a client id or `totals`."""

    scope: str
    counter: str
    stored: int
    actual: int


CLIENT_FIELDS = tuple(f.name for f in fields(ClientStats))
TOTAL_FIELDS = tuple(f.name for f in fields(Totals))


def _client_stats(row: ClientCounters | None) -> ClientStats:
    if row is None:
        return ClientStats()
    return ClientStats(**{name: int(getattr(row, name)) for name in CLIENT_FIELDS})


async def client_stats(*, db: Database, client_id: str) -> ClientStats:
    async with db.reader() as session:
        return _client_stats(await session.get(ClientCounters, client_id))


async def user_stats(*, db: Database, client_id: str, owner_id: str) -> UserStats:
    async with db.reader() as session:
        row = (
            await session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(Image.size), 0),
                    func.coalesce(func.sum(Image.view_count), 0),
                ).where(Image.client_id == client_id, Image.owner_id == owner_id)
            )
        ).one()
        albums = await session.scalar(
            select(func.count()).where(Album.client_id == client_id, Album.owner_id == owner_id)
        )
        avatars = await session.scalar(
            select(func.count()).where(Avatar.client_id == client_id, Avatar.owner_id == owner_id)
        )
    return UserStats(
        images=int(row[0]), original_bytes=int(row[1]), views=int(row[2]), albums=albums or 0, avatars=avatars or 0
    )


async def quota_usage(
    *, db: Database, defaults: quotas.QuotaDefaults, client_id: str, owner_id: str | None
) -> tuple[quotas.Limits | None, list[quotas.Usage]]:
    """The limits of a client (and one of its users) with their usage: the client's from its counters, the user's
    from its rows (an indexed range), so no call scans the whole client."""
    async with db.reader() as session:
        limits = await quotas.load_limits(session=session, defaults=defaults, client_id=client_id, owner_id=owner_id)
        if limits is None:
            return None, []
        own = _client_stats(await session.get(ClientCounters, client_id))
        found = [
            quotas.Usage("client_bytes", limits.client_bytes, own.original_bytes),
            quotas.Usage("client_images", limits.client_images, own.images),
        ]
    if owner_id is not None:
        user = await user_stats(db=db, client_id=client_id, owner_id=owner_id)
        found += [
            quotas.Usage("user_bytes", limits.user_bytes, user.original_bytes),
            quotas.Usage("user_images", limits.user_images, user.images),
        ]
    return limits, found


async def _totals(session: AsyncSession) -> Totals:
    row = await session.get(StorageTotals, 1)
    return Totals(**{name: int(getattr(row, name)) for name in TOTAL_FIELDS}) if row is not None else Totals()


async def global_stats(*, db: Database) -> GlobalStats:
    async with db.reader() as session:
        rows = (
            await session.execute(
                select(Client, ClientCounters)
                .outerjoin(ClientCounters, ClientCounters.client_id == Client.id)
                .order_by(Client.created_at, Client.id)
            )
        ).all()
        totals = await _totals(session)
    per_client = [(client, _client_stats(counters)) for client, counters in rows]
    sums = ClientStats(**{name: sum(getattr(s, name) for _, s in per_client) for name in CLIENT_FIELDS})
    return GlobalStats(clients=len(per_client), sums=sums, totals=totals, per_client=per_client)


MAX_DAYS = 366


async def uploads_per_day(*, db: Database, days: int, now: datetime | None = None) -> list[tuple[date, int]]:
    """Images uploaded on each of the last `days` UTC days (today last), every tenant, days without any as 0.

    Counted by the database, grouped by the UTC day of `created_at`; deleted images are not counted.
    """
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    # SQLite keeps UTC datetimes naive; PostgreSQL's timestamptz is turned to UTC before taking its day.
    day = func.date(Image.created_at) if db.is_sqlite else func.date(func.timezone("UTC", Image.created_at))
    query = select(day, func.count()).where(Image.created_at >= start).group_by(day)
    async with db.reader() as session:
        rows = (await session.execute(query)).all()
    counts: dict[date, int] = {}
    for value, count in rows:
        key = value if isinstance(value, date) else date.fromisoformat(str(value))
        counts[key] = counts.get(key, 0) + int(count)
    return [(first + timedelta(days=n), counts.get(first + timedelta(days=n), 0)) for n in range(days)]


async def actual_client_stats(session: AsyncSession) -> dict[str, ClientStats]:
    """Every client's figures counted from the rows (the full scan the counters spare everyone else)."""
    found: dict[str, dict[str, int]] = {cid: {} for cid in await session.scalars(select(Client.id))}
    refs = union(
        select(Image.client_id.label("client_id"), Image.content_hash.label("content_hash")),
        select(Avatar.client_id, Avatar.content_hash),
    ).subquery()
    queries = [
        ("images", select(Image.client_id, func.count()).group_by(Image.client_id)),
        ("original_bytes", select(Image.client_id, func.sum(Image.size)).group_by(Image.client_id)),
        ("views", select(Image.client_id, func.sum(Image.view_count)).group_by(Image.client_id)),
        (
            "variant_bytes",
            select(refs.c.client_id, func.sum(Variant.size))
            .join(Variant, Variant.content_hash == refs.c.content_hash)
            .group_by(refs.c.client_id),
        ),
        ("albums", select(Album.client_id, func.count()).group_by(Album.client_id)),
        ("avatars", select(Avatar.client_id, func.count()).group_by(Avatar.client_id)),
        ("avatar_bytes", select(Avatar.client_id, func.sum(Avatar.size)).group_by(Avatar.client_id)),
        ("groups", select(ImageGroup.client_id, func.count()).group_by(ImageGroup.client_id)),
    ]
    for name, stmt in queries:
        for client_id, value in await session.execute(stmt):
            found.setdefault(client_id, {})[name] = int(value or 0)
    return {client_id: ClientStats(**values) for client_id, values in found.items()}


async def actual_totals(session: AsyncSession) -> Totals:
    blobs = (await session.execute(select(func.count(), func.coalesce(func.sum(Blob.size), 0)))).one()
    variants = (await session.execute(select(func.count(), func.coalesce(func.sum(Variant.size), 0)))).one()
    return Totals(
        blobs=int(blobs[0]), blob_bytes=int(blobs[1]), variants=int(variants[0]), variant_bytes=int(variants[1])
    )


async def _stored_counters(session: AsyncSession) -> dict[str, ClientStats]:
    return {row.client_id: _client_stats(row) for row in await session.scalars(select(ClientCounters))}


def _drift(scope: str, stored: object, actual: object, names: tuple[str, ...]) -> list[Drift]:
    return [
        Drift(scope, name, getattr(stored, name), getattr(actual, name))
        for name in names
        if getattr(stored, name) != getattr(actual, name)
    ]


async def _lock_counters(db: Database, session: AsyncSession) -> None:
    # PostgreSQL: writers update counters from their triggers, so this waits for those in flight and holds off new
    # ones until the recount commits. SQLite writers hold the database's write lock already.
    if not db.is_sqlite:
        await session.execute(text("LOCK TABLE client_counters, storage_totals IN EXCLUSIVE MODE"))


async def recount(*, db: Database, fix: bool = True) -> list[Drift]:
    """Compare every counter with its rows; with `fix`, rewrite the counters from the rows. Returns the drift."""
    async with db.writer() as session:
        await _lock_counters(db, session)
        actual = await actual_client_stats(session)
        stored = await _stored_counters(session)
        drift: list[Drift] = []
        for client_id in sorted(set(actual) | set(stored)):
            want = actual.get(client_id, ClientStats())
            drift += _drift(client_id, stored.get(client_id, ClientStats()), want, CLIENT_FIELDS)
        totals_row = await _totals(session)
        totals = await actual_totals(session)
        drift += _drift("totals", totals_row, totals, TOTAL_FIELDS)
        if fix and drift:
            await session.execute(delete(ClientCounters))
            session.add_all(ClientCounters(client_id=cid, **asdict(s)) for cid, s in actual.items())
            await session.execute(delete(StorageTotals))
            session.add(StorageTotals(id=1, **asdict(totals)))
            await session.flush()
    return drift


__all__ = [
    "ClientStats",
    "Drift",
    "GlobalStats",
    "Totals",
    "UserStats",
    "actual_client_stats",
    "actual_totals",
    "client_stats",
    "global_stats",
    "recount",
    "user_stats",
]


async def stored_bytes_per_day(*, db: Database, days: int, now: datetime | None = None) -> list[tuple[date, int]]:
    """Bytes of images stored at the end of each of the last `days` UTC days (today last): the size of every image
    row created by then (each image counts, as quotas count). Deleted images no longer count, on any day."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    day = func.date(Image.created_at) if db.is_sqlite else func.date(func.timezone("UTC", Image.created_at))
    async with db.reader() as session:
        before = await session.scalar(select(func.coalesce(func.sum(Image.size), 0)).where(Image.created_at < start))
        rows = (
            await session.execute(select(day, func.sum(Image.size)).where(Image.created_at >= start).group_by(day))
        ).all()
    added: dict[date, int] = {}
    for value, size in rows:
        key = value if isinstance(value, date) else date.fromisoformat(str(value))
        added[key] = added.get(key, 0) + int(size or 0)
    running = int(before or 0)
    found = []
    for n in range(days):
        running += added.get(first + timedelta(days=n), 0)
        found.append((first + timedelta(days=n), running))
    return found


async def busiest_images(*, db: Database, limit: int = 5) -> list[tuple[str, str, int]]:
    """(id, name, views) of the most viewed images, every tenant (flushed view counts)."""
    async with db.reader() as session:
        rows = (
            await session.execute(
                select(Image.id, Image.original_name, Image.view_count)
                .where(Image.view_count > 0)
                .order_by(Image.view_count.desc(), Image.id)
                .limit(limit)
            )
        ).all()
    return [(image_id, name or image_id, int(views)) for image_id, name, views in rows]
