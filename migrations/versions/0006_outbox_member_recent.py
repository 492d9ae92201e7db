"""outbox: chat replies to one member in the last hour are counted (the per-member cap)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 08:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_member_recent", "outbox", ["member_pk", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_member_recent", table_name="outbox")
