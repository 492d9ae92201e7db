"""Every table. Times are aware UTC; ids from the platform are strings, never numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime

ID = String(128)  # platform ids (Zalo's are 20 hex chars; OA's exceed 2^53 as strings)
# The council a record belongs to (issue 20, docs/councils.md); rows from before councils,
# and every row of a single-council installation, belong to `default`.
DEFAULT_COUNCIL = "default"


def council_column() -> Mapped[str]:
    """The record's council id: never null, `default` unless the writer says otherwise."""
    return mapped_column(String(32), default=DEFAULT_COUNCIL, server_default=DEFAULT_COUNCIL)


class CouncilScoped:
    """A table of one council's records: with a council in the session (models/scoping.py)
    its queries see that council's rows only and its new rows get that council."""

    council_id: Mapped[str] = council_column()


class Group(Base):
    """A chat the bot is in: a configured group, or a member's private chat with the bot."""

    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    council_id: Mapped[str] = council_column()
    chat_id: Mapped[str] = mapped_column(ID, unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(
        String(20), default="council"
    )  # council|enterprise|fire_safety|private
    enterprise: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Member(Base):
    """One person across all groups: from the roster, or a guest first seen in a chat."""

    __tablename__ = "members"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[str | None] = mapped_column(ID, unique=True)  # platform user id
    name: Mapped[str] = mapped_column(String(200), default="")
    name_folded: Mapped[str] = mapped_column(String(200), default="", index=True)
    title: Mapped[str | None] = mapped_column(String(30))  # anh, chị, đồng chí ... (roster)
    display_name: Mapped[str] = mapped_column(String(200), default="")  # as Zalo shows it
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    enterprise: Mapped[str | None] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(20), default="member")  # member|coordinator|admin
    status: Mapped[str] = mapped_column(String(10), default="member")  # member|guest
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)  # enterprise's security lead
    private_chat_id: Mapped[str | None] = mapped_column(ID)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # false: left the roster
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expected_since: Mapped[datetime] = mapped_column(UTCDateTime)  # import date or first seen
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Membership(Base):
    """A member in a group, with the last interaction the bot saw there."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("member_pk", "group_pk"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_pk: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    from_roster: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundEvent(Base):
    """The inbox: every delivery, stored raw before the webhook answers."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("platform", "event_key"),
        Index("ix_inbound_events_pending", "status", "id"),
        # The claim's "chats another instance holds": the claimed rows only, not every
        # pending one (9 ms a claim, under the write lock, with a backlog of 50,000).
        Index("ix_inbound_events_claims", "status", "claimed_by"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)  # arrival order
    platform: Mapped[str] = mapped_column(String(20))
    event_key: Mapped[str] = mapped_column(String(300))
    event_name: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[str] = mapped_column(ID)
    chat_id: Mapped[str] = mapped_column(ID, default="")
    sender_id: Mapped[str] = mapped_column(ID, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(
        String(12), default="pending"
    )  # pending|done|failed|ignored
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Message(Base, CouncilScoped):
    """A member's message with its raw text and its parse (SPEC.md 5)."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_sent_at", "sent_at"),
        Index("ix_messages_member_sent", "member_pk", "sent_at"),
        Index("ix_messages_chat_msg", "chat_id", "message_id"),
        Index("ix_messages_council_sent", "council_id", "sent_at"),
        # The week's messages per council and member from the index alone (revision 0011).
        Index("ix_messages_sent_cover", "sent_at", "council_id", "member_pk"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_pk: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_events.id", ondelete="SET NULL")
    )
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(ID)
    chat_type: Mapped[str] = mapped_column(String(10))
    member_pk: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    member_id: Mapped[str] = mapped_column(ID)
    message_id: Mapped[str] = mapped_column(ID)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    media_url: Mapped[str | None] = mapped_column(Text)
    quote_message_id: Mapped[str | None] = mapped_column(ID)
    type: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(20))
    parse: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Outbox(Base):
    """Everything the bot says, written in the same transaction as what caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "next_attempt_at"),
        # The per-member cap on chat replies counts one member's last hour (revision 0006).
        Index("ix_outbox_member_recent", "member_pk", "created_at"),
        # What was sent about one incident, directive or request (revision 0014).
        Index("ix_outbox_ref", "ref_id", "ref_type"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    council_id: Mapped[str] = council_column()
    chat_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(20))  # alert|reply|directive|task|digest|nudge|...
    priority: Mapped[int] = mapped_column(Integer)  # lower is sent first
    text: Mapped[str] = mapped_column(Text, default="")
    photo_url: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    status: Mapped[str] = mapped_column(
        String(12), default="pending"
    )  # pending|sending|sent|failed|cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_message_ids: Mapped[list[str] | None] = mapped_column(JSON)
    member_pk: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    ref_type: Mapped[str | None] = mapped_column(String(20))  # directive|task|incident|nudge|report
    ref_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chunks_sent: Mapped[int] = mapped_column(Integer, default=0)


