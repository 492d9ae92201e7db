"""incidents: an index for finding the open incident a new report belongs to

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incidents_merge", "incidents", ["category", "status", "last_reported_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_merge", table_name="incidents")
