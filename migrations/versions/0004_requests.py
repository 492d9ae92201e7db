"""requests: members' questions and requests (YCn) and their answers

Revision ID: 0004
Revises: 0001
Create Date: 2026-12-05 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "message_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("forwarded_to", sa.String(length=20), nullable=False),
        sa.Column("asked_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column(
            "answered_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["member_pk"],
            ["members.id"],
            name=op.f("fk_requests_member_pk_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_pk"],
            ["messages.id"],
            name=op.f("fk_requests_message_pk_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["answered_by"],
            ["members.id"],
            name=op.f("fk_requests_answered_by_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
    )
    op.create_index("ix_requests_status_asked", "requests", ["status", "asked_at"], unique=False)
    op.create_index(op.f("ix_requests_member_pk"), "requests", ["member_pk"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_requests_member_pk"), table_name="requests")
    op.drop_index("ix_requests_status_asked", table_name="requests")
    op.drop_table("requests")