class BotMessage(Base):
    """A platform message id the bot sent, so quote-replies can find what they answer."""

    __tablename__ = "bot_messages"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    outbox_pk: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[str] = mapped_column(ID)
    message_id: Mapped[str] = mapped_column(ID)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CheckIn(Base, CouncilScoped):
    """Attendance, shift start or a patrol's all-clear."""

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_at", "at"),
        Index("ix_checkins_council_at", "council_id", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    member_pk: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(20))  # attendance|shift|patrol
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Directive(Base, CouncilScoped):
    """A coordinator's announcement that members must acknowledge."""

    __tablename__ = "directives"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    origin_chat_id: Mapped[str] = mapped_column(ID)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open|closed


class DirectiveTarget(Base):
    """A group a directive was posted to; the members expected to acknowledge are its members."""

    __tablename__ = "directive_targets"
    __table_args__ = (UniqueConstraint("directive_pk", "chat_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    directive_pk: Mapped[int] = mapped_column(ForeignKey("directives.id", ondelete="CASCADE"))
    chat_id: Mapped[str] = mapped_column(ID, index=True)


class Ack(Base):
    """A member acknowledged a directive."""

    __tablename__ = "acks"
    __table_args__ = (UniqueConstraint("directive_pk", "member_pk"), Index("ix_acks_at", "at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    directive_pk: Mapped[int] = mapped_column(ForeignKey("directives.id", ondelete="CASCADE"))
    member_pk: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    chat_id: Mapped[str] = mapped_column(ID)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Task(Base, CouncilScoped):
    """A duty the council assigned to one member, with a deadline."""

    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assignee_pk: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    chat_id: Mapped[str] = mapped_column(ID)
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open|done|cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # "e nhận việc"
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")  # given when done


class MemberRequest(Base, CouncilScoped):
    """A member's question or request to the council (YCn), forwarded to the coordinators."""

    __tablename__ = "requests"
    __table_args__ = (Index("ix_requests_status_asked", "status", "asked_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_pk: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    chat_id: Mapped[str] = mapped_column(ID)  # where it was asked; the answer goes there
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="open")  # open|answered
    # Where the forward went: private|coordinators|council|none (none: nobody reachable).
    forwarded_to: Mapped[str] = mapped_column(String(20), default="none")
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))


class Nudge(Base, CouncilScoped):
    """A nudge planned for an inactive member; sent through the outbox, effect measured."""

    __tablename__ = "nudges"
    __table_args__ = (UniqueConstraint("member_pk", "week", "level"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_pk: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    week: Mapped[str] = mapped_column(String(10))  # ISO week, 2026-W48
    level: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))  # private|group|coordinator
    chat_id: Mapped[str] = mapped_column(ID)
    outbox_pk: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reengaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Incident(Base, CouncilScoped):
    """One real-world event; several reports may merge into it."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_council_first", "council_id", "first_reported_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    category: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(14), default="reported")
    place_key: Mapped[str] = mapped_column(String(200), default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    first_reported_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handler_pk: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # find_mergeable: a category's open incidents, latest report first (one per report filed).
    __table_args__ = (Index("ix_incidents_merge", "category", "status", "last_reported_at"),)


class Report(Base, CouncilScoped):
    """One member's report of an incident (SPEC.md 2, export reports)."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_created", "created_at"),
        Index("ix_reports_council_created", "council_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_pk: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    chat_id: Mapped[str] = mapped_column(ID)
    member_pk: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    category: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(
        String(14), default="confirmed"
    )  # confirmed|unconfirmed|pending
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    places: Mapped[list[Any]] = mapped_column(JSON, default=list)
    people: Mapped[int | None] = mapped_column(Integer)
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text, default="")
    ambiguous: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Attachment(Base):
    """A photo kept with a report; fetched promptly because Zalo's URLs expire."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_pk: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    member_pk: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|fetched|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_type: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IncidentEvent(Base):
    """The incident's timeline: reports, alerts, escalations, status changes."""

    __tablename__ = "incident_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_pk: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    member_pk: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")


class Conversation(Base):
    """A question the bot asked and waits on (confirm a report, pick a member)."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_open", "chat_id", "member_pk", "status"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[str] = mapped_column(ID)
    member_pk: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    ref_id: Mapped[int | None] = mapped_column(BigId)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open|done|expired
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobLease(Base):
    """Which instance runs a job now; a lease that expires if the holder dies."""

    __tablename__ = "job_leases"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class KeyValue(Base):
    """Small durable state: OA tokens, the demo clock offset."""

    __tablename__ = "kv"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditLog(Base):
    """Who changed what on the dashboard or the roster."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Artifact(Base):
    """A file the bot serves at an unguessable URL (digest charts for sendPhoto)."""

    __tablename__ = "artifacts"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    content_type: Mapped[str] = mapped_column(String(60))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SentDigest(Base):
    """The text of a week's digest as it was queued for the coordinators (issue 16.5).

    The history page shows this, not a re-rendering with later figures; later recipients of
    the same week get the same text.
    """

    __tablename__ = "sent_digests"
    # One digest per council and week (revision 0010 made the council part of the key).
    council_id: Mapped[str] = mapped_column(
        String(32), primary_key=True, default=DEFAULT_COUNCIL, server_default=DEFAULT_COUNCIL
    )
    week: Mapped[str] = mapped_column(String(10), primary_key=True)  # 2026-W48
    text: Mapped[str] = mapped_column(Text)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)  # the figures' moment
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Commendation(Base, CouncilScoped):
    """A coordinator's /khen: a member honoured as a good example, with the reason."""

    __tablename__ = "commendations"
    __table_args__ = (Index("ix_commendations_created_at", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_pk: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    by_pk: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    chat_id: Mapped[str] = mapped_column(ID)  # where it was asked
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Post(Base, CouncilScoped):
    """A propaganda / legal-education post on the council's calendar, optionally with a quiz."""

    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The import key: the local time and the target chats ("" = every group), one post each.
    slot: Mapped[str] = mapped_column(String(600), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)  # chat ids; [] = every group
    text: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str | None] = mapped_column(String(1000))
    ack: Mapped[bool] = mapped_column(Boolean, default=False)
    question: Mapped[str | None] = mapped_column(Text)
    answers: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the quiz's answer given


class PostResponse(Base):
    """A member's "đã đọc" or quiz answer to a post (one of each per member)."""

    __tablename__ = "post_responses"
    __table_args__ = (UniqueConstraint("post_pk", "member_pk", "kind"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_pk: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    member_pk: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    chat_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(10))  # read|answer
    text: Mapped[str] = mapped_column(Text, default="")
    correct: Mapped[bool | None] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CouncilMember(Base):
    """A member of one council, with the role the council's roster gives (issue 20).

    A person may sit on several parks' councils; `members.role` stays the role of the last
    roster read, and a council's own coordinators are the rows here with its id."""

    __tablename__ = "council_members"
    __table_args__ = (UniqueConstraint("member_pk", "council_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_pk: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    council_id: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(20), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Registers the council scoping of sessions (models/scoping.py) wherever tables are used.
import models.scoping  # noqa: E402, F401
