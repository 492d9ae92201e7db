"""The provincial overview's figures: every park's council at once, by grouped queries.

Each query groups by `council_id`, so the cost does not grow with the number of parks: the
province of 30 parks takes the same handful of queries as one park (docs/scaling.md). The
definitions are the park digest's (models/digest.py, docs/digest.md) counted per council.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, case, distinct, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from models.digest import (
    Figures,
    WeekCounts,
    Window,
    _at_night,
    _still_open_at,
    discount_leave,
    expected_acks,
    expected_member,
    overdue_at,
    with_acks_by,
)
from models.tables import (
    Ack,
    CheckIn,
    CouncilMember,
    Directive,
    Group,
    Incident,
    Member,
    MemberRequest,
    Message,
    Nudge,
    Outbox,
    Report,
    Task,
)


@dataclass(frozen=True)
class OpenIncident:
    """An incident still open at the window's end: the oldest one is named in the overview."""

    id: int
    category: str
    first_reported_at: datetime


@dataclass
class ParkFigures(WeekCounts):
    """One park's council in one week (SPEC.md 2 `province` JSON, per park): the digest's
    counts (models.digest.WeekCounts), with its incidents and requests."""

    incidents_new: int = 0
    incidents_open: int = 0
    open_incidents: list[OpenIncident] = field(default_factory=list)  # this week's only
    ack_minutes: list[float] = field(default_factory=list)  # report -> someone took it
    resolve_minutes: list[float] = field(default_factory=list)  # report -> resolved
    requests: int = 0
    requests_answered: int = 0

    @classmethod
    def of(cls, totals: WeekCounts) -> ParkFigures:
        """A park's overview figures from its digest totals (one definition of each count)."""
        shared = {f.name: getattr(totals, f.name) for f in fields(WeekCounts)}
        shared["reports_by_category"] = dict(totals.reports_by_category)  # a copy, not shared
        return cls(**shared)

    @property
    def median_ack_minutes(self) -> float | None:
        return _median(self.ack_minutes)

    @property
    def median_resolve_minutes(self) -> float | None:
        return _median(self.resolve_minutes)

    def add(self, other: ParkFigures) -> None:
        """Fold another park into this one (the province's totals)."""
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, int):
                setattr(self, f.name, mine + theirs)
            elif isinstance(mine, list):
                mine.extend(theirs)
        for cat, n in other.reports_by_category.items():
            self.reports_by_category[cat] = self.reports_by_category.get(cat, 0) + n

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


def _in_week(col: Any, w: Window) -> ColumnElement[bool]:
    return and_(col >= w.start, col < w.as_of)


def _per_council_member(
    council_col: Any, member_col: Any, when: ColumnElement[bool], name: str, *joins: Any
) -> Subquery:
    """(council_id, member_pk, n): a member's rows of one kind in one council's records."""
    stmt = select(
        council_col.label("council_id"), member_col.label("member_pk"), func.count().label("n")
    )
    for table, on in joins:
        stmt = stmt.join(table, on)
    return (
        stmt.where(when, member_col.is_not(None)).group_by(council_col, member_col).subquery(name)
    )


