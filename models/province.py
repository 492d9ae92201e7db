"""The provincial overview's figures: every park's council at once, by grouped queries.

Each query groups by `council_id`, so the cost does not grow with the number of parks: the
province of 30 parks takes the same handful of queries as one park (docs/scaling.md). The
definitions are the park digest's (models/digest.py, docs/digest.md) counted per council.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.digest import Window, _at_night, _still_open_at, expected_acks, expected_member
from models.tables import (
    Ack,
    CheckIn,
    CouncilMember,
    Directive,
    Incident,
    Member,
    MemberRequest,
    Message,
    Report,
)


@dataclass(frozen=True)
class OpenIncident:
    """An incident still open at the window's end: the oldest one is named in the overview."""

    id: int
    category: str
    first_reported_at: datetime


@dataclass
class ParkFigures:
    """One park's council in one week (SPEC.md 2 `province` JSON, per park)."""

    members: int = 0
    active: int = 0
    messages: int = 0
    checkins: int = 0
    checkins_night: int = 0
    patrols: int = 0
    reports: int = 0
    reports_by_category: dict[str, int] = field(default_factory=dict)
    incidents_new: int = 0
    incidents_open: int = 0
    open_incidents: list[OpenIncident] = field(default_factory=list)  # this week's only
    ack_minutes: list[float] = field(default_factory=list)  # report -> someone took it
    resolve_minutes: list[float] = field(default_factory=list)  # report -> resolved
    directives: int = 0
    expected_acks: int = 0
    acks: int = 0
    requests: int = 0
    requests_answered: int = 0

    @property
    def participation(self) -> float | None:
        """Share of the park's members who wrote in the week; None without members."""
        return round(self.active / self.members, 4) if self.members else None

    @property
    def ack_rate(self) -> float | None:
        return round(self.acks / self.expected_acks, 4) if self.expected_acks else None

    @property
    def median_ack_minutes(self) -> float | None:
        return _median(self.ack_minutes)

    @property
    def median_resolve_minutes(self) -> float | None:
        return _median(self.resolve_minutes)

    def add(self, other: ParkFigures) -> None:
        """Fold another park into this one (the province's totals)."""
        for name in (
            "members", "active", "messages", "checkins", "checkins_night", "patrols",
            "reports", "incidents_new", "incidents_open", "directives", "expected_acks",
            "acks", "requests", "requests_answered",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for cat, n in other.reports_by_category.items():
            self.reports_by_category[cat] = self.reports_by_category.get(cat, 0) + n
        self.open_incidents.extend(other.open_incidents)
        self.ack_minutes.extend(other.ack_minutes)
        self.resolve_minutes.extend(other.resolve_minutes)

    def headline(self) -> dict[str, Any]:
        """The figures the trend carries week by week."""
        return {
            "members": self.members,
            "active": self.active,
            "participation": self.participation,
            "checkins": self.checkins,
            "patrols": self.patrols,
            "reports": self.reports,
            "incidents_open": self.incidents_open,
            "ack_rate": self.ack_rate,
        }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


Parks = dict[str, ParkFigures]


def _park(into: Parks, council_id: str) -> ParkFigures:
    return into.setdefault(council_id, ParkFigures())


async def member_activity(session: AsyncSession, w: Window, into: Parks) -> None:
    """Members expected by the week's end and those who wrote in their park that week."""
    wrote = (
        select(
            Message.council_id.label("council_id"),
            Message.member_pk.label("member_pk"),
            func.count().label("n"),
        )
        .where(Message.sent_at >= w.start, Message.sent_at < w.as_of)
        .where(Message.member_pk.is_not(None))
        .group_by(Message.council_id, Message.member_pk)
        .subquery("wrote")
    )
    expected = expected_member(w.end)
    stmt = (
        select(
            CouncilMember.council_id,
            func.count(distinct(case((expected, Member.id)))),
            func.count(distinct(case((and_(expected, wrote.c.n > 0), Member.id)))),
            func.coalesce(func.sum(wrote.c.n), 0),
        )
        .join(Member, Member.id == CouncilMember.member_pk)
        .outerjoin(
            wrote,
            and_(
                wrote.c.council_id == CouncilMember.council_id,
                wrote.c.member_pk == CouncilMember.member_pk,
            ),
        )
        .where(CouncilMember.role != "province")
        .group_by(CouncilMember.council_id)
    )
    for council, members, active, messages in await session.execute(stmt):
        park = _park(into, council)
        park.members, park.active, park.messages = int(members), int(active), int(messages)


async def checkins(session: AsyncSession, w: Window, into: Parks) -> None:
    """Check-ins, those at night and patrols, per park."""
    night = func.sum(case((_at_night(CheckIn.at, w), 1), else_=0))
    patrol = func.sum(case((CheckIn.kind == "patrol", 1), else_=0))
    stmt = (
        select(CheckIn.council_id, func.count(), night, patrol)
        .where(CheckIn.at >= w.start, CheckIn.at < w.as_of)
        .group_by(CheckIn.council_id)
    )
    for council, n, nights, patrols in await session.execute(stmt):
        park = _park(into, council)
        park.checkins, park.checkins_night, park.patrols = int(n), int(nights or 0), int(patrols)


async def reports(session: AsyncSession, w: Window, into: Parks) -> None:
    """Reports of the week by category, per park."""
    stmt = (
        select(Report.council_id, Report.category, func.count())
        .where(Report.created_at >= w.start, Report.created_at < w.as_of)
        .group_by(Report.council_id, Report.category)
    )
    for council, category, n in await session.execute(stmt):
        park = _park(into, council)
        park.reports += int(n)
        park.reports_by_category[category] = int(n)


async def incidents(session: AsyncSession, w: Window, into: Parks) -> None:
    """Incidents open at `as_of`, and how fast the week's new ones were taken and resolved."""
    open_stmt = (
        select(Incident.council_id, Incident.id, Incident.category, Incident.first_reported_at)
        .where(Incident.first_reported_at < w.as_of, _still_open_at(w.as_of))
        .order_by(Incident.first_reported_at, Incident.id)
    )
    for council, pk, category, first in await session.execute(open_stmt):
        park = _park(into, council)
        park.incidents_open += 1
        park.open_incidents.append(OpenIncident(pk, category, first))
    times = (Incident.first_reported_at, Incident.acknowledged_at, Incident.resolved_at)
    new_stmt = select(Incident.council_id, *times).where(
        Incident.first_reported_at >= w.start, Incident.first_reported_at < w.as_of
    )
    for council, first, acked, resolved in await session.execute(new_stmt):
        park = _park(into, council)
        park.incidents_new += 1
        if acked is not None and acked < w.as_of:
            park.ack_minutes.append(max(0.0, (acked - first).total_seconds() / 60))
        if resolved is not None and resolved < w.as_of:
            park.resolve_minutes.append(max(0.0, (resolved - first).total_seconds() / 60))


async def directives(session: AsyncSession, w: Window, into: Parks) -> None:
    """Directives of the week, acknowledgements expected and received by `as_of`, per park."""
    triples = expected_acks(w)
    pairs = (
        select(triples.c.directive_pk, triples.c.member_pk).distinct().subquery("province_pairs")
    )
    stmt = (
        select(Directive.council_id, func.count(), func.count(Ack.id))
        .select_from(pairs)
        .join(Directive, Directive.id == pairs.c.directive_pk)
        .outerjoin(
            Ack,
            and_(
                Ack.directive_pk == pairs.c.directive_pk,
                Ack.member_pk == pairs.c.member_pk,
                Ack.at < w.as_of,
            ),
        )
        .group_by(Directive.council_id)
    )
    for council, expected, acked in await session.execute(stmt):
        park = _park(into, council)
        park.expected_acks, park.acks = int(expected), int(acked)
    count = (
        select(Directive.council_id, func.count())
        .where(Directive.created_at >= w.start, Directive.created_at < w.as_of)
        .group_by(Directive.council_id)
    )
    for council, n in await session.execute(count):
        _park(into, council).directives = int(n)


async def requests(session: AsyncSession, w: Window, into: Parks) -> None:
    """Members' requests asked in the week and those answered by `as_of`, per park."""
    answered = func.sum(
        case(
            (and_(MemberRequest.answered_at.is_not(None), MemberRequest.answered_at < w.as_of), 1),
            else_=0,
        )
    )
    stmt = (
        select(MemberRequest.council_id, func.count(), answered)
        .where(MemberRequest.asked_at >= w.start, MemberRequest.asked_at < w.as_of)
        .group_by(MemberRequest.council_id)
    )
    for council, n, done in await session.execute(stmt):
        park = _park(into, council)
        park.requests, park.requests_answered = int(n), int(done or 0)


async def week_figures(session: AsyncSession, w: Window) -> Parks:
    """Every figure of the week for every park (council id -> figures), in seven queries."""
    out: Parks = {}
    await member_activity(session, w, out)
    await checkins(session, w, out)
    await reports(session, w, out)
    await incidents(session, w, out)
    await directives(session, w, out)
    await requests(session, w, out)
    return out


async def headline_figures(session: AsyncSession, w: Window) -> Parks:
    """The trend's figures for a past week (no medians, no requests): four queries."""
    out: Parks = {}
    await member_activity(session, w, out)
    await checkins(session, w, out)
    await reports(session, w, out)
    open_stmt = (
        select(Incident.council_id, func.count())
        .where(Incident.first_reported_at < w.as_of, _still_open_at(w.as_of))
        .group_by(Incident.council_id)
    )
    for council, n in await session.execute(open_stmt):
        _park(out, council).incidents_open = int(n)
    await directives(session, w, out)
    return out
