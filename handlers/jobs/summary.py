"""The coordinators' daily summary: one message each, at `reminders.summary_time`.

Open incidents, open requests older than `requests.remind_after_hours`, overdue tasks and
directives still missing acknowledgements, instead of one reminder per item per day. Nothing
is sent when nothing needs attention, nor on quiet hours, holidays or rest days.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.calendar import next_polite_time, polite_time
from handlers.clock import Clock
from handlers.codes import directive_code, incident_code, request_code, task_code
from handlers.config import Settings, parse_hhmm
from handlers.councils import scope
from handlers.intents.requests import address
from handlers.jobs import every, job
from handlers.leave import on_leave_for
from handlers.texts import engagement as engagement_texts
from handlers.texts import incidents as incident_texts
from handlers.texts import requests as texts
from models.engagement import ackers, expected_ackers
from models.incidents import OPEN, reports_of
from models.outbox import enqueue
from models.people import coordinators
from models.requests import open_requests
from models.tables import Directive, Incident, KeyValue, Member, Task

log = logging.getLogger(__name__)
MAX_LINES = 10  # per section: the rest is counted, /baocao, /yeucau ... list everything


def next_summary(settings: Settings, now: datetime) -> datetime:
    """The next working day's summary time after `now`, or the end of quiet hours that day
    (what `antt-bot jobs list` shows; the job itself checks every 15 minutes)."""
    at = parse_hhmm(settings.reminders.summary_time)
    day = now.astimezone(settings.tz).date()
    for _ in range(40):  # Tết, then a rest day: never more than a few weeks
        start = datetime(day.year, day.month, day.day, at.hour, at.minute, tzinfo=settings.tz)
        fire = next_polite_time(settings, start)
        if fire > now and fire.astimezone(settings.tz).date() == day:
            return fire
        day += timedelta(days=1)
    return fire


@job(
    "daily_summary",
    every(15),
    "tổng hợp hằng ngày cho điều phối viên (reminders.summary_time)",
    next_due=next_summary,
)
async def daily_summary(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> int:
    """Level-triggered: the first run at or after the summary time on a working day sends it."""
    now = clock.now()
    local = now.astimezone(settings.tz)
    if local.time() < parse_hhmm(settings.reminders.summary_time) or not polite_time(settings, now):
        return 0
    day = local.date()
    # Several parks: each council's summary is decided on its own (one person may chair two).
    park = f"{settings.council_id}:" if scope(settings) else ""
    marker = f"daily_summary:{park}{day.isoformat()}"
    async with sessions() as session, session.begin():
        if await session.get(KeyValue, marker) is not None:
            return 0  # today's summary was decided already (sent, or nothing to say)
        sections = await summary_sections(session, settings, now)
        queued = await _send(session, settings, now, day, sections) if sections else 0
        session.add(KeyValue(key=marker, value={"queued": queued}, updated_at=now))
    return queued


async def _send(
    session: AsyncSession, settings: Settings, now: datetime, day: date, sections: list[str]
) -> int:
    members, chats = await coordinators(session, settings.coordinators, scope(settings))
    park = f"{settings.council_id}:" if scope(settings) else ""
    targets: dict[str, Member | None] = {}
    for m in members:
        if m.private_chat_id:
            targets.setdefault(m.private_chat_id, m)
    for chat in chats:
        targets.setdefault(chat, None)
    if not targets:
        log.warning("daily summary: no coordinator can be reached")
    queued = 0
    when = texts.weekday_date(day)
    for chat, member in targets.items():
        hello = (
            texts.SUMMARY_HELLO.format(name=address(member), day=when)
            if member is not None
            else texts.SUMMARY_HELLO_GROUP.format(day=when)
        )
        out = await enqueue(
            session,
            chat_id=chat,
            text="\n".join([hello, *sections, texts.SUMMARY_FOOTER]),
            kind="reminder",
            key=f"summary:{park}{chat}:{day.isoformat()}",
            now=now,
            member_pk=member.id if member is not None else None,
            ref_type="summary",
        )
        queued += out is not None
    return queued


async def summary_sections(session: AsyncSession, settings: Settings, now: datetime) -> list[str]:
    """The summary's sections, each a header and its lines; empty when all is in order."""
    today = now.astimezone(settings.tz).date()
    sections: list[str] = []
    for header, lines in (
        (texts.SUMMARY_INCIDENTS, await _incident_lines(session, settings, today)),
        (texts.SUMMARY_REQUESTS, await _request_lines(session, settings, now, today)),
        (texts.SUMMARY_TASKS, await _task_lines(session, settings, now, today)),
        (texts.SUMMARY_DIRECTIVES, await _directive_lines(session, settings)),
    ):
        if lines:
            shown = lines[:MAX_LINES]
            if len(lines) > MAX_LINES:
                shown.append(texts.SUMMARY_MORE.format(n=len(lines) - MAX_LINES))
            sections.append("\n".join([header.format(n=len(lines)), *shown]))
    return sections


