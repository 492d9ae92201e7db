"""province: the week's messages per council and member read from the index alone

The provincial overview and every park's digest count a week's messages per (council,
member); with (sent_at, council_id, member_pk) PostgreSQL answers from the index without
visiting the table (docs/scaling.md: 383 ms -> 40 ms for a week of 30 parks).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 11:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_sent_cover", "messages", ["sent_at", "council_id", "member_pk"])


def downgrade() -> None:
    op.drop_index("ix_messages_sent_cover", table_name="messages")
