"""The usage counters kept by migration 0004's triggers: random sequences of row changes, made the way any code
path could make them, always leave the counters equal to a full recount; recount finds and repairs drift."""

from __future__ import annotations

import random
from dataclasses import asdict

import pytest
from alembic import command
from sqlalchemy import Connection, delete, inspect, select, update

from pinhole.db.migrate import alembic_config, upgrade
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
from pinhole.runtime import Runtime
from pinhole.services import stats
from pinhole.services.clients import create_client

pytestmark = pytest.mark.anyio

HASHES = [f"{n:064x}" for n in range(1, 7)]


async def _step(runtime: Runtime, rng: random.Random, clients: list[str]) -> str:
    op = rng.choice(
        [
            "image",
            "image",
            "image",
            "delete_image",
            "delete_image",
            "variant",
            "variant",
            "delete_variant",
            "views",
            "move_image",
            "avatar",
            "replace_avatar",
            "delete_avatar",
            "album",
            "delete_album",
            "group",
            "delete_group",
            "release_blob",
        ]
    )
    client = rng.choice(clients)
    content_hash = rng.choice(HASHES)
    async with runtime.db.writer() as session:
        if op == "image":
            if await session.get(Blob, content_hash) is None:
                session.add(Blob(content_hash=content_hash, key=f"o/{content_hash}", size=rng.randint(100, 5000)))
                await session.flush()
            session.add(
                Image(
                    client_id=client,
                    owner_id=rng.choice([None, "alice", "bob"]),
                    content_hash=content_hash,
                    mime_type="image/jpeg",
                    format="jpeg",
                    width=10,
                    height=10,
                    size=rng.randint(100, 5000),
                    view_count=rng.randint(0, 3),
                )
            )
        elif op == "delete_image":
            found = list(await session.scalars(select(Image).limit(50)))
            if found:
                await session.delete(rng.choice(found))
        elif op == "variant":
            if await session.get(Blob, content_hash) is not None:
                canonical = f"w={rng.randint(1, 40)}"
                exists = await session.scalar(
                    select(Variant.id).where(Variant.content_hash == content_hash, Variant.canonical == canonical)
                )
                if exists is None:
                    session.add(
                        Variant(
                            content_hash=content_hash,
                            canonical=canonical,
                            key=f"v/{content_hash}/{canonical}",
                            format="webp",
                            width=1,
                            height=1,
                            size=rng.randint(10, 900),
                            etag="e",
                        )
                    )
        elif op == "delete_variant":
            variant = await session.scalar(select(Variant).where(Variant.content_hash == content_hash).limit(1))
            if variant is not None:
                await session.delete(variant)
        elif op == "views":  # as UsageBuffer.flush writes them
            await session.execute(
                update(Image).where(Image.client_id == client).values(view_count=Image.view_count + rng.randint(1, 5))
            )
        elif op == "move_image":
            image = await session.scalar(select(Image).where(Image.client_id == client).limit(1))
            if image is not None and await session.get(Blob, content_hash) is not None:
                image.client_id = rng.choice(clients)
                image.content_hash = content_hash
                image.size = rng.randint(100, 5000)
        elif op in ("avatar", "replace_avatar"):
            if await session.get(Blob, content_hash) is not None:
                owner = rng.choice(["alice", "bob", "carol"])
                avatar = await session.scalar(
                    select(Avatar).where(Avatar.client_id == client, Avatar.owner_id == owner)
                )
                if avatar is None:
                    session.add(
                        Avatar(
                            client_id=client,
                            owner_id=owner,
                            content_hash=content_hash,
                            mime_type="image/png",
                            format="png",
                            width=5,
                            height=5,
                            size=rng.randint(50, 500),
                        )
                    )
                else:
                    avatar.content_hash = content_hash
                    avatar.size = rng.randint(50, 500)
        elif op == "delete_avatar":
            avatar = await session.scalar(select(Avatar).where(Avatar.client_id == client).limit(1))
            if avatar is not None:
                await session.delete(avatar)
        elif op == "album":
            session.add(Album(client_id=client, name="a"))
        elif op == "delete_album":
            await session.execute(delete(Album).where(Album.id.in_(select(Album.id).limit(1).scalar_subquery())))
        elif op == "group":
            session.add(ImageGroup(client_id=client))
        elif op == "delete_group":
            group = await session.scalar(select(ImageGroup).where(ImageGroup.client_id == client).limit(1))
            if group is not None:
                await session.delete(group)
        elif op == "release_blob":  # as images.delete_image does: the blob (variants cascade) when unreferenced
            blob = await session.get(Blob, content_hash)
            used = await session.scalar(select(Image.id).where(Image.content_hash == content_hash).limit(1))
            avatar_used = await session.scalar(select(Avatar.id).where(Avatar.content_hash == content_hash).limit(1))
            if blob is not None and used is None and avatar_used is None:
                if rng.random() < 0.5:
                    await session.execute(delete(Variant).where(Variant.content_hash == content_hash))
                await session.delete(blob)
    return op


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_operations_keep_counters_equal_to_a_recount(runtime: Runtime, seed: int) -> None:
    rng = random.Random(seed)
    clients = [(await create_client(db=runtime.db, name=f"c{n}")).client.id for n in range(3)]
    done: list[str] = []
    for n in range(120):
        done.append(await _step(runtime, rng, clients))
        if n % 10 == 9:
            assert await stats.recount(db=runtime.db, fix=False) == [], done
    assert await stats.recount(db=runtime.db, fix=False) == [], done
    summary = await stats.global_stats(db=runtime.db)
    async with runtime.db.reader() as session:
        actual = await stats.actual_client_stats(session)
        totals = await stats.actual_totals(session)
    assert {c.id: s for c, s in summary.per_client} == actual
    assert summary.totals == totals
    assert summary.sums.images == sum(s.images for s in actual.values()) > 0
    assert len(set(done)) > 10  # the sequence exercised most kinds of change


