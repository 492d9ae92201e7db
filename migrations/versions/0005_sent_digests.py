"""sent_digests: the text of each week's digest as it was sent

Revision ID: 0005
Revises: 0001
Create Date: 2026-12-05 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_digests",
        sa.Column("week", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("as_of", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("week", name=op.f("pk_sent_digests")),
    )


def downgrade() -> None:
    op.drop_table("sent_digests")