def _day(settings: Settings, at: datetime) -> date:
    return at.astimezone(settings.tz).date()


async def _incident_lines(session: AsyncSession, settings: Settings, today: date) -> list[str]:
    rows = (
        await session.execute(
            select(Incident, Member)
            .outerjoin(Member, Member.id == Incident.handler_pk)
            .where(Incident.status.in_(OPEN))
            .order_by(Incident.first_reported_at, Incident.id)
        )
    ).all()
    lines = []
    for incident, handler in rows:
        reports = await reports_of(session, incident.id)
        place = incident_texts.places_text(reports[0].places) if reports else ""
        status = incident_texts.STATUS.get(incident.status, incident.status)
        if handler is not None and incident.status in texts.SUMMARY_HANDLER:
            status = texts.SUMMARY_HANDLER[incident.status].format(who=address(handler))
        lines.append(
            texts.SUMMARY_INCIDENT_LINE.format(
                code=incident_code(incident.id),
                category=incident_texts.category_name(incident.category),
                place=f" ở {place}" if place else "",
                status=status,
                age=texts.age(_day(settings, incident.first_reported_at), today, "mở", "mở"),
            )
        )
    return lines


async def _request_lines(
    session: AsyncSession, settings: Settings, now: datetime, today: date
) -> list[str]:
    old = now - timedelta(hours=settings.requests.remind_after_hours)
    return [
        texts.SUMMARY_REQUEST_LINE.format(
            code=request_code(req.id),
            who=address(member),
            enterprise=(member.enterprise if member else None) or texts.NO_ENTERPRISE,
            age=texts.age(_day(settings, req.asked_at), today, "hỏi", "chờ"),
            text=texts.clip(req.text, 80),
        )
        for req, member in await open_requests(session, asked_before=old, limit=200)
    ]


async def _task_lines(
    session: AsyncSession, settings: Settings, now: datetime, today: date
) -> list[str]:
    rows = (
        await session.execute(
            select(Task, Member)
            .join(Member, Member.id == Task.assignee_pk)
            .where(Task.status == "open", Task.due_at.is_not(None), Task.due_at < now)
            .order_by(Task.due_at, Task.id)
        )
    ).all()
    return [
        texts.SUMMARY_TASK_LINE.format(
            code=task_code(task.id),
            who=address(member),
            text=texts.clip(task.text, 80),
            late=texts.late_by(_day(settings, task.due_at), today) if task.due_at else "",
        )
        for task, member in rows
    ]


async def _directive_lines(session: AsyncSession, settings: Settings) -> list[str]:
    open_ones = (
        await session.execute(
            select(Directive).where(Directive.status == "open").order_by(Directive.id)
        )
    ).scalars()
    lines = []
    for d in list(open_ones):
        expected = await expected_ackers(session, d.id)
        done = await ackers(session, d.id)
        missing = [m for m in expected if m.id not in done]
        away = await on_leave_for(session, settings, d, missing)
        acked, asked = len(expected) - len(missing), len(expected) - len(away)
        if acked < asked:  # those on leave for the whole window are not missing
            lines.append(
                texts.SUMMARY_DIRECTIVE_LINE.format(
                    code=directive_code(d.id),
                    text=texts.clip(d.text, 60),
                    acked=acked,
                    expected=asked,
                    note=engagement_texts.tally_note(acked, asked, len(away), rate=False),
                    deadline=d.deadline_at.astimezone(settings.tz).strftime("%H:%M %d/%m"),
                )
            )
    return lines
