"""The weekly digest's figures, computed by SQL aggregates (docs/digest.md defines each one).

Every figure is counted per *scope key*: the whole park ("all"), a group (its `groups.id`)
or an enterprise (its name). A scope is a small (member_pk, key) mapping; per-member
aggregates of the week are joined to it and summed in the database, so no message row is
ever loaded into Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    distinct,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.engagement import owed_acks_stmt
from models.honour import Shift, Shifts, is_night
from models.inserts import insert_new
from models.leave import Leave, Owed, on_leave_throughout
from models.outbox import sent_this_month
from models.tables import (
    DEFAULT_COUNCIL,
    Ack,
    CheckIn,
    CouncilMember,
    Directive,
    DirectiveTarget,
    Group,
    Incident,
    IncidentEvent,
    Member,
    MemberRequest,
    Membership,
    Message,
    Nudge,
    Outbox,
    Report,
    SentDigest,
    Task,
)

ScopeKind = Literal["total", "group", "enterprise"]
TOTAL_KEY = "all"
# Rendered inline: PostgreSQL cannot type a bare bind parameter in a subquery column.
ALL: ColumnElement[str] = literal_column("'all'")
# An incident in one of these states is finished even if nobody recorded resolved_at.
CLOSED_INCIDENT_STATUSES = (
    "resolved",
    "settled",
    "closed",
    "false_alarm",
    "cancelled",
    "noted",
)


@dataclass(frozen=True)
class Window:
    """A week [start, end) in UTC; `as_of` = min(now, end) bounds "so far" and "still open"."""

    start: datetime
    end: datetime
    as_of: datetime
    # Local night spans [from, to) overlapping the week, for the check-ins' night share.
    nights: tuple[tuple[datetime, datetime], ...] = ()
    # One park's council (issue 20): its records and its members only. None: no filter
    # (a single-council installation, where every row and member is the council's).
    council_id: str | None = None
    # The council's time zone, to read declared leave ("nghỉ phép đến 10/12"): with it, acks
    # owed by members on leave for a directive's whole window leave the tallies' denominator
    # (models.leave.on_leave_throughout). None: no leave is read (benchmarks, /chuahoatdong).
    tz: ZoneInfo | None = None


@dataclass
class WeekCounts:
    """What one scope's week counts, by one definition: the digest's figures (`Figures`)
    and the provincial overview's per park (models.province.ParkFigures) both are these."""

    members: int = 0
    active: int = 0
    messages: int = 0
    checkins: int = 0
    checkins_night: int = 0
    patrols: int = 0
    reports: int = 0
    reports_by_category: dict[str, int] = field(default_factory=dict)
    directives: int = 0
    expected_acks: int = 0  # owed by those expected to answer: not the members on leave
    acks: int = 0
    acks_on_leave: int = 0  # owed by members on leave for the whole window, shown apart

    @property
    def ack_rate(self) -> float | None:
        """Share of expected acknowledgements received; None when nothing was asked."""
        return round(self.acks / self.expected_acks, 4) if self.expected_acks else None

    @property
    def participation(self) -> float | None:
        """Share of the members who wrote in the week; None without members."""
        return round(self.active / self.members, 4) if self.members else None


@dataclass
class Figures(WeekCounts):
    """One scope's figures for one week (SPEC.md 2 `totals`, plus a few extra keys)."""

    reengaged: int = 0
    reports_by_severity: dict[str, int] = field(default_factory=dict)
    reports_by_status: dict[str, int] = field(default_factory=dict)
    acks_late: int = 0
    tasks_done: int = 0
    tasks_overdue: int = 0
    nudges_sent: int = 0
    messages_sent: int = 0
    # Silent members whose declared leave reached into the week (handlers/leave.py): they
    # are shown apart, never counted as inactive. Set by the digest, not by SQL.
    on_leave: int = 0

    @property
    def inactive(self) -> int:
        """Members who wrote nothing in the week and were not on leave."""
        return self.members - self.active - self.on_leave

    @property
    def night_share(self) -> float | None:
        """Share of check-ins made at night; None when there was no check-in."""
        return round(self.checkins_night / self.checkins, 4) if self.checkins else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "members": self.members,
            "active": self.active,
            "inactive": self.inactive,
            "on_leave": self.on_leave,
            "reengaged": self.reengaged,
            "messages": self.messages,
            "checkins": self.checkins,
            "checkins_night": self.checkins_night,
            "night_share": self.night_share,
            "patrols": self.patrols,
            "reports": self.reports,
            "reports_by_category": dict(self.reports_by_category),
            "reports_by_severity": dict(self.reports_by_severity),
            "reports_by_status": dict(self.reports_by_status),
            "directives": self.directives,
            "acks": self.acks,
            "acks_late": self.acks_late,
            "expected_acks": self.expected_acks,
            "acks_on_leave": self.acks_on_leave,
            "ack_rate": self.ack_rate,
            "tasks_done": self.tasks_done,
            "tasks_overdue": self.tasks_overdue,
            "nudges_sent": self.nudges_sent,
            "messages_sent": self.messages_sent,
        }


@dataclass(frozen=True)
class MemberLine:
    """A member named in the digest (top or inactive)."""

    member_pk: int
    member_id: str | None
    name: str
    enterprise: str | None
    interactions: int = 0
    last_active_at: datetime | None = None
    private_chat_id: str | None = None


