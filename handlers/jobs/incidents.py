"""Incident jobs: escalate urgent alerts nobody took, remind open incidents, expire doubts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.calendar import next_polite_time, polite_time
from handlers.clock import Clock
from handlers.config import Settings, parse_quiet_hours
from handlers.intents.incident_questions import pass_on_to_woken
from handlers.intents.incidents import (
    alert_reach,
    full_name_of,
    is_held,
    put_out,
    release_held,
    reported_reasons,
)
from handlers.jobs import every, job
from handlers.texts import incidents as texts
from models.incidents import (
    add_event,
    due_escalations,
    due_reminders,
    expired_doubts,
    get_incident,
    queue_alerts,
    reports_of,
)
from models.outbox import enqueue
from models.people import member_by_platform_id
from models.scoping import members_here
from models.tables import Incident, Member, Report


@job("incident_escalation", every(1), "chuyển cấp báo khẩn chưa có người nhận xử lý")
async def incident_escalation(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> int:
    now = clock.now()
    queued = 0
    async with sessions() as session, session.begin():
        for incident in await due_escalations(session, now):
            queued += await escalate(session, settings, now, incident)
    return queued


async def escalate(
    session: AsyncSession, settings: Settings, now: datetime, incident: Incident
) -> int:
    """One step up: the next person in alerts.escalation_chain, else the coordinators again.

    The step, its recipients and the next deadline are written in one transaction, so a
    second run (or instance) finds nothing due and the keys make any overlap harmless.
    """
    if is_held(incident):
        # An ambiguous report nobody denied in time: its first alert goes out now.
        return await release_held(session, settings, now, incident, confirmed=False)
    alerts = settings.alerts
    level = incident.escalation_level + 1
    if level > alerts.max_escalations:
        incident.next_escalation_at = None
        add_event(session, incident, "escalation_done", now)
        return 0
    reports = await reports_of(session, incident.id)
    first = reports[0] if reports else None
    targets: list[tuple[str, int | None]] = []
    who = ""
    chain = await escalation_people(session, settings, first)
    if level <= len(chain):
        person = chain[level - 1]
        if person is not None and person.active and person.private_chat_id:
            targets, who = [(person.private_chat_id, person.id)], full_name_of(person)
    if not targets:
        # Chain exhausted or that person unreachable: say it again to every coordinator
        # (and the council groups when no coordinator can be reached in private).
        reach = await alert_reach(session, settings)
        targets, who = reach.targets, ", ".join(reach.people + reach.groups)
    minutes = max(1, int((now - incident.first_reported_at).total_seconds() // 60))
    text = texts.escalation(
        incident.id,
        incident.category,
        texts.places_text(first.places) if first else "",
        minutes,
        level,
        first.text if first else "",
        fire_out=put_out(await reported_reasons(session, reports)),
    )
    queued = await queue_alerts(
        session, incident.id, targets, text, f"escalate:{incident.id}:{level}", now
    )
    await pass_on_to_woken(session, settings, now, incident)  # what was asked about it
    incident.escalation_level = level
    incident.next_escalation_at = (
        now + timedelta(minutes=alerts.ack_timeout_minutes)
        if level < alerts.max_escalations
        else None
    )
    add_event(session, incident, "escalation", now, note=f"lần {level}: {who or 'không ai'}")
    return queued


async def escalation_people(
    session: AsyncSession, settings: Settings, first: Report | None
) -> list[Member | None]:
    """Beyond the coordinators: the reporter's enterprise security lead, then
    alerts.escalation_chain in order, then the council's chair (alerts.chair)."""
    people: list[Member | None] = []
    reporter = await session.get(Member, first.member_pk) if first and first.member_pk else None
    if reporter is not None and reporter.enterprise:
        lead = (
            (
                await session.execute(
                    select(Member)
                    .where(
                        Member.enterprise == reporter.enterprise,
                        Member.is_lead.is_(True),
                        Member.active.is_(True),
                        Member.id != reporter.id,
                        *members_here(session),
                    )
                    .order_by(Member.id)
                )
            )
            .scalars()
            .first()
        )
        if lead is not None:
            people.append(lead)
    for ident in settings.alerts.escalation_chain:
        people.append(await member_by_platform_id(session, ident))
    if settings.alerts.chair:
        chair = settings.alerts.chair
        people.append(
            await member_by_platform_id(session, chair)
            or (await session.execute(select(Member).where(Member.phone == chair)))
            .scalars()
            .first()
        )
    return people


