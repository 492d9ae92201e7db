"""Urgent alerts: who they reach (never a claim the outbox does not back), the first alert
held for the reporter's answer, follow-ups to those alerted."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.config import Settings
from handlers.councils import DEFAULT_COUNCIL_NAME, council_name, own, scope
from handlers.intents.incidents.understanding import (
    HELD,
    HOLD_MINUTES,
    full_name_of,
    local,
    name_of,
    put_out,
)
from handlers.texts import councils as council_texts
from handlers.texts import incidents as texts
from models.incidents import (
    add_event,
    alerted_chats,
    queue_alerts,
    reports_of,
)
from models.outbox import enqueue
from models.people import coordinators, member_by_platform_id
from models.tables import Group, Incident, Member, Message, Report

log = logging.getLogger(__name__)


def is_held(incident: Incident) -> bool:
    """An urgent incident whose first alert waits for the reporter's answer."""
    return incident.urgent and incident.escalation_level == HELD and incident.status == "reported"


def hold_alert(session: AsyncSession, now: datetime, incident: Incident) -> None:
    """Mark the incident urgent with its first alert held for HOLD_MINUTES."""
    incident.urgent = True
    incident.escalation_level = HELD
    incident.next_escalation_at = now + timedelta(minutes=HOLD_MINUTES)
    add_event(session, incident, "alert_held", now, note=f"chờ người báo {HOLD_MINUTES} phút")


async def release_held(
    session: AsyncSession, settings: Settings, now: datetime, incident: Incident, confirmed: bool
) -> int:
    """The held first alert goes out: the reporter said "đúng" or did not deny in time."""
    reports = await reports_of(session, incident.id)
    if not reports:
        return 0
    first = reports[0]
    reporter = await session.get(Member, first.member_pk) if first.member_pk else None
    when = local(first.occurred_at or first.created_at, settings.tz)
    reach = await raise_alert(
        session, settings, now, incident, first, reporter, when, unconfirmed=not confirmed
    )
    return len(reach.targets)


async def coordinator_targets(
    session: AsyncSession, settings: Settings, exclude_member_pk: int | None = None
) -> list[tuple[str, int | None]]:
    """Where alerts go: each coordinator's private chat, then each coordinators' chat."""
    members, chats = await coordinators(session, settings.coordinators, scope(settings))
    targets: list[tuple[str, int | None]] = []
    for m in members:
        if m.private_chat_id and m.id != exclude_member_pk:
            targets.append((m.private_chat_id, m.id))
    targets.extend((chat, None) for chat in chats)
    unique: dict[str, int | None] = {}
    for chat, member_pk in targets:
        unique.setdefault(chat, member_pk)
    return list(unique.items())


@dataclass
class Reach:
    """Who an alert was actually queued for: people by name, groups by name."""

    targets: list[tuple[str, int | None]] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


async def alert_reach(
    session: AsyncSession, settings: Settings, exclude_member_pk: int | None = None
) -> Reach:
    """Coordinators privately and the coordinators' chats; with no coordinator reachable in
    private, the council group(s) too, so an alert never waits for nobody."""
    reach = Reach(targets=await coordinator_targets(session, settings, exclude_member_pk))
    private = [pk for _chat, pk in reach.targets if pk is not None]
    if not private:
        councils = await session.execute(
            select(Group.chat_id)
            .where(Group.kind == "council", *own(Group, settings))
            .order_by(Group.id)
        )
        known = {chat for chat, _pk in reach.targets}
        reach.targets.extend((chat, None) for (chat,) in councils if chat not in known)
    await _name_targets(session, reach)
    return reach