@dataclass(frozen=True)
class DirectiveStatus:
    """A directive with who has and who has not acknowledged it (by `as_of`)."""

    id: int
    text: str
    created_at: datetime
    deadline_at: datetime
    status: str
    acknowledged: list[str]
    missing: list[str]
    late: tuple[str, ...] = ()  # acknowledged, but after the deadline
    missing_pks: tuple[int, ...] = ()  # the members of `missing`, in the same order
    # Of `missing`: on leave for the whole window, and until when (models.leave): shown
    # apart and not in `expected`.
    away: tuple[tuple[int, Leave], ...] = ()

    @property
    def expected(self) -> int:
        """Those expected to answer: who acknowledged and who is behind, not those on leave."""
        return len(self.acknowledged) + len(self.missing) - len(self.away)

    @property
    def behind(self) -> list[str]:
        """Of `missing`, those not on leave: whom a tally names as "chưa xác nhận"."""
        away = dict(self.away)
        return [n for pk, n in zip(self.missing_pks, self.missing, strict=True) if pk not in away]

    @property
    def on_leave(self) -> list[tuple[str, Leave]]:
        """Of `missing`, those on leave for the whole window, each with the leave."""
        names = dict(zip(self.missing_pks, self.missing, strict=True))
        return [(names[pk], leave) for pk, leave in self.away]

    @property
    def acked(self) -> int:
        return len(self.acknowledged)


@dataclass(frozen=True)
class RequestLine:
    """A member's request (YCn) asked in the window, answered or not (by `as_of`)."""

    id: int
    member_id: str | None
    text: str
    asked_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class GroupInfo:
    id: int
    chat_id: str
    name: str
    kind: str


# The province's staff (`province.coordinators`): known people (status `member`) who sit on
# no park's council, so no park counts them, lists them as quiet or expects an ack of them.
PROVINCE_ROLE = "province"
MEMBER_ROLE = "member"


def park_member() -> ColumnElement[bool]:
    """A known person of the park: on its roster (or linked), never the province's staff."""
    return and_(Member.status == "member", Member.role != PROVINCE_ROLE)


def expected_member(end: datetime | ColumnElement[Any] | Any) -> ColumnElement[bool]:
    """On the roster as a member, still active and expected to take part before `end`.

    Coordinators and admins run the council: they are not counted among the members, nor
    chased for their own silence (digest, /chuahoatdong and nudges alike, docs/digest.md)."""
    return and_(
        park_member(),
        Member.role == MEMBER_ROLE,
        Member.active.is_(True),
        Member.expected_since < end,
    )


def _in(col: Any, w: Window) -> ColumnElement[bool]:
    """In the window; with a council, also that council's rows (the column's table has
    `council_id`; the outbox is counted by chat instead, see _scope_chats)."""
    entity = getattr(col, "class_", None)
    if w.council_id is not None and entity not in (None, Outbox) and hasattr(entity, "council_id"):
        return and_(col >= w.start, col < w.as_of, entity.council_id == w.council_id)
    return and_(col >= w.start, col < w.as_of)


def overdue_at(as_of: datetime) -> ColumnElement[bool]:
    """A task overdue at `as_of`: given before, due before, not done by then, not cancelled."""
    return and_(
        Task.status != "cancelled",
        Task.due_at < as_of,
        Task.created_at < as_of,
        or_(Task.done_at.is_(None), Task.done_at >= as_of),
    )


def _own(entity: Any, w: Window) -> list[ColumnElement[bool]]:
    """The council's rows of a table with `council_id`, or no condition without a council."""
    return [] if w.council_id is None else [entity.council_id == w.council_id]


def in_council(member_col: Any, council_id: str | None) -> list[ColumnElement[bool]]:
    """Members of the council (council_members), or no condition without a council."""
    if council_id is None:
        return []
    return [
        member_col.in_(
            select(CouncilMember.member_pk).where(CouncilMember.council_id == council_id)
        )
    ]


def _at_night(col: Any, w: Window) -> ColumnElement[bool]:
    """Within one of the window's local night spans (computed in Python: portable, DST-safe)."""
    if not w.nights:
        return false()
    return or_(*(and_(col >= a, col < b) for a, b in w.nights))


def _restrict(
    member_col: Any, group_pk: int | None, council_id: str | None = None
) -> list[ColumnElement[bool]]:
    found = in_council(member_col, council_id)
    if group_pk is None:
        return found
    return [
        *found,
        member_col.in_(select(Membership.member_pk).where(Membership.group_pk == group_pk)),
    ]


def scope_map(
    kind: ScopeKind, group_pk: int | None = None, council_id: str | None = None
) -> Subquery:
    """(member_pk, key) for a scope kind; `group_pk` narrows everything to one group,
    `council_id` to one council's members and groups."""
    stmt: Select[Any]
    # The province's staff are nobody's scope: what they write or are sent is not the park's.
    staff = Member.role != PROVINCE_ROLE
    if kind == "total":
        stmt = select(Member.id.label("member_pk"), ALL.label("key"))
        stmt = stmt.where(staff, *_restrict(Member.id, group_pk, council_id))
    elif kind == "group":
        stmt = (
            select(Membership.member_pk.label("member_pk"), Membership.group_pk.label("key"))
            .join(Group, Group.id == Membership.group_pk)
            .join(Member, Member.id == Membership.member_pk)
            .where(Group.kind != "private", staff)
        )
        if group_pk is not None:
            stmt = stmt.where(Membership.group_pk == group_pk)
        if council_id is not None:
            stmt = stmt.where(Group.council_id == council_id)
    else:
        stmt = select(Member.id.label("member_pk"), Member.enterprise.label("key")).where(
            staff,
            Member.enterprise.is_not(None),
            Member.enterprise != "",
            *_restrict(Member.id, group_pk, council_id),
        )
    return stmt.subquery(f"scope_{kind}")


def _per_member(
    member_col: Any, when: ColumnElement[bool], name: str, *joins: tuple[Any, Any]
) -> Subquery:
    stmt = select(member_col.label("member_pk"), func.count().label("n"))
    for table, on in joins:
        stmt = stmt.join(table, on)
    return stmt.where(when, member_col.is_not(None)).group_by(member_col).subquery(name)


