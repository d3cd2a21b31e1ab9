"""Cloudinary public ids

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-07

`cloudinary_public_ids` maps a public id given at a Cloudinary-API upload (per client) onto the image it names.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cloudinary_public_ids",
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("public_id", sa.String(length=255), nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_cloudinary_public_ids_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_cloudinary_public_ids_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("client_id", "public_id", name=op.f("pk_cloudinary_public_ids")),
    )
    with op.batch_alter_table("cloudinary_public_ids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cloudinary_public_ids_image_id"), ["image_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cloudinary_public_ids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cloudinary_public_ids_image_id"))
    op.drop_table("cloudinary_public_ids")
