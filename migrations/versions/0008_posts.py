"""posts: the propaganda calendar, its quizzes and members' reads and answers

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-05 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0008"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", BIG, nullable=False),
        sa.Column("slot", sa.String(length=600), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("image_url", sa.String(length=1000), nullable=True),
        sa.Column("ack", sa.Boolean(), nullable=False),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        sa.UniqueConstraint("slot", name=op.f("uq_posts_slot")),
    )
    op.create_index(op.f("ix_posts_at"), "posts", ["at"], unique=False)
    op.create_table(
        "post_responses",
        sa.Column("id", BIG, nullable=False),
        sa.Column("post_pk", BIG, nullable=False),
        sa.Column("member_pk", BIG, nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_pk"],
            ["posts.id"],
            name=op.f("fk_post_responses_post_pk_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_pk"],
            ["members.id"],
            name=op.f("fk_post_responses_member_pk_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_responses")),
        sa.UniqueConstraint(
            "post_pk", "member_pk", "kind", name=op.f("uq_post_responses_post_pk_member_pk_kind")
        ),
    )
    op.create_index(op.f("ix_post_responses_post_pk"), "post_responses", ["post_pk"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_post_responses_post_pk"), table_name="post_responses")
    op.drop_table("post_responses")
    op.drop_index(op.f("ix_posts_at"), table_name="posts")
    op.drop_table("posts")