async def member_figures(
    session: AsyncSession, w: Window, kind: ScopeKind, group_pk: int | None = None
) -> dict[Any, Figures]:
    """Members, activity and per-member counts summed per scope key, in one query."""
    scope = scope_map(kind, group_pk, w.council_id)
    msg = _per_member(Message.member_pk, _in(Message.sent_at, w), "msg")
    chk = _per_member(CheckIn.member_pk, _in(CheckIn.at, w), "chk")
    night = _per_member(
        CheckIn.member_pk, and_(_in(CheckIn.at, w), _at_night(CheckIn.at, w)), "night"
    )
    patrol = _per_member(
        CheckIn.member_pk, and_(_in(CheckIn.at, w), CheckIn.kind == "patrol"), "patrol"
    )
    rep = _per_member(Report.member_pk, _in(Report.created_at, w), "rep")
    done = _per_member(
        Task.assignee_pk, and_(_in(Task.done_at, w), Task.status != "cancelled"), "done"
    )
    overdue = _per_member(
        Task.assignee_pk,
        and_(
            overdue_at(w.as_of),
            *_own(Task, w),  # a member of two parks: each park counts its own tasks
        ),
        "overdue",
    )
    nudged = _per_member(
        Nudge.member_pk,
        and_(_in(Outbox.sent_at, w), *_own(Nudge, w)),
        "nudged",
        (Outbox, Outbox.id == Nudge.outbox_pk),
    )
    back = _per_member(Nudge.member_pk, _in(Nudge.reengaged_at, w), "back")
    expected = expected_member(w.end)

    def total(sub: Subquery) -> ColumnElement[Any]:
        return func.coalesce(func.sum(sub.c.n), 0)

    stmt = (
        select(
            scope.c.key,
            func.count(distinct(case((expected, Member.id)))),
            func.count(distinct(case((and_(expected, msg.c.n > 0), Member.id)))),
            func.count(distinct(case((and_(expected, back.c.n > 0), Member.id)))),
            total(msg),
            total(chk),
            total(night),
            total(patrol),
            total(rep),
            total(done),
            total(overdue),
            total(nudged),
        )
        .select_from(scope)
        .join(Member, Member.id == scope.c.member_pk)
        .outerjoin(msg, msg.c.member_pk == Member.id)
        .outerjoin(chk, chk.c.member_pk == Member.id)
        .outerjoin(night, night.c.member_pk == Member.id)
        .outerjoin(patrol, patrol.c.member_pk == Member.id)
        .outerjoin(rep, rep.c.member_pk == Member.id)
        .outerjoin(done, done.c.member_pk == Member.id)
        .outerjoin(overdue, overdue.c.member_pk == Member.id)
        .outerjoin(nudged, nudged.c.member_pk == Member.id)
        .outerjoin(back, back.c.member_pk == Member.id)
        .group_by(scope.c.key)
    )
    out: dict[Any, Figures] = {}
    for key, members, active, reengaged, *counts in await session.execute(stmt):
        messages, checkins, nights, patrols, reports, *rest = map(int, counts)
        tasks_done, tasks_overdue, nudges_sent = rest
        out[key] = Figures(
            members=members,
            active=active,
            reengaged=reengaged,
            messages=messages,
            checkins=checkins,
            checkins_night=nights,
            patrols=patrols,
            reports=reports,
            tasks_done=tasks_done,
            tasks_overdue=tasks_overdue,
            nudges_sent=nudges_sent,
        )
    return out


async def report_breakdown(
    session: AsyncSession,
    w: Window,
    kind: ScopeKind,
    group_pk: int | None,
    into: dict[Any, Figures],
) -> None:
    """Reports of the week by category, severity and (incident, else report) status."""
    scope = scope_map(kind, group_pk, w.council_id)
    status = func.coalesce(Incident.status, Report.status)
    stmt = (
        select(scope.c.key, Report.category, Report.severity, status, func.count())
        .select_from(Report)
        .join(scope, scope.c.member_pk == Report.member_pk)
        .outerjoin(Incident, Incident.id == Report.incident_pk)
        .where(_in(Report.created_at, w))
        .group_by(scope.c.key, Report.category, Report.severity, status)
    )
    for key, category, severity, state, n in await session.execute(stmt):
        fig = into.setdefault(key, Figures())
        for bucket, value in (
            (fig.reports_by_category, category),
            (fig.reports_by_severity, severity),
            (fig.reports_by_status, state),
        ):
            bucket[value] = bucket.get(value, 0) + int(n)


def counted_directive(w: Window) -> ColumnElement[bool]:
    """A directive the week's figures count: created in the window and not withdrawn (`/huy`)."""
    return and_(_in(Directive.created_at, w), Directive.status != "cancelled")


def expected_acks(w: Window, group_pk: int | None = None) -> Subquery:
    """(directive_pk, group_pk, member_pk): who owed the week's directives an acknowledgement.

    The conversation's own rule (models.engagement.owes_ack), for the directives counted.
    """
    stmt = owed_acks_stmt().where(counted_directive(w))
    if group_pk is not None:
        stmt = stmt.where(Group.id == group_pk)
    return stmt.subquery("expected_acks")


