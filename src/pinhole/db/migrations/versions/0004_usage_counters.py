"""usage counters kept by triggers, per-client rate limits

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

The counters, what they count and how the triggers keep them exact: docs/admin.md.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = "client_counters"
TOTALS = "storage_totals"
CLIENT_COLUMNS = ("images", "original_bytes", "variant_bytes", "views", "albums", "avatars", "avatar_bytes", "groups")
TOTAL_COLUMNS = ("blobs", "blob_bytes", "variants", "variant_bytes")


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    event: str  # INSERT, DELETE or UPDATE
    body: list[str]  # SQL statements using NEW / OLD
    changed: tuple[str, ...] = ()  # UPDATE only: fire when one of these columns changed


def _bump(client: str, where: str = "true", **deltas: str) -> str:
    """Add `deltas` to the counters of `client` (an SQL expression), creating the row when missing."""
    cols = ", ".join(deltas)
    values = ", ".join(deltas.values())
    sets = ", ".join(f"{c} = {COUNTERS}.{c} + excluded.{c}" for c in deltas)
    # Only for a client that exists: rows cascading from a deleted client must not bring its counters back.
    where = f"{where} AND EXISTS (SELECT 1 FROM clients WHERE clients.id = {client})"
    return (
        f"INSERT INTO {COUNTERS} (client_id, {cols}) SELECT {client}, {values} WHERE {where} "
        f"ON CONFLICT (client_id) DO UPDATE SET {sets}"
    )


def _total(**deltas: str) -> str:
    cols = ", ".join(deltas)
    values = ", ".join(deltas.values())
    sets = ", ".join(f"{c} = {TOTALS}.{c} + excluded.{c}" for c in deltas)
    return f"INSERT INTO {TOTALS} (id, {cols}) SELECT 1, {values} WHERE true ON CONFLICT (id) DO UPDATE SET {sets}"


def _refs(client: str, content_hash: str, *, skip_image: str = "NULL", skip_avatar: str = "NULL") -> str:
    """Whether `client` references the blob `content_hash` through an image or avatar (other than the skipped ids)."""
    return (
        f"(EXISTS (SELECT 1 FROM images WHERE images.client_id = {client} AND images.content_hash = {content_hash}"
        f" AND images.id IS NOT {skip_image})"
        f" OR EXISTS (SELECT 1 FROM avatars WHERE avatars.client_id = {client}"
        f" AND avatars.content_hash = {content_hash} AND avatars.id IS NOT {skip_avatar}))"
    )


def _variant_sum(content_hash: str) -> str:
    return f"(SELECT COALESCE(SUM(variants.size), 0) FROM variants WHERE variants.content_hash = {content_hash})"


def _reference_triggers(table: str, count: str, size_col: str) -> list[Trigger]:
    """images and avatars: a count, a byte sum, and the variants of the blob they reference."""
    skip = "skip_image" if table == "images" else "skip_avatar"
    views = table == "images"

    def counts(row: str, sign: str) -> str:
        deltas = {count: f"{sign}1", size_col: f"{sign}{row}.size"}
        if views:
            deltas["views"] = f"{sign}{row}.view_count"
        return _bump(f"{row}.client_id", **deltas)

    def add_variants(row: str) -> str:
        first = "NOT " + _refs(f"{row}.client_id", f"{row}.content_hash", **{skip: f"{row}.id"})
        return _bump(f"{row}.client_id", first, variant_bytes=_variant_sum(f"{row}.content_hash"))

    def drop_variants(row: str) -> str:
        # AFTER the change: the row no longer references the blob, so "no reference left" needs no exclusion.
        last = "NOT " + _refs(f"{row}.client_id", f"{row}.content_hash")
        return _bump(f"{row}.client_id", last, variant_bytes="-" + _variant_sum(f"{row}.content_hash"))

    moved = ("client_id", "content_hash")
    counted = ("client_id", "size", "view_count") if views else ("client_id", "size")
    return [
        Trigger(f"trg_{table}_ins_counters", table, "INSERT", [counts("NEW", ""), add_variants("NEW")]),
        Trigger(f"trg_{table}_del_counters", table, "DELETE", [counts("OLD", "-"), drop_variants("OLD")]),
        Trigger(
            f"trg_{table}_upd_counters",
            table,
            "UPDATE",
            [counts("OLD", "-"), counts("NEW", "")],
            changed=counted,
        ),
        Trigger(f"trg_{table}_move_counters", table, "UPDATE", [drop_variants("OLD"), add_variants("NEW")], moved),
    ]


def _count_triggers(table: str, count: str) -> list[Trigger]:
    return [
        Trigger(f"trg_{table}_ins_counters", table, "INSERT", [_bump("NEW.client_id", **{count: "1"})]),
        Trigger(f"trg_{table}_del_counters", table, "DELETE", [_bump("OLD.client_id", **{count: "-1"})]),
        Trigger(
            f"trg_{table}_upd_counters",
            table,
            "UPDATE",
            [_bump("OLD.client_id", **{count: "-1"}), _bump("NEW.client_id", **{count: "1"})],
            changed=("client_id",),
        ),
    ]


def _referencing_clients(content_hash: str) -> str:
    # UNION, not UNION ALL: one row per client, as an upsert may not touch a row twice.
    return (
        f"(SELECT images.client_id AS c FROM images WHERE images.content_hash = {content_hash}"
        f" UNION SELECT avatars.client_id FROM avatars WHERE avatars.content_hash = {content_hash})"
    )


def _variant_to_clients(row: str, sign: str) -> str:
    # In client id order: concurrent variant writes lock the counter rows in one order, so they cannot deadlock.
    return (
        f"INSERT INTO {COUNTERS} (client_id, variant_bytes) SELECT refs.c, {sign}{row}.size "
        f"FROM {_referencing_clients(row + '.content_hash')} AS refs "
        "WHERE EXISTS (SELECT 1 FROM clients WHERE clients.id = refs.c) ORDER BY refs.c "
        f"ON CONFLICT (client_id) DO UPDATE SET variant_bytes = {COUNTERS}.variant_bytes + excluded.variant_bytes"
    )


def _storage_triggers() -> list[Trigger]:
    return [
        Trigger(
            "trg_variants_ins_counters",
            "variants",
            "INSERT",
            [_total(variants="1", variant_bytes="NEW.size"), _variant_to_clients("NEW", "")],
        ),
        Trigger(
            "trg_variants_del_counters",
            "variants",
            "DELETE",
            [_total(variants="-1", variant_bytes="-OLD.size"), _variant_to_clients("OLD", "-")],
        ),
        Trigger(
            "trg_variants_upd_counters",
            "variants",
            "UPDATE",
            [
                _total(variant_bytes="NEW.size - OLD.size"),
                _variant_to_clients("OLD", "-"),
                _variant_to_clients("NEW", ""),
            ],
            changed=("content_hash", "size"),
        ),
        Trigger("trg_blobs_ins_counters", "blobs", "INSERT", [_total(blobs="1", blob_bytes="NEW.size")]),
        Trigger("trg_blobs_del_counters", "blobs", "DELETE", [_total(blobs="-1", blob_bytes="-OLD.size")]),
        Trigger(
            "trg_blobs_upd_counters",
            "blobs",
            "UPDATE",
            [_total(blob_bytes="NEW.size - OLD.size")],
            changed=("size",),
        ),
        Trigger(
            "trg_clients_del_counters",
            "clients",
            "DELETE",
            [f"DELETE FROM {COUNTERS} WHERE client_id = OLD.id"],
        ),
    ]


def triggers() -> list[Trigger]:
    return [
        *_reference_triggers("images", "images", "original_bytes"),
        *_reference_triggers("avatars", "avatars", "avatar_bytes"),
        *_count_triggers("albums", "albums"),
        *_count_triggers("image_groups", "groups"),
        *_storage_triggers(),
    ]


def _sqlite_sql(trigger: Trigger) -> list[str]:
    when = ""
    if trigger.changed:
        when = " WHEN " + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in trigger.changed)
    body = "".join(f"{stmt};\n" for stmt in trigger.body)
    # SQLite has no IS DISTINCT FROM; `IS NOT` is its null-safe inequality (used in `_refs` for both).
    head = f"CREATE TRIGGER {trigger.name} AFTER {trigger.event} ON {trigger.table} FOR EACH ROW{when}"
    return [f"{head}\nBEGIN\n{body}END"]


def _postgres_sql(trigger: Trigger) -> list[str]:
    body = "".join(f"  {stmt.replace(' IS NOT ', ' IS DISTINCT FROM ')};\n" for stmt in trigger.body)
    when = ""
    if trigger.changed:
        when = " WHEN (" + " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in trigger.changed) + ")"
    return [
        f"CREATE FUNCTION {trigger.name}_fn() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}  RETURN NULL;\nEND\n$$",
        f"CREATE TRIGGER {trigger.name} AFTER {trigger.event} ON {trigger.table} FOR EACH ROW{when} "
        f"EXECUTE FUNCTION {trigger.name}_fn()",
    ]


BACKFILL_CLIENTS = f"""
INSERT INTO {COUNTERS} (client_id, images, original_bytes, views, variant_bytes, albums, avatars, avatar_bytes, groups)
SELECT clients.id,
  (SELECT COUNT(*) FROM images WHERE images.client_id = clients.id),
  (SELECT COALESCE(SUM(images.size), 0) FROM images WHERE images.client_id = clients.id),
  (SELECT COALESCE(SUM(images.view_count), 0) FROM images WHERE images.client_id = clients.id),
  (SELECT COALESCE(SUM(variants.size), 0) FROM variants WHERE variants.content_hash IN (
      SELECT images.content_hash FROM images WHERE images.client_id = clients.id
      UNION SELECT avatars.content_hash FROM avatars WHERE avatars.client_id = clients.id)),
  (SELECT COUNT(*) FROM albums WHERE albums.client_id = clients.id),
  (SELECT COUNT(*) FROM avatars WHERE avatars.client_id = clients.id),
  (SELECT COALESCE(SUM(avatars.size), 0) FROM avatars WHERE avatars.client_id = clients.id),
  (SELECT COUNT(*) FROM image_groups WHERE image_groups.client_id = clients.id)
