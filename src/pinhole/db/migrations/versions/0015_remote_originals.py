"""Remote originals

Revision ID: 0015
Revises: 0007
Create Date: 2026-12-07

`remote_originals` records each remote origin URL a proxy URL fetched (issue 19): the blob its bytes are stored
as, the origin's validators (ETag, Last-Modified) and when it was last checked and last served.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "remote_originals",
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("mime_type", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(length=255), nullable=True),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_accessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_hash"],
            ["blobs.content_hash"],
            name=op.f("fk_remote_originals_content_hash_blobs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("url_hash", name=op.f("pk_remote_originals")),
    )
    with op.batch_alter_table("remote_originals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_remote_originals_content_hash"), ["content_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_remote_originals_last_accessed_at"), ["last_accessed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("remote_originals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remote_originals_last_accessed_at"))
        batch_op.drop_index(batch_op.f("ix_remote_originals_content_hash"))
    op.drop_table("remote_originals")