async def directive_figures(
    session: AsyncSession,
    w: Window,
    kind: ScopeKind,
    group_pk: int | None,
    into: dict[Any, Figures],
) -> None:
    """Directives of the week, expected acknowledgements and those received by `as_of`."""
    triples = expected_acks(w, group_pk)
    if kind == "group":
        pairs = (
            select(triples.c.directive_pk, triples.c.member_pk, triples.c.group_pk.label("key"))
            .distinct()
            .subquery("pairs")
        )
    else:
        scope = scope_map(kind, group_pk, w.council_id)
        pairs = (
            select(triples.c.directive_pk, triples.c.member_pk, scope.c.key)
            .distinct()
            .join(scope, scope.c.member_pk == triples.c.member_pk)
            .subquery("pairs")
        )
    late = func.count(case((Ack.at > Directive.deadline_at, Ack.id)))
    columns = select(
        pairs.c.key,
        func.count(),
        func.count(Ack.id),
        late,
        func.count(distinct(pairs.c.directive_pk)),
    )
    stmt = with_acks_by(columns, pairs, w.as_of).group_by(pairs.c.key)
    for key, expected, acked, acked_late, directives in await session.execute(stmt):
        fig = into.setdefault(key, Figures())
        fig.expected_acks, fig.acks, fig.directives = int(expected), int(acked), int(directives)
        fig.acks_late = int(acked_late)
    await discount_leave(session, w, pairs, into)
    # A directive counts for the groups it targets (and for the park) even if nobody there
    # was expected to answer; enterprises only see directives that asked their members.
    if kind == "enterprise":
        return
    if kind == "total" and group_pk is None:
        stmt = select(ALL, func.count(Directive.id)).where(counted_directive(w))
    else:
        key = ALL if kind == "total" else Group.id
        stmt = (
            select(key, func.count(distinct(Directive.id)))
            .select_from(Group)
            .join(DirectiveTarget, DirectiveTarget.chat_id == Group.chat_id)
            .join(Directive, Directive.id == DirectiveTarget.directive_pk)
            .where(
                counted_directive(w),
                Group.kind != "private",
                *([Group.id == group_pk] if group_pk is not None else []),
            )
        )
        if kind == "group":
            stmt = stmt.group_by(Group.id)
    for key, n in await session.execute(stmt):
        into.setdefault(key, Figures()).directives = int(n)


def ack_of_pair(pairs: Any, as_of: datetime) -> ColumnElement[bool]:
    """The acknowledgement a (directive, member) row of `pairs` gave before `as_of`."""
    return and_(
        Ack.directive_pk == pairs.c.directive_pk,
        Ack.member_pk == pairs.c.member_pk,
        Ack.at < as_of,
    )


def with_acks_by(stmt: Select[Any], pairs: Any, as_of: datetime) -> Select[Any]:
    """`stmt` over the (directive, member) `pairs`, each with its directive and the
    acknowledgement given before `as_of` (none: NULL), for tallies and who still owes one."""
    return (
        stmt.select_from(pairs)
        .join(Directive, Directive.id == pairs.c.directive_pk)
        .outerjoin(Ack, ack_of_pair(pairs, as_of))
    )


async def discount_leave(
    session: AsyncSession, w: Window, pairs: Subquery, into: dict[Any, Figures]
) -> None:
    """Moves the acks owed by members on leave for their directive's whole window from each
    key's `expected_acks` to `acks_on_leave` (models.leave.on_leave_throughout).

    `pairs`: (directive_pk, member_pk, key), each counted once in `expected_acks`."""
    if w.tz is None:
        return
    # Only leave said before the directive went out counts; the (member, sent_at) index
    # keeps this to each silent member's own messages.
    said_leave = exists().where(
        Message.member_pk == pairs.c.member_pk,
        Message.sent_at < Directive.created_at,
        Message.type == "absent",
    )
    owed = select(
        pairs.c.key,
        pairs.c.directive_pk,
        pairs.c.member_pk,
        Directive.created_at,
        Directive.deadline_at,
    )
    owed = with_acks_by(owed, pairs, w.as_of).where(Ack.id.is_(None), said_leave)
    rows = (await session.execute(owed)).all()
    away = await on_leave_throughout(session, w.tz, (Owed(*row[1:]) for row in rows))
    for key, directive_pk, member_pk, *_window in rows:
        if (directive_pk, member_pk) in away:
            fig = into.setdefault(key, Figures())
            fig.expected_acks -= 1
            fig.acks_on_leave += 1


def _scope_chats(
    kind: ScopeKind, group_pk: int | None, council_id: str | None = None
) -> Subquery | None:
    """(chat_id, key): the chats a scope's outbox is counted from (its groups, its members')."""
    members = scope_map(kind, group_pk, council_id)
    private = (
        select(Member.private_chat_id.label("chat_id"), members.c.key)
        .join(members, members.c.member_pk == Member.id)
        .where(Member.private_chat_id.is_not(None))
    )
    if kind == "total":
        if group_pk is None and council_id is None:
            return None
        own: Select[Any] = select(Group.chat_id, ALL.label("key")).where(
            Group.id == group_pk if group_pk is not None else Group.council_id == council_id
        )
    elif kind == "group":
        own = select(Group.chat_id, Group.id.label("key")).where(Group.kind != "private")
        if group_pk is not None:
            own = own.where(Group.id == group_pk)
    else:
        own = select(Group.chat_id, Group.enterprise.label("key")).where(
            Group.enterprise.is_not(None), Group.kind != "private"
        )
    if council_id is not None:
        own = own.where(Group.council_id == council_id)
    return union(own, private).subquery("chats")


async def outbox_figures(
    session: AsyncSession,
    w: Window,
    kind: ScopeKind,
    group_pk: int | None,
    into: dict[Any, Figures],
) -> None:
    """Messages the bot sent (each chunk counts, as the quota does) per scope."""
    chats = _scope_chats(kind, group_pk, w.council_id)
    sent = func.coalesce(func.sum(Outbox.chunks_sent), 0)
    if chats is None:
        stmt = select(ALL, sent).where(_in(Outbox.sent_at, w))
    else:
        stmt = (
            select(chats.c.key, sent)
            .join(chats, chats.c.chat_id == Outbox.chat_id)
            .where(_in(Outbox.sent_at, w))
            .group_by(chats.c.key)
        )
    for key, n in await session.execute(stmt):
        into.setdefault(key, Figures()).messages_sent = int(n)


async def figures(
    session: AsyncSession, w: Window, kind: ScopeKind, group_pk: int | None = None
) -> dict[Any, Figures]:
    """Every figure of the week for every key of one scope kind."""
    out = await member_figures(session, w, kind, group_pk)
    await report_breakdown(session, w, kind, group_pk, out)
    await directive_figures(session, w, kind, group_pk, out)
    await outbox_figures(session, w, kind, group_pk, out)
    return out


