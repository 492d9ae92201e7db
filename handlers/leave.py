"""Declared leave ("nghỉ phép đến 10/12") and public holidays: days that are no one's
silence. The nudges, /chuahoatdong and the weekly digest read them here, so they agree."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.calendar import holidays_between, local
from handlers.config import Settings
from handlers.deadlines import leave_ends
from models.digest import DirectiveStatus, Window
from models.tables import Message


async def leaves_end(
    session: AsyncSession,
    settings: Settings,
    member_ids: list[int],
    said_before: datetime | None = None,
) -> dict[int, datetime]:
    """When each member's announced leave ("nghỉ phép đến 10/12") ends: until then they are
    not quiet, and their silence counts from then (docs/acks-and-budget.md). `said_before`:
    only leave announced by then (a past week's digest)."""
    ends: dict[int, datetime] = {}
    for i in range(0, len(member_ids), 900):
        stmt = select(Message.member_pk, Message.text, Message.sent_at).where(
            Message.member_pk.in_(member_ids[i : i + 900]), Message.type == "absent"
        )
        if said_before is not None:
            stmt = stmt.where(Message.sent_at < said_before)
        rows = await session.execute(stmt)
        for member_pk, text, sent_at in rows:
            end = leave_ends(text or "", sent_at, settings.tz)
            if member_pk is not None and end is not None:
                ends[member_pk] = max(end, ends.get(member_pk, end))
    return ends


async def away_in_week(
    session: AsyncSession, settings: Settings, w: Window, silent: list[int]
) -> dict[int, datetime]:
    """Those of the week's `silent` members whose leave, announced by `as_of`, reached into
    the week, and when it ends: the digest shows them apart, never as inactive."""
    ends = await leaves_end(session, settings, silent, w.as_of)
    return {pk: end for pk, end in ends.items() if end > w.start}


async def away_when_posted(
    session: AsyncSession, settings: Settings, posted_at: datetime, member_ids: list[int]
) -> dict[int, datetime]:
    """Those of `member_ids` already on leave when a directive went out at `posted_at`, and
    when the leave ends: not chased for it while away, shown apart ("nghỉ phép") in tallies."""
    ends = await leaves_end(session, settings, member_ids, said_before=posted_at)
    return {pk: end for pk, end in ends.items() if end > posted_at}


async def with_leave(
    session: AsyncSession, settings: Settings, statuses: list[DirectiveStatus]
) -> list[DirectiveStatus]:
    """The directives' tallies with who was on leave when each went out (`away`), as the
    reminders see them: the digest and the dashboard show them apart."""
    out = []
    for d in statuses:
        ends = await away_when_posted(session, settings, d.created_at, list(d.missing_pks))
        away = tuple((pk, ends[pk]) for pk in d.missing_pks if pk in ends)
        out.append(replace(d, away=away) if away else d)
    return out


def leave_until(settings: Settings, end: datetime) -> str:
    """The end of a leave as it was said ("10/12"), as /chuahoatdong and the digest show it."""
    return end.astimezone(settings.tz).strftime("%d/%m")


def working_days_back(settings: Settings, now: datetime, days: int) -> datetime:
    """`days` before `now`, the public holidays in between not counted: after Tết, "the last
    7 days" reaches back over the holiday to the week before it."""
    start = now - timedelta(days=days)
    today = local(settings, now).date()
    for _ in range(12):  # each pass may reach over a further holiday; Tết is the longest
        off = len(holidays_between(settings, local(settings, start).date(), today))
        wider = now - timedelta(days=days + off)
        if wider == start:
            break
        start = wider
    return start