async def member_totals(session: AsyncSession, w: Window) -> dict[str, Figures]:
    """models.digest.member_figures with the council as the scope key, in one query."""
    scope = select(
        CouncilMember.member_pk.label("member_pk"), CouncilMember.council_id.label("key")
    ).subquery("council_scope")
    msg = _per_council_member(
        Message.council_id, Message.member_pk, _in_week(Message.sent_at, w), "p_msg"
    )
    chk = _per_council_member(
        CheckIn.council_id, CheckIn.member_pk, _in_week(CheckIn.at, w), "p_chk"
    )
    night = _per_council_member(
        CheckIn.council_id,
        CheckIn.member_pk,
        and_(_in_week(CheckIn.at, w), _at_night(CheckIn.at, w)),
        "p_night",
    )
    patrol = _per_council_member(
        CheckIn.council_id,
        CheckIn.member_pk,
        and_(_in_week(CheckIn.at, w), CheckIn.kind == "patrol"),
        "p_patrol",
    )
    rep = _per_council_member(
        Report.council_id, Report.member_pk, _in_week(Report.created_at, w), "p_rep"
    )
    done = _per_council_member(
        Task.council_id,
        Task.assignee_pk,
        and_(_in_week(Task.done_at, w), Task.status != "cancelled"),
        "p_done",
    )
    overdue = _per_council_member(
        Task.council_id,
        Task.assignee_pk,
        overdue_at(w.as_of),
        "p_overdue",
    )
    nudged = _per_council_member(
        Nudge.council_id,
        Nudge.member_pk,
        _in_week(Outbox.sent_at, w),
        "p_nudged",
        (Outbox, Outbox.id == Nudge.outbox_pk),
    )
    back = _per_council_member(
        Nudge.council_id, Nudge.member_pk, _in_week(Nudge.reengaged_at, w), "p_back"
    )
    counted = (msg, chk, night, patrol, rep, done, overdue, nudged)
    expected = expected_member(w.end)
    stmt = select(
        scope.c.key,
        func.count(distinct(case((expected, Member.id)))),
        func.count(distinct(case((and_(expected, msg.c.n > 0), Member.id)))),
        func.count(distinct(case((and_(expected, back.c.n > 0), Member.id)))),
        *(func.coalesce(func.sum(sub.c.n), 0) for sub in counted),
    ).select_from(scope.join(Member, Member.id == scope.c.member_pk))
    for sub in (*counted, back):
        stmt = stmt.outerjoin(
            sub, and_(sub.c.member_pk == Member.id, sub.c.council_id == scope.c.key)
        )
    out: dict[str, Figures] = {}
    for key, members, active, reengaged, *counts in await session.execute(
        stmt.group_by(scope.c.key)
    ):
        messages, checkins_, nights, patrols, reports_, done_n, overdue_n, nudges = map(int, counts)
        out[key] = Figures(
            members=int(members),
            active=int(active),
            reengaged=int(reengaged),
            messages=messages,
            checkins=checkins_,
            checkins_night=nights,
            patrols=patrols,
            reports=reports_,
            tasks_done=done_n,
            tasks_overdue=overdue_n,
            nudges_sent=nudges,
        )
    return out


async def report_totals(session: AsyncSession, w: Window, into: dict[str, Figures]) -> None:
    """Reports by category, severity and status: a council's members' reports in it."""
    status = func.coalesce(Incident.status, Report.status)
    stmt = (
        select(Report.council_id, Report.category, Report.severity, status, func.count())
        .select_from(Report)
        .join(
            CouncilMember,
            and_(
                CouncilMember.member_pk == Report.member_pk,
                CouncilMember.council_id == Report.council_id,
            ),
        )
        .outerjoin(Incident, Incident.id == Report.incident_pk)
        .where(_in_week(Report.created_at, w))
        .group_by(Report.council_id, Report.category, Report.severity, status)
    )
    for key, category, severity, state, n in await session.execute(stmt):
        fig = into.setdefault(key, Figures())
        for bucket, value in (
            (fig.reports_by_category, category),
            (fig.reports_by_severity, severity),
            (fig.reports_by_status, state),
        ):
            bucket[value] = bucket.get(value, 0) + int(n)


async def directive_totals(session: AsyncSession, w: Window, into: dict[str, Figures]) -> None:
    """Acknowledgements owed by a council's members for its directives, received and late;
    then the council's directives of the week (models.digest.directive_figures)."""
    triples = expected_acks(w)
    pairs = (
        select(triples.c.directive_pk, triples.c.member_pk, Directive.council_id.label("key"))
        .distinct()
        .join(Directive, Directive.id == triples.c.directive_pk)
        .join(
            CouncilMember,
            and_(
                CouncilMember.member_pk == triples.c.member_pk,
                CouncilMember.council_id == Directive.council_id,
            ),
        )
        .subquery("council_pairs")
    )
    late = func.count(case((Ack.at > Directive.deadline_at, Ack.id)))
    columns = select(pairs.c.key, func.count(), func.count(Ack.id), late)
    stmt = with_acks_by(columns, pairs, w.as_of).group_by(pairs.c.key)
    for key, expected, acked, acked_late in await session.execute(stmt):
        fig = into.setdefault(key, Figures())
        fig.expected_acks, fig.acks, fig.acks_late = int(expected), int(acked), int(acked_late)
    await discount_leave(session, w, pairs, into)  # the digest's rule for members on leave
    count = (
        select(Directive.council_id, func.count())
        .where(_in_week(Directive.created_at, w))
        .group_by(Directive.council_id)
    )
    for key, n in await session.execute(count):
        into.setdefault(key, Figures()).directives = int(n)


