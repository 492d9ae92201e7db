"""incidents: those closed by "không sao" before `settled` existed become settled

Until the `settled` status ("đã ổn"), a reporter's or coordinator's "Họ đã bỏ đi rồi, không
sao" closed the incident as `false_alarm`, and the digest and the dashboard still count it as
a false alarm. The closing step's note holds the words, and the member's message is stored
(kept `retention.messages_days`), so the records tell the two apart: words typed as a message
(not "/bao_nham SVn không sao", a verdict the sender gave), saying "không sao" with no "báo
nhầm" / "nhầm rồi" and no question mark, close as `settled` today, and so they become.
docs/incidents.md, "False alarms and không sao".

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

from handlers.text import fold_key
from models.base import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SAYS_OVER = "khong sao"
SAYS_MISTAKEN = ("bao nham", "nham roi")
# The message is stored when it is received; the step is written when it is handled (later,
# by minutes after an outage; a redelivery by up to a day).
SENT_BEFORE = timedelta(days=1)
CLOCK_SKEW = timedelta(minutes=5)

events = sa.table(
    "incident_events",
    sa.column("id", sa.BigInteger),
    sa.column("incident_pk", sa.BigInteger),
    sa.column("member_pk", sa.BigInteger),
    sa.column("at", UTCDateTime()),
    sa.column("kind", sa.String),
    sa.column("note", sa.Text),
)
incidents = sa.table("incidents", sa.column("id", sa.BigInteger), sa.column("status", sa.String))
messages = sa.table(
    "messages",
    sa.column("member_pk", sa.BigInteger),
    sa.column("sent_at", UTCDateTime()),
    sa.column("text", sa.Text),
    sa.column("quote_message_id", sa.String),
)


def says_it_is_over(note: str) -> bool:
    """ "không sao" without "báo nhầm": what closes as settled now (a question closes nothing
    now; those it closed then stay as recorded)."""
    words = f" {' '.join(re.findall(r'[a-z0-9]+', fold_key(note)))} "
    return (
        "?" not in note
        and f" {SAYS_OVER} " in words
        and not any(f" {p} " in words for p in SAYS_MISTAKEN)
    )


def typed_as_message(text: str, note: str) -> bool:
    """The stored message is the note itself, maybe after an @mention of the bot; a command
    ("/bao_nham SV1 không sao", "@Bot /huy SV1 không sao") keeps only its tail as the note."""
    text, note = text.strip(), note.strip()
    if not note or not text.endswith(note):
        return False
    before = text[: len(text) - len(note)].strip()
    return not before or (before.startswith("@") and "/" not in before)


def closed_in_words(bind: sa.Connection, member_pk: int, at: datetime, note: str) -> bool:
    """Whether the member sent `note` as a message (not a quote-reply) just before `at`."""
    stmt = sa.select(messages.c.text).where(
        messages.c.member_pk == member_pk,
        messages.c.sent_at >= at - SENT_BEFORE,
        messages.c.sent_at <= at + CLOCK_SKEW,
        messages.c.quote_message_id.is_(None),  # a reply to an alert took other words
    )
    return any(typed_as_message(text or "", note) for text in bind.execute(stmt).scalars())


def upgrade() -> None:
    bind = op.get_bind()
    closing = bind.execute(
        sa.select(events.c.id, events.c.incident_pk, events.c.member_pk, events.c.at, events.c.note)
        .join(incidents, incidents.c.id == events.c.incident_pk)
        .where(events.c.kind == "false_alarm", incidents.c.status == "false_alarm")
    ).all()
    for step in closing:
        if step.member_pk is None or not says_it_is_over(step.note or ""):
            continue
        if not closed_in_words(bind, step.member_pk, step.at, step.note):
            continue
        bind.execute(sa.update(events).where(events.c.id == step.id).values(kind="settled"))
        bind.execute(
            sa.update(incidents)
            .where(incidents.c.id == step.incident_pk, incidents.c.status == "false_alarm")
            .values(status="settled")
        )


def downgrade() -> None:
    """Nothing is undone: which incidents this revision changed is not recorded. To go back,
    restore the backup taken before `db upgrade` (docs/deploy.md's runbook)."""
