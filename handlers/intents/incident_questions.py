"""Members' questions about an incident that turned urgent, or that woke someone new.

A question asked at night waits for the morning unless it is about an urgent incident under
way (docs/requests.md). When the incident it asks about becomes urgent only later, or an
escalation wakes someone who is no coordinator, the question follows (docs/incidents.md,
"Questions about it at night").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.calendar import next_polite_time
from handlers.codes import incident_code, request_code
from handlers.config import Settings
from handlers.intents.requests import (
    UNDER_WAY_HOURS,
    address,
    asked_about,
    forward_words,
    tell_woken,
)
from handlers.texts import requests as texts
from models.outbox import enqueue
from models.requests import held_forwards, open_since
from models.tables import Group, Incident, Member, MemberRequest


async def questions_about(
    session: AsyncSession, settings: Settings, now: datetime, incident: Incident
) -> list[MemberRequest]:
    """Open questions asked within UNDER_WAY_HOURS that are about `incident`."""
    asked = await open_since(session, now - timedelta(hours=UNDER_WAY_HOURS))
    return [r for r in asked if asked_about(r.text, r.asked_at, settings.tz, [incident])]


async def send_held_questions(
    session: AsyncSession, settings: Settings, now: datetime, incident: Incident
) -> int:
    """`incident` has just become urgent: the questions about it held for the morning go now,
    their forward naming it ("YC1 (về SV1)"); an asker in private is told. Returns how many."""
    sent = 0
    for req in await questions_about(session, settings, now, incident):
        held = await held_forwards(session, req.id, now)
        if not held:
            continue  # already passed on
        text = await _forward(session, req, incident)
        for row in held:
            row.next_attempt_at = now
            if row.idempotency_key.startswith(f"request:{req.id}:"):
                row.text = text  # the forward itself; follow-ups keep their words
        await _tell_asker(session, settings, now, req, incident)
        sent += 1
    return sent


async def pass_on_to_woken(
    session: AsyncSession, settings: Settings, now: datetime, incident: Incident
) -> int:
    """At night, an escalation of `incident` has woken someone: the open questions about it
    reach them too (tell_woken skips whoever has them already). Returns the rows queued."""
    if next_polite_time(settings, now) <= now + timedelta(minutes=1):
        return 0  # by day the coordinators are up: questions go to them (forward_time)
    queued = 0
    for req in await questions_about(session, settings, now, incident):
        if await held_forwards(session, req.id, now):
            continue  # still waiting for the morning: not asked about it as urgent
        queued += await tell_woken(
            session, now, req, incident, await _forward(session, req, incident)
        )
    return queued


async def _forward(session: AsyncSession, req: MemberRequest, incident: Incident) -> str:
    """The forward of `req` as the coordinators read it, naming `incident`."""
    asker = await session.get(Member, req.member_pk) if req.member_pk else None
    group = None
    if asker is None or req.chat_id != asker.private_chat_id:
        name = await session.scalar(select(Group.name).where(Group.chat_id == req.chat_id))
        group = name or "?"
    return forward_words(asker, group, req, incident)


async def _tell_asker(
    session: AsyncSession, settings: Settings, now: datetime, req: MemberRequest, i: Incident
) -> None:
    """He was told "sẽ chuyển ... lúc 07:00": now he is told it went. Only in private: a
    group is not woken for one member's question."""
    asker = await session.get(Member, req.member_pk) if req.member_pk else None
    if asker is None or req.chat_id != asker.private_chat_id:
        return
    council = next((g.name for g in settings.groups if g.kind == "council"), "")
    target = texts.AT_ONCE_TARGET.get(req.forwarded_to, texts.AT_ONCE_TARGET["private"])
    text = texts.HELD_SENT_NOW.format(
        incident=incident_code(i.id),
        code=request_code(req.id),
        name=address(asker),
        target=target.format(group=council),
    )
    await enqueue(
        session,
        chat_id=req.chat_id,
        text=text,
        kind="reply",
        key=f"request-now:{req.id}",
        now=now,
        member_pk=asker.id,
        ref_type="request",
        ref_id=req.id,
    )
