"""albums avatars groups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "albums",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=255), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_albums_client_id_clients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_albums")),
        sa.UniqueConstraint("client_id", "external_id", name=op.f("uq_albums_client_id_external_id")),
    )
    with op.batch_alter_table("albums", schema=None) as batch_op:
        batch_op.create_index(
            "ix_albums_client_owner_created", ["client_id", "owner_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "avatars",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=255), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("mime_type", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_avatars_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["content_hash"], ["blobs.content_hash"], name=op.f("fk_avatars_content_hash_blobs"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_avatars")),
        sa.UniqueConstraint("client_id", "owner_id", name=op.f("uq_avatars_client_id_owner_id")),
    )
    with op.batch_alter_table("avatars", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_avatars_content_hash"), ["content_hash"], unique=False)

    op.create_table(
        "image_groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_image_groups_client_id_clients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_groups")),
    )
    with op.batch_alter_table("image_groups", schema=None) as batch_op:
        batch_op.create_index("ix_image_groups_client_owner", ["client_id", "owner_id"], unique=False)

    op.create_table(
        "album_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("album_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name=op.f("fk_album_tokens_album_id_albums"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_album_tokens")),
    )
    with op.batch_alter_table("album_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_album_tokens_album_id"), ["album_id"], unique=False)

    op.create_table(
        "album_images",
        sa.Column("album_id", sa.String(length=36), nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name=op.f("fk_album_images_album_id_albums"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_album_images_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("album_id", "image_id", name=op.f("pk_album_images")),
    )
    with op.batch_alter_table("album_images", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_album_images_image_id"), ["image_id"], unique=False)

    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preserved", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_images_group_id"), ["group_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_images_group_id_image_groups"), "image_groups", ["group_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_images_group_id_image_groups"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_images_group_id"))
        batch_op.drop_column("group_id")

    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.drop_column("preserved")

    with op.batch_alter_table("album_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_album_images_image_id"))

    op.drop_table("album_images")
    with op.batch_alter_table("album_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_album_tokens_album_id"))

    op.drop_table("album_tokens")
    with op.batch_alter_table("image_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_image_groups_client_owner")

    op.drop_table("image_groups")
    with op.batch_alter_table("avatars", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_avatars_content_hash"))

    op.drop_table("avatars")
    with op.batch_alter_table("albums", schema=None) as batch_op:
        batch_op.drop_index("ix_albums_client_owner_created")

    op.drop_table("albums")