@job(
    "incident_reminders",
    every(5),
    "nhắc sự việc còn mở; báo cáo không trả lời câu hỏi thành chưa xác nhận",
)
async def incident_reminders(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> int:
    now = clock.now()
    async with sessions() as session, session.begin():
        queued = await expire_doubts(session, now)
        queued += await remind_open(session, settings, now)
    return queued


async def expire_doubts(session: AsyncSession, now: datetime) -> int:
    """An unanswered doubt question leaves its report "unconfirmed": kept, never dropped."""
    queued = 0
    for conv in await expired_doubts(session, now):
        conv.status = "expired"
        report = await session.get(Report, conv.ref_id) if conv.ref_id else None
        if report is None or report.status != "pending":
            continue
        report.status = "unconfirmed"
        incident = await get_incident(session, report.incident_pk) if report.incident_pk else None
        if incident is not None:
            add_event(
                session, incident, "unconfirmed", now, report.member_pk, f"báo cáo số {report.id}"
            )
        if (
            await enqueue(
                session,
                chat_id=conv.chat_id,
                kind="reply",
                now=now,
                key=f"doubt-expired:{conv.id}",
                ref_type="report",
                ref_id=report.id,
                text=texts.DOUBT_EXPIRED.format(report_id=report.id),
            )
            is not None
        ):
            queued += 1
    return queued


async def remind_open(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Open incidents past the configured age: remind whoever holds it (`/xuly`, "nhận xử lý"),
    whatever their role. Nobody else gets a per-incident reminder: open incidents are in the
    coordinators' daily summary. Not in quiet hours, on a holiday or a rest day."""
    hours = settings.alerts.open_incident_reminder_hours
    age = timedelta(hours=hours)
    not_before = (
        None
        if polite_time(settings, now)
        else next_polite_time(settings, quiet_end(settings, now) or now)
    )
    queued = 0
    for incident in await due_reminders(session, now, age):
        period = int((now - incident.first_reported_at) / age)
        handler = await session.get(Member, incident.handler_pk) if incident.handler_pk else None
        incident.reminded_at = now
        if handler is None or not handler.active or not handler.private_chat_id:
            continue  # nobody holds it: the coordinators see it in their daily summary
        targets: list[tuple[str, int | None]] = [(handler.private_chat_id, handler.id)]
        reports = await reports_of(session, incident.id)
        places = texts.places_text(reports[0].places) if reports else ""
        text = texts.reminder(
            incident.id, incident.category, places, incident.status, hours * max(period, 1)
        )
        queued += await queue_alerts(
            session,
            incident.id,
            targets,
            text,
            f"incident-reminder:{incident.id}:{period}",
            now,
            kind="reminder",
            not_before=not_before,
        )
        add_event(session, incident, "reminder", now, note=f"{len(targets)} chat")
    return queued


def quiet_end(settings: Settings, now: datetime) -> datetime | None:
    """End of the quiet hours `now` falls in (UTC), or None outside them."""
    start, end = parse_quiet_hours(settings.engagement.quiet_hours)
    if start == end:
        return None
    tz = settings.tz
    local = now.astimezone(tz)
    t = local.time()
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date() + timedelta(days=1) if start > end and t >= start else local.date()
    return datetime.combine(day, end, tz).astimezone(now.tzinfo)
