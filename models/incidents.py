"""Queries over incidents, their reports, timeline, doubt questions and photos (never commit)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models.outbox import enqueue
from models.tables import Attachment, Conversation, Incident, IncidentEvent, Outbox, Report

OPEN = ("reported", "acknowledged", "handling")
# Inspections and drills are recorded as "noted": never open, never in need of closing.
NOTED = "noted"
NOTED_CATEGORIES = ("inspection",)
CLOSED = ("resolved", "false_alarm", NOTED)
CONFIRM_REPORT = "confirm_report"  # Conversation.kind of the bot's doubt question
KEY_SEP = "|"
MERGE_CANDIDATES = 50  # the latest open incidents of a category a report may join


def split_key(place_key: str) -> set[str]:
    """An incident's place key back into its parts ("workshop:2|company:abc")."""
    return {k for k in place_key.split(KEY_SEP) if k}


def join_key(keys: Iterable[str]) -> str:
    """Canonical place key: sorted parts, fitting the column."""
    return KEY_SEP.join(sorted(set(keys)))[:200]


def _companies(keys: set[str]) -> set[str]:
    return {k for k in keys if k.startswith("company:")}


def same_place(report_keys: set[str], incident_keys: set[str]) -> bool:
    """Every place in the report is already one of the incident's places."""
    return bool(report_keys) and report_keys <= incident_keys


def near_place(report_keys: set[str], incident_keys: set[str]) -> bool:
    """Places overlap (or one side named none), and they do not name different companies.

    "xưởng 2" exists in many companies: a shared workshop code is not the same place when
    both reports name their company and the companies differ.
    """
    a, b = _companies(report_keys), _companies(incident_keys)
    if a and b and not a & b:
        return False
    return not report_keys or not incident_keys or bool(report_keys & incident_keys)


async def lock_category(session: AsyncSession, category: str) -> None:
    """Serialise merging per category across instances (PostgreSQL); SQLite has one writer."""
    if session.bind.dialect.name == "postgresql":
        key = zlib.crc32(f"incident:{category}".encode())
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


async def find_mergeable(
    session: AsyncSession, *, category: str, keys: set[str], now: datetime, window: timedelta
) -> Incident | None:
    """The open incident a new report of `category` at `keys` belongs to, if any.

    Same category and same place (any age while open), else same category reported within
    the window at an overlapping place; the most recently reported candidate wins.
    """
    # Only the columns the choice needs (ORM objects for 50 candidates cost a third of
    # handling a report); the ix_incidents_merge index serves the filter and the order.
    stmt = (
        select(Incident.id, Incident.place_key, Incident.last_reported_at)
        .where(Incident.category == category, Incident.status.in_(OPEN))
        .order_by(Incident.last_reported_at.desc(), Incident.id.desc())
        .limit(MERGE_CANDIDATES)
    )
    candidates = (await session.execute(stmt)).tuples().all()
    chosen = next((i for i, key, _ in candidates if same_place(keys, split_key(key))), None)
    if chosen is None:
        since = now - window
        chosen = next(
            (
                i
                for i, key, last in candidates
                if last >= since and near_place(keys, split_key(key))
            ),
            None,
        )
    return None if chosen is None else await session.get(Incident, chosen)