async def _name_targets(session: AsyncSession, reach: Reach) -> None:
    """Name each target: the person whose private chat it is, else its group (by name).
    Two reads for all the targets, not two for each: an alert may reach a hundred groups."""
    persons = [
        await session.get(Member, pk) if pk is not None else None for _chat, pk in reach.targets
    ]
    unknown = [
        chat for (chat, _pk), person in zip(reach.targets, persons, strict=True) if person is None
    ]
    owners = await _private_chat_owners(session, unknown)
    persons = [
        owners.get(chat) if person is None else person
        for (chat, _pk), person in zip(reach.targets, persons, strict=True)
    ]
    groups = await _groups_of(
        session, [chat for (chat, _pk), p in zip(reach.targets, persons, strict=True) if p is None]
    )
    for (chat, _pk), person in zip(reach.targets, persons, strict=True):
        if person is not None:
            reach.people.append(name_of(person))
            continue
        group = groups.get(chat)
        reach.groups.append(group.name if group is not None and group.name else "điều phối")


NAMING_CHUNK = 500  # chats per read, well inside any driver's limit of bound values


async def _private_chat_owners(session: AsyncSession, chats: list[str]) -> dict[str, Member]:
    """The member whose private chat each of `chats` is (the first by id if several)."""
    owners: dict[str, Member] = {}
    unique = list(dict.fromkeys(chats))
    for i in range(0, len(unique), NAMING_CHUNK):
        stmt = (
            select(Member)
            .where(Member.private_chat_id.in_(unique[i : i + NAMING_CHUNK]))
            .order_by(Member.id)
        )
        for member in (await session.execute(stmt)).scalars():
            if member.private_chat_id is not None:
                owners.setdefault(member.private_chat_id, member)
    return owners


async def _groups_of(session: AsyncSession, chats: list[str]) -> dict[str, Group]:
    """The group of each of `chats` that is one (a group's chat id is unique)."""
    groups: dict[str, Group] = {}
    unique = list(dict.fromkeys(chats))
    for i in range(0, len(unique), NAMING_CHUNK):
        stmt = select(Group).where(Group.chat_id.in_(unique[i : i + NAMING_CHUNK]))
        groups.update((g.chat_id, g) for g in (await session.execute(stmt)).scalars())
    return groups


async def alerted_reach(session: AsyncSession, incident_id: int) -> Reach:
    """Who really has an alert row for this incident (what the reporter is told)."""
    return await reach_of(session, await alerted_chats(session, incident_id))


async def reach_of(session: AsyncSession, chats: list[str]) -> Reach:
    """`chats` named: the people whose private chats they are, else the groups."""
    reach = Reach(targets=[(chat, None) for chat in chats])
    await _name_targets(session, reach)
    return reach


async def raise_alert(
    session: AsyncSession,
    settings: Settings,
    now: datetime,
    incident: Incident,
    report: Report,
    reporter: Member | None,
    when: str,
    unconfirmed: bool,
    content: str | None = None,
) -> Reach:
    """Level 0: tell every coordinator at once (priority 0: quiet hours and budget do not apply).
    `content`: what the alert quotes, when more than the report's text (its details)."""
    exclude = reporter.id if reporter is not None else None
    reach = await alert_reach(session, settings, exclude_member_pk=exclude)
    text = texts.alert(
        incident.id,
        incident.category,
        texts.places_text(report.places),
        texts.Reporter(
            full_name_of(reporter),
            reporter.phone if reporter is not None else None,
            reporter.enterprise if reporter is not None else None,
        ),
        when,
        report.text if content is None else content,
        report.phones,
        unconfirmed,
        fire_out=put_out(await reported_reasons(session, [report])),
    )
    await queue_alerts(session, incident.id, reach.targets, text, f"alert:{incident.id}:0", now)
    await copy_to_province(session, settings, now, incident, report, text, reach)
    incident.urgent = True
    incident.escalation_level = 0
    incident.next_escalation_at = now + timedelta(minutes=settings.alerts.ack_timeout_minutes)
    note = ", ".join(reach.people + reach.groups) or "không có người nhận: chờ chuyển cấp"
    add_event(
        session, incident, "alert", now, note=note + (" (chưa xác nhận)" if unconfirmed else "")
    )
    if not reach.targets:
        log.warning("incident %s: no coordinator to alert", incident.id)
    # A question about it held for the morning no longer waits (requests imports this package).
    from handlers.intents.incident_questions import send_held_questions

    await send_held_questions(session, settings, now, incident)
    return reach


