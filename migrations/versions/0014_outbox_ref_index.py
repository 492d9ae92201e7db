"""outbox: what was sent about one incident, directive or request, read by an index

Who was alerted about an incident (asked on every report merged into it, every progress
word and every escalation), who received a directive and which requests were passed on are
read from the outbox by (ref_type, ref_id). Without an index each read scanned the whole
outbox, which only grows: under a flood of 20,000 deliveries it was 15 % of the app's time,
and a year of a park's messages makes it slower every day.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_ref", "outbox", ["ref_id", "ref_type"])


def downgrade() -> None:
    op.drop_index("ix_outbox_ref", table_name="outbox")