async def get_incident(
    session: AsyncSession, incident_id: int, *, lock: bool = False
) -> Incident | None:
    stmt = select(Incident).where(Incident.id == incident_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_incidents(session: AsyncSession, limit: int = 50) -> list[Incident]:
    stmt = (
        select(Incident)
        .where(Incident.status.in_(OPEN))
        .order_by(Incident.urgent.desc(), Incident.first_reported_at.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def count_open(session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(Incident).where(Incident.status.in_(OPEN))
    return int((await session.execute(stmt)).scalar_one())


async def unacknowledged_urgent(session: AsyncSession) -> list[Incident]:
    stmt = (
        select(Incident)
        .where(Incident.status == "reported", Incident.urgent.is_(True))
        .order_by(Incident.id)
    )
    return list((await session.execute(stmt)).scalars())


async def reports_of(session: AsyncSession, incident_id: int) -> list[Report]:
    stmt = select(Report).where(Report.incident_pk == incident_id).order_by(Report.id)
    return list((await session.execute(stmt)).scalars())


async def timeline(session: AsyncSession, incident_id: int) -> list[IncidentEvent]:
    """Everything that happened to an incident, oldest first."""
    stmt = (
        select(IncidentEvent)
        .where(IncidentEvent.incident_pk == incident_id)
        .order_by(IncidentEvent.at, IncidentEvent.id)
    )
    return list((await session.execute(stmt)).scalars())


def add_event(
    session: AsyncSession,
    incident: Incident,
    kind: str,
    at: datetime,
    member_pk: int | None = None,
    note: str = "",
) -> IncidentEvent:
    event = IncidentEvent(
        incident_pk=incident.id, at=at, kind=kind, member_pk=member_pk, note=note[:2000]
    )
    session.add(event)
    return event


async def alerted_chats(session: AsyncSession, incident_id: int) -> list[str]:
    """Chats that received an alert or escalation for this incident, in first-sent order."""
    stmt = (
        select(Outbox.chat_id)
        .where(Outbox.ref_type == "incident", Outbox.ref_id == incident_id, Outbox.kind == "alert")
        .order_by(Outbox.id)
    )
    seen: list[str] = []
    for chat in (await session.execute(stmt)).scalars():
        if chat not in seen:
            seen.append(chat)
    return seen


async def due_escalations(session: AsyncSession, now: datetime, limit: int = 100) -> list[Incident]:
    """Urgent incidents nobody took whose escalation time has come (locked for this run)."""
    stmt = (
        select(Incident)
        .where(
            Incident.status == "reported",
            Incident.urgent.is_(True),
            Incident.next_escalation_at.is_not(None),
            Incident.next_escalation_at <= now,
        )
        .order_by(Incident.next_escalation_at, Incident.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def due_reminders(
    session: AsyncSession, now: datetime, age: timedelta, limit: int = 100
) -> list[Incident]:
    """Open incidents older than `age` not reminded about within the last `age`."""
    stmt = (
        select(Incident)
        .where(
            Incident.status.in_(OPEN),
            Incident.first_reported_at <= now - age,
            (Incident.reminded_at.is_(None)) | (Incident.reminded_at <= now - age),
        )
        .order_by(Incident.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def open_doubt(
    session: AsyncSession, chat_id: str, member_pk: int, now: datetime
) -> Conversation | None:
    """The member's newest unanswered doubt question in this chat, if still current."""
    stmt = (
        select(Conversation)
        .where(
            Conversation.chat_id == chat_id,
            Conversation.member_pk == member_pk,
            Conversation.status == "open",
            Conversation.kind == CONFIRM_REPORT,
            Conversation.expires_at > now,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def expired_doubts(
    session: AsyncSession, now: datetime, limit: int = 200
) -> list[Conversation]:
    stmt = (
        select(Conversation)
        .where(
            Conversation.status == "open",
            Conversation.kind == CONFIRM_REPORT,
            Conversation.expires_at <= now,
        )
        .order_by(Conversation.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def doubts_for_reports(session: AsyncSession, report_ids: list[int]) -> list[Conversation]:
    if not report_ids:
        return []
    stmt = select(Conversation).where(
        Conversation.status == "open",
        Conversation.kind == CONFIRM_REPORT,
        Conversation.ref_id.in_(report_ids),
    )
    return list((await session.execute(stmt)).scalars())


async def latest_report_since(
    session: AsyncSession, member_pk: int, since: datetime
) -> Report | None:
    """The member's newest report filed at or after `since` (photos attach to it)."""
    stmt = (
        select(Report)
        .where(
            Report.member_pk == member_pk,
            Report.created_at >= since,
            Report.status != "false_alarm",
        )
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def orphan_photos(session: AsyncSession, member_pk: int, since: datetime) -> list[Attachment]:
    """Photos the member sent recently that no report has claimed yet."""
    stmt = (
        select(Attachment)
        .where(
            Attachment.member_pk == member_pk,
            Attachment.report_pk.is_(None),
            Attachment.created_at >= since,
        )
        .order_by(Attachment.id)
    )
    return list((await session.execute(stmt)).scalars())


async def claim_due_attachments(
    session: AsyncSession, now: datetime, hold: timedelta, limit: int = 20
) -> list[Attachment]:
    """Pending photos due for a fetch; their next attempt moves past `hold` while in hand."""
    stmt = (
        select(Attachment)
        .where(Attachment.status == "pending", Attachment.next_attempt_at <= now)
        .order_by(Attachment.next_attempt_at, Attachment.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.execute(stmt)).scalars())
    for row in rows:
        row.next_attempt_at = now + hold
    return rows


async def queue_alerts(
    session: AsyncSession,
    incident_id: int,
    targets: Iterable[tuple[str, int | None]],
    text: str,
    key_prefix: str,
    now: datetime,
    kind: str = "alert",
    not_before: datetime | None = None,
) -> int:
    """One message about the incident per (chat, member) target, keyed `{key_prefix}:{chat}`
    (urgent alerts, and reminders with kind="reminder"); returns how many were new."""
    queued = 0
    for chat, member_pk in targets:
        out = await enqueue(
            session,
            chat_id=chat,
            text=text,
            kind=kind,
            now=now,
            key=f"{key_prefix}:{chat}",
            member_pk=member_pk,
            ref_type="incident",
            ref_id=incident_id,
            not_before=not_before,
        )
        queued += out is not None
    return queued
