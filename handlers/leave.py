"""Declared leave ("nghỉ phép đến 10/12") and public holidays: days that are no one's
silence. The nudges, /chuahoatdong and the weekly digest read them here, so they agree."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.calendar import holidays_between, local
from handlers.config import Settings
from models.digest import Window
from models.leave import Leave, Owed, leaves_said, on_leave_throughout
from models.tables import Directive, Member


async def leaves_end(
    session: AsyncSession,
    settings: Settings,
    member_ids: list[int],
    said_before: datetime | None = None,
    started_by: datetime | None = None,
) -> dict[int, Leave]:
    """Each member's announced leave ("nghỉ phép đến 10/12") that ends last: until its end
    they are not quiet, and their silence counts from then (docs/acks-and-budget.md).
    `said_before`: only leave announced by then (a past week's digest); `started_by`: only
    leave begun by then (a leave from Wednesday excuses no silence on Monday)."""
    said = await leaves_said(session, settings.tz, member_ids, said_before)
    out: dict[int, Leave] = {}
    for pk, leaves in said.items():
        begun = [lv for lv in leaves if started_by is None or lv.start <= started_by]
        if begun:
            out[pk] = max(begun, key=lambda lv: lv.end)
    return out


async def away_in_week(
    session: AsyncSession, settings: Settings, w: Window, silent: list[int]
) -> dict[int, Leave]:
    """Those of the week's `silent` members whose leave, announced by `as_of`, covered at
    least half of the week so far, with it: the digest shows them apart, never as inactive.
    A day away excuses a day: silent the other six, a member is quiet (docs/digest.md)."""
    ends = await leaves_end(session, settings, silent, w.as_of, started_by=w.as_of)
    half = (w.as_of - w.start) / 2
    return {
        pk: leave
        for pk, leave in ends.items()
        if min(leave.end, w.as_of) - max(leave.start, w.start) >= half
    }


async def away_at(
    session: AsyncSession,
    settings: Settings,
    at: datetime,
    member_ids: list[int],
    said_before: datetime | None = None,
) -> dict[int, Leave]:
    """Those of `member_ids` on leave at `at` (begun, not over), with the leave that ends
    last: not chased meanwhile. `said_before`: only leave announced by then (a directive's
    post)."""
    said = await leaves_said(session, settings.tz, member_ids, said_before)
    out: dict[int, Leave] = {}
    for pk, leaves in said.items():
        current = [lv for lv in leaves if lv.covers(at)]
        if current:
            out[pk] = max(current, key=lambda lv: lv.end)
    return out


async def on_leave_for(
    session: AsyncSession, settings: Settings, d: Directive, missing: list[Member]
) -> dict[int, Leave]:
    """Of `missing`, those on leave for `d`'s whole window, with the leave: left out of its
    tally's denominator and shown apart (models.leave.on_leave_throughout)."""
    owed = [Owed(d.id, m.id, d.created_at, d.deadline_at) for m in missing]
    found = await on_leave_throughout(session, settings.tz, owed)
    return {member_pk: leave for (_d, member_pk), leave in found.items()}


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
