"""Per-client proxy keys

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-07

`proxy_client_keys` holds each client's own keys for the proxy URL dialects (imgproxy, thumbor, imgix, Cloudinary),
the secret part sealed with the server secret (docs/proxies.md, "Per-client keys").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proxy_client_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("dialect", sa.String(length=16), nullable=False),
        sa.Column("cloud_name", sa.String(length=128), nullable=True),
        sa.Column("api_key", sa.String(length=128), nullable=True),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_proxy_client_keys_client_id_clients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxy_client_keys")),
    )
    op.create_index(op.f("ix_proxy_client_keys_client_id"), "proxy_client_keys", ["client_id"], unique=False)
    op.create_index(op.f("ix_proxy_client_keys_cloud_name"), "proxy_client_keys", ["cloud_name"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_proxy_client_keys_cloud_name"), table_name="proxy_client_keys")
    op.drop_index(op.f("ix_proxy_client_keys_client_id"), table_name="proxy_client_keys")
    op.drop_table("proxy_client_keys")