async def outbox_totals(session: AsyncSession, w: Window, into: dict[str, Figures]) -> None:
    """Messages the bot sent to a council's chats: its groups and its members' private chats."""
    own = select(Group.chat_id.label("chat_id"), Group.council_id.label("key"))
    private = (
        select(Member.private_chat_id.label("chat_id"), CouncilMember.council_id.label("key"))
        .join(CouncilMember, CouncilMember.member_pk == Member.id)
        .where(Member.private_chat_id.is_not(None))
    )
    chats = union(own, private).subquery("council_chats")
    stmt = (
        select(chats.c.key, func.coalesce(func.sum(Outbox.chunks_sent), 0))
        .join(chats, chats.c.chat_id == Outbox.chat_id)
        .where(_in_week(Outbox.sent_at, w))
        .group_by(chats.c.key)
    )
    for key, n in await session.execute(stmt):
        into.setdefault(key, Figures()).messages_sent = int(n)


async def silent_by_council(session: AsyncSession, w: Window) -> dict[str, list[int]]:
    """Each council's expected members who wrote nothing there in the week: the park
    digest's `silent_members` for every council at once (its leave is counted from them)."""
    wrote = (
        select(Message.id)
        .where(
            Message.member_pk == Member.id,
            Message.council_id == CouncilMember.council_id,
            _in_week(Message.sent_at, w),
        )
        .exists()
    )
    stmt = (
        select(CouncilMember.council_id, Member.id)
        .join(Member, Member.id == CouncilMember.member_pk)
        .where(expected_member(w.end), ~wrote)
    )
    out: dict[str, list[int]] = {}
    for council, pk in await session.execute(stmt):
        out.setdefault(council, []).append(pk)
    return out


async def council_totals(session: AsyncSession, w: Window) -> dict[str, Figures]:
    """Every council's weekly digest `totals` (models.digest.totals with `council_id`), all
    councils at once in five grouped queries; tests/test_province.py checks they are equal."""
    out = await member_totals(session, w)
    await report_totals(session, w, out)
    await directive_totals(session, w, out)
    await outbox_totals(session, w, out)
    return out


def _from_totals(totals: dict[str, Figures]) -> Parks:
    """The overview's shared figures taken from the councils' digest totals (one definition)."""
    return {key: ParkFigures.of(t) for key, t in totals.items()}


async def week_figures(session: AsyncSession, w: Window) -> tuple[dict[str, Figures], Parks]:
    """Every figure of the week for every park: the councils' digest totals, and the
    overview's figures (the same counts, with incidents and requests), in eight queries."""
    totals = await council_totals(session, w)
    out = _from_totals(totals)
    await incidents(session, w, out)
    await requests(session, w, out)
    return totals, out


async def headline_figures(session: AsyncSession, w: Window) -> Parks:
    """The trend's figures for a past week, by the digest's definitions (no medians, no
    requests): four queries."""
    totals = await member_totals(session, w)
    await directive_totals(session, w, totals)
    out = _from_totals(totals)
    open_stmt = (
        select(Incident.council_id, func.count())
        .where(Incident.first_reported_at < w.as_of, _still_open_at(w.as_of))
        .group_by(Incident.council_id)
    )
    for council, n in await session.execute(open_stmt):
        _park(out, council).incidents_open = int(n)
    return out
