"""commendations: members honoured by a coordinator's /khen

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-05 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0009"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commendations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_pk", sa.BigInteger(), nullable=False),
        sa.Column("by_pk", sa.BigInteger(), nullable=True),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_pk"],
            ["members.id"],
            name=op.f("fk_commendations_member_pk_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_pk"],
            ["members.id"],
            name=op.f("fk_commendations_by_pk_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commendations")),
    )
    op.create_index("ix_commendations_created_at", "commendations", ["created_at"], unique=False)
    op.create_index(
        op.f("ix_commendations_member_pk"), "commendations", ["member_pk"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_commendations_member_pk"), table_name="commendations")
    op.drop_index("ix_commendations_created_at", table_name="commendations")
    op.drop_table("commendations")
