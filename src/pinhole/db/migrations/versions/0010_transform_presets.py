"""transform presets an admin manages

Revision ID: 0010
Revises: 0014
Create Date: 2026-12-07

`transform_presets` holds the named option sets an admin adds through `/v2/admin/presets` or the web admin page
(docs/transforms.md, "Presets"): the name, its v2 query (`w=400&h=300&fit=cover`), whether it is rendered eagerly
after uploads, and who changed it when. Presets from the settings file are not stored here: they are read-only and
win over nothing, since a stored preset may not take a configured name.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transform_presets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("eager", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_by", sa.String(length=36), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_transform_presets")),
    )


def downgrade() -> None:
    op.drop_table("transform_presets")
