"""Declared leave read from members' messages, and the one rule for a tally's denominator:
who is on leave for a directive's whole window (docs/acks-and-budget.md, "Members on leave").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.deadlines import leave_span
from models.tables import Message

CHUNK = 900  # members per IN (...): SQLite's bound-parameter limit stays far away


@dataclass(frozen=True)
class Owed:
    """An acknowledgement owed and not given: the directive, its window, the member."""

    directive_pk: int
    member_pk: int
    created_at: datetime
    deadline_at: datetime


@dataclass(frozen=True)
class Leave:
    """A leave as a member said it: when he said so, its first moment and its end."""

    said_at: datetime
    start: datetime
    end: datetime

    def covers(self, at: datetime) -> bool:
        """Is the member away at `at`? Before its start he is as anyone (nudged, reminded)."""
        return self.start <= at < self.end

    @property
    def one_day(self) -> bool:
        """A day's absence ("mai em xin nghỉ", "thứ 5 em xin nghỉ 1 ngày"): shown as "vắng
        08/12" everywhere, never as leave "đến 08/12"."""
        return self.end - self.start < timedelta(days=1)


@dataclass(frozen=True)
class Tally:
    """A directive's acknowledgements: `expected` are those expected to answer, the members on
    leave for the whole window (`on_leave`) left out of it and shown apart."""

    acked: int
    expected: int
    on_leave: int = 0

    @property
    def rate(self) -> float | None:
        return round(self.acked / self.expected, 4) if self.expected else None


async def leaves_said(
    session: AsyncSession,
    tz: ZoneInfo,
    member_ids: Iterable[int],
    said_before: datetime | None = None,
) -> dict[int, list[Leave]]:
    """Each member's announced leaves ("nghỉ phép từ thứ 4 đến 10/12", "mai em xin nghỉ"),
    said before `said_before` if given; messages that name no day nor end are left out."""
    ids = sorted(set(member_ids))
    out: dict[int, list[Leave]] = {}
    for i in range(0, len(ids), CHUNK):
        stmt = select(Message.member_pk, Message.text, Message.sent_at).where(
            Message.member_pk.in_(ids[i : i + CHUNK]), Message.type == "absent"
        )
        if said_before is not None:
            stmt = stmt.where(Message.sent_at < said_before)
        for member_pk, text, sent_at in await session.execute(stmt):
            span = leave_span(text or "", sent_at, tz)
            if member_pk is not None and span is not None:
                out.setdefault(member_pk, []).append(Leave(sent_at, span[0], span[1]))
    return out


def leave_through(leaves: list[Leave], created_at: datetime, deadline_at: datetime) -> Leave | None:
    """The leave announced before the directive went out that covers its whole window (the
    longest), or None: leave said later, starting after it went out, or over before the
    deadline, excuses nothing."""
    begun = [lv for lv in leaves if lv.said_at < created_at and lv.start <= created_at]
    last = max(begun, key=lambda lv: lv.end, default=None)
    return last if last is not None and last.end >= deadline_at else None


async def on_leave_throughout(
    session: AsyncSession, tz: ZoneInfo, owed: Iterable[Owed]
) -> dict[tuple[int, int], Leave]:
    """Of the acknowledgements `owed` and not given, those whose member is on leave for the
    directive's whole window, by (directive_pk, member_pk), with the leave. Every tally
    (reminders' closing, /thongbao, the digest, the dashboard, the exports) uses this."""
    owed = list(owed)
    if not owed:
        return {}
    latest = max(o.created_at for o in owed)
    leaves = await leaves_said(session, tz, (o.member_pk for o in owed), said_before=latest)
    out: dict[tuple[int, int], Leave] = {}
    for o in owed:
        leave = leave_through(leaves.get(o.member_pk, []), o.created_at, o.deadline_at)
        if leave is not None:
            out[(o.directive_pk, o.member_pk)] = leave
    return out
