"""Commendations (/khen), the honour board behind them, and patrols counted per shift."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import CheckIn, Commendation, Incident, Member, Report

# A configured shift: its name, start and end (local times; end <= start crosses midnight).
Shift = tuple[str, time, time]
Shifts = dict[str, tuple[Shift, ...]]  # enterprise -> its shifts
NIGHT_STARTS = time(22, 0)  # a shift is a night shift when it is on duty at 22:00


@dataclass(frozen=True)
class HonourLine:
    """One commendation with what the member did that month."""

    member_pk: int
    member_id: str | None
    name: str
    enterprise: str | None
    reason: str
    at: datetime
    reports: int
    patrols: int


@dataclass(frozen=True)
class ShiftSpan:
    """One occurrence of a shift: ca 3 of 5/12 runs 22:00 5/12 to 06:00 6/12."""

    enterprise: str
    name: str
    start: datetime
    end: datetime
    night: bool


@dataclass(frozen=True)
class PatrolRow:
    """An enterprise's patrols in a period: expected, done (up to the expected per shift),
    and shifts that ended with fewer patrol check-ins than expected."""

    enterprise: str
    expected: int
    done: int
    missed: int


async def add_commendation(
    session: AsyncSession, member: Member, by: Member, chat_id: str, reason: str, now: datetime
) -> Commendation:
    row = Commendation(
        member_pk=member.id, by_pk=by.id, chat_id=chat_id, reason=reason[:1000], created_at=now
    )
    session.add(row)
    await session.flush()
    return row


def month_span(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The calendar month holding `day`, as aware local midnights."""
    start = datetime(day.year, day.month, 1, tzinfo=tz)
    nxt = datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=tz)
    return start, nxt


async def _count(session: AsyncSession, stmt: object) -> int:
    return int((await session.execute(stmt)).scalar_one() or 0)  # type: ignore[call-overload]


async def commendations(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    as_of: datetime | None = None,
    council_id: str | None = None,
) -> list[HonourLine]:
    """Commendations made in [start, end) and by `as_of`, oldest first, each with the member's
    reports and patrol check-ins in the calendar month of the commendation."""
    stmt = (
        select(Commendation, Member)
        .join(Member, Member.id == Commendation.member_pk)
        .where(
            Commendation.created_at >= start,
            Commendation.created_at < end,
            Commendation.created_at <= (as_of or end),
            *([Commendation.council_id == council_id] if council_id is not None else []),
        )
        .order_by(Commendation.created_at, Commendation.id)
    )
    out: list[HonourLine] = []
    for c, m in (await session.execute(stmt)).all():
        m_start, m_end = month_span(c.created_at.astimezone(tz).date(), tz)
        reports = await _count(
            session,
            select(func.count(Report.id)).where(
                Report.member_pk == m.id, Report.created_at >= m_start, Report.created_at < m_end
            ),
        )
        patrols = await _count(
            session,
            select(func.count(CheckIn.id)).where(
                CheckIn.member_pk == m.id,
                CheckIn.kind == "patrol",
                CheckIn.at >= m_start,
                CheckIn.at < m_end,
            ),
        )
        name = m.name or m.display_name or m.member_id or "?"
        out.append(
            HonourLine(
                m.id, m.member_id, name, m.enterprise, c.reason, c.created_at, reports, patrols
            )
        )
    return out


def is_night(start: time, end: time) -> bool:
    """On duty at 22:00: crosses midnight or spans 22:00."""
    if end <= start:  # crosses midnight
        return True
    return start <= NIGHT_STARTS < end


def shift_spans(
    shifts: Shifts, tz: ZoneInfo, enterprise: str, start: datetime, end: datetime
) -> list[ShiftSpan]:
    """Every occurrence of the enterprise's shifts that begins in [start, end)."""
    out: list[ShiftSpan] = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    while day <= last:
        for name, a, b in shifts.get(enterprise, ()):
            s_start = datetime.combine(day, a, tzinfo=tz)
            s_end = datetime.combine(day + timedelta(days=b <= a), b, tzinfo=tz)
            if start <= s_start < end:
                out.append(ShiftSpan(enterprise, name, s_start, s_end, is_night(a, b)))
        day += timedelta(days=1)
    return sorted(out, key=lambda s: s.start)


def shift_at(shifts: Shifts, tz: ZoneInfo, enterprise: str, at: datetime) -> ShiftSpan | None:
    """The shift a check-in at `at` belongs to (the first configured one on duty then)."""
    for span in shift_spans(shifts, tz, enterprise, at - timedelta(days=1), at + timedelta(days=1)):
        if span.start <= at < span.end:
            return span
    return None


async def patrols_in(
    session: AsyncSession,
    enterprise: str,
    start: datetime,
    end: datetime,
    council_id: str | None = None,
) -> int:
    """Patrol check-ins by the enterprise's members in [start, end) (in one park's council)."""
    return await _count(
        session,
        select(func.count(CheckIn.id))
        .join(Member, Member.id == CheckIn.member_pk)
        .where(
            Member.enterprise == enterprise,
            CheckIn.kind == "patrol",
            CheckIn.at >= start,
            CheckIn.at < end,
            *([CheckIn.council_id == council_id] if council_id is not None else []),
        ),
    )


async def patrol_table(
    session: AsyncSession,
    shifts: Shifts,
    tz: ZoneInfo,
    per: int,
    start: datetime,
    end: datetime,
    as_of: datetime,
    council_id: str | None = None,
) -> list[PatrolRow]:
    """Per enterprise with shifts: shifts that began in [start, end) and ended by `as_of`;
    `per` patrol check-ins are expected in each."""
    rows: list[PatrolRow] = []
    for enterprise in sorted(shifts):
        expected = done = missed = 0
        for span in shift_spans(shifts, tz, enterprise, start, end):
            if span.end > as_of:
                continue  # still on duty: not yet missed
            n = await patrols_in(session, enterprise, span.start, span.end, council_id)
            expected += per
            done += min(n, per)
            missed += n < per
        rows.append(PatrolRow(enterprise, expected, done, missed))
    return rows


@dataclass(frozen=True)
class CameraLine:
    """A camera reported broken and not fixed yet: its name, incident and first report."""

    incident_pk: int
    name: str
    since: datetime


async def open_cameras(session: AsyncSession, limit: int = 20) -> list[CameraLine]:
    """Equipment incidents about a camera that are not resolved (nor a false alarm), oldest
    first; the camera is named by the place in its first report ("camera cổng 2")."""
    stmt = (
        select(Incident.id, Incident.first_reported_at, Report.text, Report.places)
        .join(Report, Report.incident_pk == Incident.id)
        .where(
            Incident.category == "equipment",
            Incident.status.not_in(("resolved", "settled", "false_alarm")),
        )
        .order_by(Incident.first_reported_at, Incident.id, Report.id)
    )
    out: dict[int, CameraLine] = {}
    for pk, since, text, places in await session.execute(stmt):
        if pk in out or "camera" not in (text or "").lower():
            continue
        place = next((p.get("text") for p in places or [] if isinstance(p, dict)), None)
        out[pk] = CameraLine(pk, f"camera {place}" if place else "camera", since)
    return list(out.values())[:limit]
