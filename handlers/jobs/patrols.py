"""Night patrols: a night shift that ended with no patrol check-in is reminded, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.calendar import in_quiet_hours
from handlers.clock import Clock
from handlers.config import Settings, shift_times
from handlers.jobs import every, job
from handlers.texts import honour as texts
from models.honour import ShiftSpan, patrols_in, shift_spans
from models.outbox import enqueue
from models.people import address
from models.scoping import members_here
from models.tables import CheckIn, Member

Sessions = async_sessionmaker[AsyncSession]
LOOK_BACK = timedelta(hours=24)  # after downtime, a shift older than this is only counted


async def _on_duty(session: AsyncSession, span: ShiftSpan) -> list[Member]:
    """Who checked in during the shift (or the hour before it), else the enterprise's leads;
    only those the bot can write to privately."""
    base = select(Member).where(
        Member.enterprise == span.enterprise,
        Member.active.is_(True),
        Member.private_chat_id.is_not(None),
        *members_here(session),
    )
    present = base.where(
        Member.id.in_(
            select(CheckIn.member_pk).where(
                CheckIn.at >= span.start - timedelta(hours=1), CheckIn.at < span.end
            )
        )
    )
    people = list((await session.execute(present.order_by(Member.id))).scalars())
    if not people:
        leads = base.where(Member.is_lead.is_(True)).order_by(Member.id)
        people = list((await session.execute(leads)).scalars())
    return people


@job("patrols", every(15), "nhắc ca đêm chưa báo cáo tuần tra (một lần mỗi ca)")
async def patrols(sessions: Sessions, settings: Settings, clock: Clock) -> int:
    """Level-triggered: each missed night shift is reminded once, after quiet hours."""
    now = clock.now()
    if not settings.shifts or settings.patrols.expected_per_shift == 0:
        return 0
    if in_quiet_hours(settings, now):
        return 0  # deferred: the first run after quiet hours still finds the shift
    shifts, tz = shift_times(settings), settings.tz
    queued = 0
    async with sessions() as session, session.begin():
        for enterprise in sorted(shifts):
            for span in shift_spans(shifts, tz, enterprise, now - 2 * LOOK_BACK, now):
                if not span.night or not (now - LOOK_BACK <= span.end <= now):
                    continue
                if await patrols_in(session, enterprise, span.start, span.end):
                    continue
                queued += await _remind(session, span, now)
    return queued


async def _remind(session: AsyncSession, span: ShiftSpan, now: datetime) -> int:
    local_start, local_end = span.start.astimezone(span.start.tzinfo), span.end
    count = 0
    for member in await _on_duty(session, span):
        assert member.private_chat_id is not None
        text = texts.PATROL_MISSED.format(
            name=address(member),
            shift=span.name,
            start=local_start.strftime("%H:%M"),
            end=local_end.strftime("%H:%M"),
            day=local_start.strftime("%d/%m"),
            enterprise=span.enterprise,
        )
        out = await enqueue(
            session,
            chat_id=member.private_chat_id,
            text=text,
            kind="reminder",
            now=now,
            key=f"patrol-missed:{span.enterprise}:{span.start.isoformat()}:{member.id}",
            member_pk=member.id,
        )
        count += out is not None
    return count