async def totals(session: AsyncSession, w: Window, group_pk: int | None = None) -> Figures:
    return (await figures(session, w, "total", group_pk)).get(TOTAL_KEY, Figures())


async def groups(
    session: AsyncSession, group_pk: int | None = None, council_id: str | None = None
) -> list[GroupInfo]:
    """The chats digests report on: every group but members' private chats (of one council)."""
    stmt = select(Group).where(Group.kind != "private").order_by(Group.name, Group.id)
    if group_pk is not None:
        stmt = stmt.where(Group.id == group_pk)
    if council_id is not None:
        stmt = stmt.where(Group.council_id == council_id)
    return [
        GroupInfo(g.id, g.chat_id, g.name or g.chat_id, g.kind)
        for g in (await session.execute(stmt)).scalars()
    ]


async def group_by_chat(session: AsyncSession, chat_id: str) -> GroupInfo | None:
    g = (await session.execute(select(Group).where(Group.chat_id == chat_id))).scalar_one_or_none()
    return None if g is None else GroupInfo(g.id, g.chat_id, g.name or g.chat_id, g.kind)


async def top_members(
    session: AsyncSession, w: Window, group_pk: int | None = None, limit: int = 5
) -> list[MemberLine]:
    """Roster members with most interactions (messages + check-ins + reports + acks).

    Members' own contributions only: not coordinators or admins, not commands typed, and
    nobody nudged in the same window (praise never meets pressure)."""
    parts: list[Select[Any]] = [
        select(Message.member_pk.label("member_pk"), func.count().label("n"))
        .where(_in(Message.sent_at, w), or_(Message.type.is_(None), Message.type != "command"))
        .group_by(Message.member_pk),
        select(CheckIn.member_pk, func.count())
        .where(_in(CheckIn.at, w))
        .group_by(CheckIn.member_pk),
        select(Report.member_pk, func.count())
        .where(_in(Report.created_at, w))
        .group_by(Report.member_pk),
        # An ack has no council of its own: it is its directive's (a member of two parks
        # acknowledging park A's directive is thanked in A only).
        select(Ack.member_pk, func.count())
        .join(Directive, Directive.id == Ack.directive_pk)
        .where(_in(Ack.at, w), *_own(Directive, w))
        .group_by(Ack.member_pk),
    ]
    counts = union_all(*parts).subquery("interactions")
    score = func.sum(counts.c.n).label("score")
    stmt = (
        select(Member.id, Member.member_id, Member.name, Member.enterprise, score)
        .join(counts, counts.c.member_pk == Member.id)
        .where(
            Member.status == "member",
            Member.role == "member",
            Member.active.is_(True),
            ~select(Nudge.id)
            .where(Nudge.member_pk == Member.id, _in(Nudge.planned_at, w))
            .exists(),
            *_restrict(Member.id, group_pk, w.council_id),
        )
        .group_by(Member.id, Member.member_id, Member.name, Member.name_folded, Member.enterprise)
        # Folded names order ties as readers expect (Đ with D) and alike on every database.
        .order_by(score.desc(), Member.name_folded, Member.name, Member.id)
        .limit(limit)
    )
    return [
        MemberLine(pk, mid, name, ent, int(n))
        for pk, mid, name, ent, n in await session.execute(stmt)
        if n
    ]


def _silent(w: Window, group_pk: int | None) -> list[ColumnElement[bool]]:
    """Expected members of the scope with no message in the window."""
    wrote = (
        select(Message.member_pk)
        .where(_in(Message.sent_at, w), Message.member_pk == Member.id)
        .exists()
    )
    return [expected_member(w.end), ~wrote, *_restrict(Member.id, group_pk, w.council_id)]


async def silent_members(
    session: AsyncSession, w: Window, group_pk: int | None = None
) -> list[int]:
    """The ids of `inactive_members`, without reading when each was last seen."""
    return list((await session.execute(select(Member.id).where(*_silent(w, group_pk)))).scalars())


async def inactive_members(
    session: AsyncSession, w: Window, group_pk: int | None = None
) -> list[MemberLine]:
    """Expected members with no message in the week, by enterprise then name; each with
    when they were last seen as of the week (an old week's page must not show today's)."""
    last_message = (
        select(func.max(Message.sent_at))
        .where(Message.member_pk == Member.id, Message.sent_at < w.as_of)
        .scalar_subquery()
    )
    stmt = (
        select(Member, last_message)
        .where(*_silent(w, group_pk))
        .order_by(func.coalesce(Member.enterprise, ""), Member.name_folded, Member.name, Member.id)
    )
    return [
        MemberLine(
            m.id, m.member_id, m.name, m.enterprise, 0, _seen_by(m, last, w), m.private_chat_id
        )
        for m, last in (await session.execute(stmt)).tuples()
    ]


async def members_per_key(
    session: AsyncSession, w: Window, kind: ScopeKind, member_pks: list[int], group_pk: int | None
) -> dict[Any, int]:
    """How many of `member_pks` each key of a scope kind has (a group, an enterprise)."""
    if not member_pks:
        return {}
    scope = scope_map(kind, group_pk, w.council_id)
    stmt = (
        select(scope.c.key, func.count(distinct(scope.c.member_pk)))
        .where(scope.c.member_pk.in_(member_pks))
        .group_by(scope.c.key)
    )
    return {key: int(n) for key, n in await session.execute(stmt)}


def _seen_by(member: Member, last_message: datetime | None, w: Window) -> datetime | None:
    """Last seen as of the window: its last message before then; when retention deleted
    those, the member's own record if it is not later (else unknown, not today's)."""
    if last_message is not None:
        return last_message
    seen = member.last_active_at
    return seen if seen is not None and seen < w.as_of else None