async def test_recount_reports_and_repairs_drift(runtime: Runtime) -> None:
    client = (await create_client(db=runtime.db, name="drifty")).client.id
    async with runtime.db.writer() as session:
        session.add(Blob(content_hash=HASHES[0], key="o/x", size=300))
        await session.flush()
        session.add(
            Image(
                client_id=client,
                content_hash=HASHES[0],
                mime_type="image/jpeg",
                format="jpeg",
                width=1,
                height=1,
                size=300,
                view_count=4,
            )
        )
    assert await stats.client_stats(db=runtime.db, client_id=client) == stats.ClientStats(
        images=1, original_bytes=300, views=4
    )
    async with runtime.db.writer() as session:
        await session.execute(update(ClientCounters).values(images=99))
        await session.execute(update(StorageTotals).values(blob_bytes=1))
    drift = await stats.recount(db=runtime.db, fix=False)
    assert {(d.scope, d.counter, d.stored, d.actual) for d in drift} == {
        (client, "images", 99, 1),
        ("totals", "blob_bytes", 1, 300),
    }
    assert await stats.recount(db=runtime.db) == drift  # reported, then repaired
    assert await stats.recount(db=runtime.db, fix=False) == []
    assert (await stats.client_stats(db=runtime.db, client_id=client)).images == 1


async def test_a_deleted_client_leaves_no_counters(runtime: Runtime) -> None:
    client = (await create_client(db=runtime.db, name="gone")).client.id
    async with runtime.db.writer() as session:
        session.add(Album(client_id=client, name="x"))
    assert (await stats.client_stats(db=runtime.db, client_id=client)).albums == 1
    async with runtime.db.writer() as session:
        await session.delete(await session.get(Client, client))
    async with runtime.db.reader() as session:
        assert await session.get(ClientCounters, client) is None
    assert await stats.recount(db=runtime.db, fix=False) == []
    assert asdict(await stats.client_stats(db=runtime.db, client_id=client)) == asdict(stats.ClientStats())


async def _downgrade(runtime: Runtime, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with runtime.db.write_engine.connect() as conn:
        await conn.run_sync(run)
        await conn.commit()


async def test_the_migration_backfills_existing_rows(runtime: Runtime) -> None:
    rng = random.Random(7)
    clients = [(await create_client(db=runtime.db, name=f"old{n}")).client.id for n in range(2)]
    for _ in range(60):
        await _step(runtime, rng, clients)
    async with runtime.db.writer() as session:  # at least one image with a variant, whatever the steps left
        if await session.get(Blob, HASHES[0]) is None:
            session.add(Blob(content_hash=HASHES[0], key="o/first", size=1234))
            await session.flush()
        session.add(
            Image(
                client_id=clients[0],
                content_hash=HASHES[0],
                mime_type="image/png",
                format="png",
                width=1,
                height=1,
                size=99,
            )
        )
        session.add(
            Variant(
                content_hash=HASHES[0],
                canonical="w=999",
                key="v/x",
                format="webp",
                width=1,
                height=1,
                size=77,
                etag="e",
            )
        )
    expected = await stats.global_stats(db=runtime.db)
    assert expected.sums.images > 0
    assert expected.sums.variant_bytes > 0
    await _downgrade(runtime, "0003")  # the counters and triggers go...
    try:
        async with runtime.db.reader() as session:
            tables = await session.run_sync(lambda s: inspect(s.connection()).get_table_names())
        assert "client_counters" not in tables
    finally:
        await upgrade(runtime.db)  # ...and come back filled from the rows
    assert await stats.recount(db=runtime.db, fix=False) == []
    again = await stats.global_stats(db=runtime.db)
    assert (again.sums, again.totals) == (expected.sums, expected.totals)