FROM clients
"""

BACKFILL_TOTALS = f"""
INSERT INTO {TOTALS} (id, blobs, blob_bytes, variants, variant_bytes)
SELECT 1,
  (SELECT COUNT(*) FROM blobs), (SELECT COALESCE(SUM(blobs.size), 0) FROM blobs),
  (SELECT COUNT(*) FROM variants), (SELECT COALESCE(SUM(variants.size), 0) FROM variants)
"""


def _zero(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        COUNTERS,
        # No foreign key: triggers fired by a cascade from a deleted client must never fail on it.
        sa.Column("client_id", sa.String(length=36), nullable=False),
        *[_zero(name) for name in CLIENT_COLUMNS],
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_counters")),
    )
    op.create_table(
        TOTALS,
        sa.Column("id", sa.Integer(), nullable=False),
        *[_zero(name) for name in TOTAL_COLUMNS],
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_totals")),
    )
    # Plain ALTER TABLE on both databases: a batch rebuild of `clients` on SQLite would drop it, and with foreign
    # keys on, dropping it deletes every row that cascades from it.
    op.add_column("clients", sa.Column("rate_limits", sa.JSON(), nullable=True))

    op.execute(BACKFILL_CLIENTS)
    op.execute(BACKFILL_TOTALS)
    dialect = op.get_bind().dialect.name
    for trigger in triggers():
        for sql in _postgres_sql(trigger) if dialect == "postgresql" else _sqlite_sql(trigger):
            op.execute(sql)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for trigger in triggers():
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {trigger.name} ON {trigger.table}")
            op.execute(f"DROP FUNCTION IF EXISTS {trigger.name}_fn()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger.name}")
    op.execute("ALTER TABLE clients DROP COLUMN rate_limits")  # SQLite 3.35+ and PostgreSQL; no table rebuild
    op.drop_table(TOTALS)
    op.drop_table(COUNTERS)