async def directive_statuses(
    session: AsyncSession,
    w: Window,
    group_pk: int | None = None,
    *,
    pending_only: bool = False,
    limit: int = 200,
) -> list[DirectiveStatus]:
    """The window's directives (newest last) with who acknowledged by `as_of` and who not."""
    stmt = select(Directive).where(_in(Directive.created_at, w))
    if group_pk is not None:
        stmt = stmt.where(
            Directive.id.in_(
                select(DirectiveTarget.directive_pk)
                .join(Group, Group.chat_id == DirectiveTarget.chat_id)
                .where(Group.id == group_pk)
            )
        )
    directives = list(
        (
            await session.execute(
                stmt.order_by(Directive.created_at.desc(), Directive.id.desc()).limit(limit)
            )
        ).scalars()
    )
    if not directives:
        return []
    # The one rule over these directives, cancelled ones too: the page still shows who had
    # answered before `/huy`; the digest's pending list leaves them out below.
    owing = owed_acks_stmt().where(Directive.id.in_([d.id for d in directives]))
    if group_pk is not None:
        owing = owing.where(Group.id == group_pk)
    triples = owing.subquery("owing")
    pairs = select(triples.c.directive_pk, triples.c.member_pk).distinct().subquery("pairs")
    rows = await session.execute(
        select(pairs.c.directive_pk, Member.id, Member.name, Member.member_id, Ack.id, Ack.at)
        .select_from(pairs)
        .join(Member, Member.id == pairs.c.member_pk)
        .outerjoin(Ack, ack_of_pair(pairs, w.as_of))
        .order_by(Member.name_folded, Member.name, Member.id)
    )
    acked: dict[int, list[str]] = {}
    missing: dict[int, list[str]] = {}
    missing_pks: dict[int, list[int]] = {}
    late: dict[int, list[str]] = {}
    deadline = {d.id: d.deadline_at for d in directives}
    for did, pk, name, member_id, ack_id, ack_at in rows:
        who = name or member_id or "?"
        (missing if ack_id is None else acked).setdefault(did, []).append(who)
        if ack_id is None:
            missing_pks.setdefault(did, []).append(pk)
        if ack_at is not None and ack_at > deadline[did]:
            late.setdefault(did, []).append(who)
    away: dict[tuple[int, int], Leave] = {}
    if w.tz is not None:
        owed = [
            Owed(d.id, pk, d.created_at, d.deadline_at)
            for d in directives
            for pk in missing_pks.get(d.id, [])
        ]
        away = await on_leave_throughout(session, w.tz, owed)
    out = [
        DirectiveStatus(
            d.id,
            d.text,
            d.created_at,
            d.deadline_at,
            d.status,
            acked.get(d.id, []),
            missing.get(d.id, []),
            tuple(late.get(d.id, [])),
            tuple(missing_pks.get(d.id, [])),
            tuple((pk, away[(d.id, pk)]) for pk in missing_pks.get(d.id, []) if (d.id, pk) in away),
        )
        for d in reversed(directives)
    ]
    if pending_only:
        return [d for d in out if d.missing and d.status != "cancelled"]
    return out


async def open_incidents(
    session: AsyncSession,
    w: Window,
    group_pk: int | None = None,
) -> dict[str, int]:
    """Incidents not finished at `as_of`, by category."""
    still_open = _still_open_at(w.as_of)
    stmt = select(Incident.category, func.count(Incident.id)).where(
        Incident.first_reported_at < w.as_of, still_open, *_own(Incident, w)
    )
    if group_pk is not None:
        stmt = stmt.where(
            Incident.id.in_(
                select(Report.incident_pk).where(*_restrict(Report.member_pk, group_pk))
            )
        )
    stmt = stmt.group_by(Incident.category).order_by(Incident.category)
    return {cat: int(n) for cat, n in await session.execute(stmt)}


# Incident steps recorded as IncidentEvent kinds; the last one before `as_of` is the status then.
STATUS_STEPS = ("acknowledged", "handling", "resolved", "settled", "false_alarm")
FINAL_STEPS = ("resolved", "settled", "false_alarm")
# Older or foreign states shown with SPEC.md 2's names.
STATUS_NAMES = {"reported": "open", "closed": "resolved", "cancelled": "false_alarm"}


@dataclass(frozen=True)
class IncidentLine:
    """One incident as the digest tells it: its state at `as_of` and how it ended."""

    id: int
    category: str
    severity: str
    status: str  # open|acknowledged|handling|resolved|settled|noted|false_alarm, at `as_of`
    places: list[str]  # the place texts as typed (the JSON's `places`)
    place_items: list[dict[str, Any]]  # the same places as stored (kind, code, text), to show back
    reported_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    reporters: list[str]
    handler: str | None
    outcome: str | None  # the note given when it was closed (resolved, settled, false alarm)
    reports: int


def _still_open_at(at: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Incident.resolved_at.is_(None), Incident.status.not_in(CLOSED_INCIDENT_STATUSES)),
        Incident.resolved_at >= at,
    )


