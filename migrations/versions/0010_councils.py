"""councils: every record names its council; council members; one digest per council and week

Rows from before (one council) get `default`, the id of a single-council installation.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-05 10:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0010"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None

DEFAULT = "default"
# Tables whose rows belong to one council (docs/councils.md lists why these).
RECORDS = (
    "groups",
    "messages",
    "outbox",
    "checkins",
    "directives",
    "tasks",
    "requests",
    "nudges",
    "incidents",
    "reports",
    "commendations",
    "posts",
)
# (index, table, columns): the council's window of the tables digests and pages read most.
INDEXES = (
    ("ix_messages_council_sent", "messages", ["council_id", "sent_at"]),
    ("ix_checkins_council_at", "checkins", ["council_id", "at"]),
    ("ix_reports_council_created", "reports", ["council_id", "created_at"]),
    ("ix_incidents_council_first", "incidents", ["council_id", "first_reported_at"]),
)


def _council_column() -> sa.Column[str]:
    # A plain string default: SQLite then adds the column in place; an SQL expression would
    # make batch mode rebuild the table, and dropping `groups` cascades to its memberships.
    return sa.Column("council_id", sa.String(length=32), nullable=False, server_default=DEFAULT)


def upgrade() -> None:
    for table in RECORDS:
        # The server default fills existing rows; batch mode rebuilds the table on SQLite.
        with op.batch_alter_table(table) as batch:
            batch.add_column(_council_column())
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    # The week alone was the key: two parks' digests of one week need the council in it.
    with op.batch_alter_table("sent_digests", recreate="always") as batch:
        batch.add_column(_council_column())
        batch.drop_constraint("pk_sent_digests", type_="primary")
        batch.create_primary_key("pk_sent_digests", ["council_id", "week"])
    op.create_table(
        "council_members",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_pk", sa.BigInteger(), nullable=False),
        sa.Column("council_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_pk"],
            ["members.id"],
            name=op.f("fk_council_members_member_pk_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_members")),
        sa.UniqueConstraint(
            "member_pk", "council_id", name=op.f("uq_council_members_member_pk_council_id")
        ),
    )
    op.create_index(
        op.f("ix_council_members_council_id"), "council_members", ["council_id"], unique=False
    )
    # Everyone already known is in the one council there was, with the role they had.
    op.execute(
        sa.text(
            "INSERT INTO council_members (member_pk, council_id, role, created_at) "
            "SELECT id, :council, role, created_at FROM members"
        ).bindparams(council=DEFAULT)
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_council_members_council_id"), table_name="council_members")
    op.drop_table("council_members")
    op.execute(
        sa.text("DELETE FROM sent_digests WHERE council_id <> :council").bindparams(council=DEFAULT)
    )
    with op.batch_alter_table("sent_digests", recreate="always") as batch:
        batch.drop_constraint("pk_sent_digests", type_="primary")
        batch.create_primary_key("pk_sent_digests", ["week"])
        batch.drop_column("council_id")
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
    for table in RECORDS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("council_id")
