"""people: how a member is addressed; when a task was accepted and its note when done

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-05 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("title", sa.String(length=30), nullable=True))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(
            sa.Column("accepted_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("note")
        batch.drop_column("accepted_at")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("title")