async def week_incidents(
    session: AsyncSession, w: Window, group_pk: int | None = None, limit: int = 200
) -> list[IncidentLine]:
    """Incidents first reported in the window, or carried over still open at its start.

    Each incident once, however many reports were merged into it; oldest first.
    """
    handler = aliased(Member)
    stmt = (
        select(Incident, handler.name)
        .outerjoin(handler, handler.id == Incident.handler_pk)
        .where(
            Incident.first_reported_at < w.as_of,
            or_(Incident.first_reported_at >= w.start, _still_open_at(w.start)),
            *_own(Incident, w),
        )
        .order_by(Incident.first_reported_at, Incident.id)
        .limit(limit)
    )
    if group_pk is not None:
        stmt = stmt.where(
            Incident.id.in_(
                select(Report.incident_pk).where(*_restrict(Report.member_pk, group_pk))
            )
        )
    found = list((await session.execute(stmt)).all())
    if not found:
        return []
    ids = [i.id for i, _ in found]
    reports = await session.execute(
        select(Report.incident_pk, Report.places, Member.name, Member.member_id)
        .outerjoin(Member, Member.id == Report.member_pk)
        .where(Report.incident_pk.in_(ids), Report.created_at < w.as_of)
        .order_by(Report.created_at, Report.id)
    )
    places: dict[int, list[str]] = {}
    items: dict[int, list[dict[str, Any]]] = {}
    reporters: dict[int, list[str]] = {}
    count: dict[int, int] = {}
    for pk, report_places, name, member_id in reports:
        count[pk] = count.get(pk, 0) + 1
        for place in report_places or []:
            item = place if isinstance(place, dict) else {"text": str(place)}
            text = item.get("text")
            seen = places.setdefault(pk, [])
            if text and text.casefold() not in (p.casefold() for p in seen):
                seen.append(text)  # "xưởng 2" and "Xưởng 2" are one place
                items.setdefault(pk, []).append(item)
        who = name or member_id or "?"
        if who not in reporters.setdefault(pk, []):
            reporters[pk].append(who)
    steps = await session.execute(
        select(IncidentEvent.incident_pk, IncidentEvent.kind, IncidentEvent.note)
        .where(
            IncidentEvent.incident_pk.in_(ids),
            IncidentEvent.kind.in_(STATUS_STEPS),
            IncidentEvent.at < w.as_of,
        )
        .order_by(IncidentEvent.at, IncidentEvent.id)
    )
    last: dict[int, tuple[str, str]] = {pk: (kind, note) for pk, kind, note in steps}
    return [
        _line(
            i,
            handler_name,
            last.get(i.id),
            w.as_of,
            places=places.get(i.id, []),
            place_items=items.get(i.id, []),
            reporters=reporters.get(i.id, []),
            reports=count.get(i.id, 0),
        )
        for i, handler_name in found
    ]


def _line(
    i: Incident,
    handler_name: str | None,
    step: tuple[str, str] | None,
    as_of: datetime,
    *,
    places: list[str],
    place_items: list[dict[str, Any]],
    reporters: list[str],
    reports: int,
) -> IncidentLine:
    """The incident as it stood at `as_of`: later steps are not shown."""
    acknowledged = i.acknowledged_at if i.acknowledged_at and i.acknowledged_at < as_of else None
    resolved = i.resolved_at if i.resolved_at and i.resolved_at < as_of else None
    if step is not None:
        status = step[0]
    elif resolved is not None:
        status = STATUS_NAMES.get(i.status, i.status)  # closed without a recorded step
    elif i.status == "noted":
        status = "noted"
    else:
        status = "acknowledged" if acknowledged else "open"
    if status not in FINAL_STEPS:
        resolved = None
    outcome = None
    if step is not None and step[0] in FINAL_STEPS:
        outcome = step[1].strip() or None
    return IncidentLine(
        id=i.id,
        category=i.category,
        severity=i.severity,
        status=status,
        places=places,
        place_items=place_items,
        reported_at=i.first_reported_at,
        acknowledged_at=acknowledged,
        resolved_at=resolved,
        reporters=reporters,
        handler=handler_name if acknowledged else None,
        outcome=outcome,
        reports=reports,
    )


async def messages_seen(
    session: AsyncSession, w: Window, group_pk: int | None = None
) -> dict[str, int]:
    """The week's stored messages by chat type (private, group): what the bot saw."""
    stmt = (
        select(Message.chat_type, func.count())
        .where(_in(Message.sent_at, w), *_restrict(Message.member_pk, group_pk))
        .group_by(Message.chat_type)
    )
    return {kind: int(n) for kind, n in await session.execute(stmt)}


async def sent_digest(
    session: AsyncSession, week: str, council_id: str = DEFAULT_COUNCIL
) -> SentDigest | None:
    """The park digest text stored when that week's digest was queued, if it was."""
    return await session.get(SentDigest, (council_id, week))


async def keep_sent_digest(
    session: AsyncSession,
    week: str,
    text: str,
    as_of: datetime,
    now: datetime,
    council_id: str = DEFAULT_COUNCIL,
) -> str:
    """Store the week's text unless one is stored already; return the stored one.

    The first text queued for a week is what every coordinator of that week receives.
    """
    row = {"council_id": council_id, "week": week, "text": text, "as_of": as_of, "created_at": now}
    await insert_new(session, SentDigest, [row], conflict=("council_id", "week"))
    stored = await session.get(SentDigest, (council_id, week), populate_existing=True)
    return stored.text if stored is not None else text


async def budget_used(session: AsyncSession, at: datetime) -> int:
    """Messages sent in the calendar month (UTC, as the sender counts) of `at`."""
    month = at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return await sent_this_month(session, month)


async def week_message_count(session: AsyncSession, w: Window) -> int:
    """A plain COUNT(*) of the week's messages: the benchmark's baseline."""
    stmt = select(func.count()).select_from(Message).where(_in(Message.sent_at, w))
    return int((await session.execute(stmt)).scalar_one())


@dataclass(frozen=True)
class MemberActivity:
    """A roster row for the dashboard with the window's activity."""

    member: Member
    messages: int
    checkins: int
    group_count: int


