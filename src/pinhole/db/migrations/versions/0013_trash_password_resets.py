"""web moderation: password reset links and the trash

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-07

`password_resets` holds the one-time password reset links admins make (only the token's SHA-256, its expiry and when
it was used; `pinhole.services.password_resets`). `trashed_images` holds images deleted in the web app for
`web.trash_days`, restorable until then (`pinhole.services.trash`): the `images` row is gone, its columns, tags and
albums are kept as JSON, and the content hash keeps the blob from being released.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "password_resets",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_resets_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_password_resets")),
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"], unique=False)
    op.create_table(
        "trashed_images",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=255), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_trashed_images_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["content_hash"],
            ["blobs.content_hash"],
            name=op.f("fk_trashed_images_content_hash_blobs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trashed_images")),
    )
    for column in ("owner_id", "content_hash", "expires_at"):
        op.create_index(op.f(f"ix_trashed_images_{column}"), "trashed_images", [column], unique=False)


def downgrade() -> None:
    for column in ("owner_id", "content_hash", "expires_at"):
        op.drop_index(op.f(f"ix_trashed_images_{column}"), table_name="trashed_images")
    op.drop_table("trashed_images")
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_table("password_resets")