async def copy_to_province(
    session: AsyncSession,
    settings: Settings,
    now: datetime,
    incident: Incident,
    report: Report,
    alert: str,
    reach: Reach,
) -> int:
    """The province's staff get a copy of the urgent alerts they asked for (fire, hazmat,
    injuries by default), saying which park; they are told of its outcome like the others."""
    wanted = settings.province.copy_urgent
    if not settings.province.coordinators:
        return 0
    if incident.category not in wanted.categories and not (
        wanted.injuries and await _injured(session, report)
    ):
        return 0
    known = {chat for chat, _pk in reach.targets}
    targets: list[tuple[str, int | None]] = []
    for ident in settings.province.coordinators:
        person = await member_by_platform_id(session, ident)
        chat = person.private_chat_id or ident if person is not None else ident
        if chat not in known:
            known.add(chat)
            targets.append((chat, person.id if person is not None else None))
    park = council_name(settings, settings.council_id) or DEFAULT_COUNCIL_NAME
    text = council_texts.PROVINCE_COPY.format(park=park, alert=alert)
    reach.targets.extend(targets)
    await _name_targets(session, Reach(targets=targets, people=reach.people, groups=reach.groups))
    return await queue_alerts(
        session, incident.id, targets, text, f"alert-province:{incident.id}", now
    )


async def _injured(session: AsyncSession, report: Report) -> bool:
    """The report says someone is hurt, fainted or dead (the parse's reasons)."""
    return bool({"injury", "fainted", "death"} & set(await reported_reasons(session, [report])))


async def reported_reasons(session: AsyncSession, reports: list[Report]) -> list[str]:
    """What the reports' parses give as reasons for their severity (injury, put_out...)."""
    pks = [r.message_pk for r in reports if r.message_pk is not None]
    if not pks:
        return []
    parses = await session.execute(select(Message.parse).where(Message.id.in_(pks)))
    return [why for p in parses.scalars() for why in ((p or {}).get("reasons") or [])]


async def tell_alerted(
    session: AsyncSession,
    now: datetime,
    incident: Incident,
    what: str,
    text: str,
    skip: set[str],
    *,
    urgent: bool = False,
) -> list[str]:
    """Follow-up to everyone who got the alert (taken, confirmed, false alarm, a grave
    detail); returns the chats it was queued for. `urgent`: sent at once, as alerts are."""
    told: list[str] = []
    for chat in await alerted_chats(session, incident.id):
        if chat in skip:
            continue
        told.append(chat)
        await enqueue(
            session,
            chat_id=chat,
            text=text,
            kind="alert" if urgent or what == "confirmed" else "reply",
            now=now,
            key=f"incident-{what}:{incident.id}:{chat}",
            ref_type="incident",
            ref_id=incident.id,
        )
    return told


async def tell_handler(
    session: AsyncSession,
    now: datetime,
    incident: Incident,
    sender_pk: int,
    what: str,
    text: str,
    skip: set[str],
) -> list[str]:
    """The one who took the incident, in private, when no alert reached him there (one never
    alerted, taken with /xuly): he handles it, so he hears its news. The chat queued for;
    none when he sent the news himself."""
    if incident.handler_pk is None or incident.handler_pk == sender_pk:
        return []
    handler = await session.get(Member, incident.handler_pk)
    chat = handler.private_chat_id if handler is not None else None
    if not chat or chat in skip:
        return []
    await enqueue(
        session,
        chat_id=chat,
        text=text,
        kind="reply",
        now=now,
        key=f"incident-{what}:{incident.id}:{chat}",
        ref_type="incident",
        ref_id=incident.id,
    )
    return [chat]