async def member_activity(
    session: AsyncSession, w: Window, search: str = "", limit: int = 1000
) -> list[MemberActivity]:
    """Active members and guests with messages and check-ins in the window, and their groups."""
    msg = _per_member(Message.member_pk, _in(Message.sent_at, w), "msg")
    chk = _per_member(CheckIn.member_pk, _in(CheckIn.at, w), "chk")
    names = (
        select(Membership.member_pk, func.count(Group.id).label("n"))
        .join(Group, Group.id == Membership.group_pk)
        .where(Group.kind != "private")
        .group_by(Membership.member_pk)
        .subquery("gcount")
    )
    stmt = (
        select(
            Member,
            func.coalesce(msg.c.n, 0),
            func.coalesce(chk.c.n, 0),
            func.coalesce(names.c.n, 0),
        )
        .outerjoin(msg, msg.c.member_pk == Member.id)
        .outerjoin(chk, chk.c.member_pk == Member.id)
        .outerjoin(names, names.c.member_pk == Member.id)
        .where(Member.active.is_(True), *in_council(Member.id, w.council_id))
    )
    if search:
        like = f"%{search.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Member.name).like(like),
                Member.name_folded.like(like),
                func.lower(func.coalesce(Member.enterprise, "")).like(like),
                Member.phone.like(like),
                Member.member_id.like(like),
            )
        )
    stmt = stmt.order_by(func.coalesce(Member.enterprise, ""), Member.name, Member.id).limit(limit)
    return [MemberActivity(m, int(n), int(c), int(g)) for m, n, c, g in await session.execute(stmt)]


async def enterprise_last_seen(
    session: AsyncSession, council_id: str | None = None
) -> dict[str, datetime | None]:
    stmt = (
        select(Member.enterprise, func.max(Member.last_active_at))
        .where(
            Member.enterprise.is_not(None),
            Member.active.is_(True),
            *in_council(Member.id, council_id),
        )
        .group_by(Member.enterprise)
    )
    return {ent: last for ent, last in await session.execute(stmt)}


async def week_requests(
    session: AsyncSession, w: Window, group_pk: int | None = None
) -> list[RequestLine]:
    """Requests asked in the window; an answer after `as_of` is not known yet."""
    stmt = (
        select(MemberRequest, Member.member_id)
        .outerjoin(Member, Member.id == MemberRequest.member_pk)
        .where(_in(MemberRequest.asked_at, w), *_restrict(MemberRequest.member_pk, group_pk))
        .order_by(MemberRequest.asked_at, MemberRequest.id)
    )
    return [
        RequestLine(
            id=r.id,
            member_id=member_id,
            text=r.text,
            asked_at=r.asked_at,
            answered_at=r.answered_at
            if r.answered_at is not None and r.answered_at < w.as_of
            else None,
        )
        for r, member_id in await session.execute(stmt)
    ]


# The fixed shifts an enterprise without configured `shifts` is counted in (docs/digest.md).
DEFAULT_SHIFTS: tuple[Shift, ...] = (
    ("ca 1", time(6, 0), time(14, 0)),
    ("ca 2", time(14, 0), time(22, 0)),
    ("ca 3", time(22, 0), time(6, 0)),
)
OFF_SHIFT = "ngoài ca"  # a check-in at a time none of the enterprise's shifts covers


@dataclass(frozen=True)
class ShiftLine:
    """An enterprise's check-ins in one of its shifts over the window, by kind."""

    enterprise: str
    shift: str
    start: time | None
    end: time | None
    night: bool
    checkins: int = 0  # every kind, including any a later version adds
    attendance: int = 0
    shift_starts: int = 0
    shift_ends: int = 0
    patrols: int = 0


def on_duty(start: time, end: time, at: time) -> bool:
    """`at` (local) falls in [start, end); a shift whose end is not after its start
    crosses midnight."""
    if end <= start:
        return at >= start or at < end
    return start <= at < end


def shift_of(shifts: tuple[Shift, ...], at: time) -> Shift | None:
    """The first of the shifts on duty at `at` (as models.honour.shift_at picks it)."""
    return next((s for s in shifts if on_duty(s[1], s[2], at)), None)


async def shift_checkins(
    session: AsyncSession,
    w: Window,
    shifts: Shifts,
    tz: ZoneInfo,
    group_pk: int | None = None,
) -> list[ShiftLine]:
    """Per roster enterprise and per shift (its configured `shifts`, else DEFAULT_SHIFTS):
    the window's check-ins by kind; every shift is listed, with zeros, by enterprise.

    Check-ins are few (about one per member and shift), so their times are read and placed
    in shifts here: local wall-clock shifts are not portable SQL.
    """
    names = await session.execute(
        select(distinct(Member.enterprise)).where(
            Member.enterprise.is_not(None),
            Member.enterprise != "",
            park_member(),
            Member.active.is_(True),
            *_restrict(Member.id, group_pk, w.council_id),
        )
    )
    counts: dict[tuple[str, str], dict[str, int]] = {}
    rows = await session.execute(
        select(Member.enterprise, CheckIn.kind, CheckIn.at)
        .join(Member, Member.id == CheckIn.member_pk)
        .where(
            _in(CheckIn.at, w),
            Member.enterprise.is_not(None),
            Member.enterprise != "",
            *_restrict(Member.id, group_pk, w.council_id),
        )
    )
    enterprises = {str(n) for (n,) in names}
    for enterprise, kind, at in rows:
        enterprises.add(enterprise)
        found = shift_of(shifts.get(enterprise, DEFAULT_SHIFTS), at.astimezone(tz).time())
        name = found[0] if found else OFF_SHIFT
        bucket = counts.setdefault((enterprise, name), {})
        bucket[kind] = bucket.get(kind, 0) + 1
    out: list[ShiftLine] = []
    for enterprise in sorted(enterprises):
        own = shifts.get(enterprise, DEFAULT_SHIFTS)
        listed: list[tuple[str, time | None, time | None, bool]] = [
            (name, a, b, is_night(a, b)) for name, a, b in own
        ]
        if (enterprise, OFF_SHIFT) in counts:
            listed.append((OFF_SHIFT, None, None, False))
        for name, a, b, night in listed:
            bucket = counts.get((enterprise, name), {})
            out.append(
                ShiftLine(
                    enterprise,
                    name,
                    a,
                    b,
                    night,
                    checkins=sum(bucket.values()),
                    attendance=bucket.get("attendance", 0),
                    shift_starts=bucket.get("shift", 0),
                    shift_ends=bucket.get("shift_end", 0),
                    patrols=bucket.get("patrol", 0),
                )
            )
    return out
