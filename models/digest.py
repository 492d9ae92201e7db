"""The weekly digest's figures, computed by SQL aggregates (docs/digest.md defines each one).

Every figure is counted per *scope key*: the whole park ("all"), a group (its `groups.id`)
or an enterprise (its name). A scope is a small (member_pk, key) mapping; per-member
aggregates of the week are joined to it and summed in the database, so no message row is
ever loaded into Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    distinct,
    func,
    literal_column,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.outbox import sent_this_month
from models.tables import (
    Ack,
    CheckIn,
    Directive,
    DirectiveTarget,
    Group,
    Incident,
    Member,
    MemberRequest,
    Membership,
    Message,
    Nudge,
    Outbox,
    Report,
    Task,
)

ScopeKind = Literal["total", "group", "enterprise"]
TOTAL_KEY = "all"
# Rendered inline: PostgreSQL cannot type a bare bind parameter in a subquery column.
ALL: ColumnElement[str] = literal_column("'all'")
# An incident in one of these states is finished even if nobody recorded resolved_at.
CLOSED_INCIDENT_STATUSES = ("resolved", "closed", "false_alarm", "cancelled", "noted")


@dataclass(frozen=True)
class Window:
    """A week [start, end) in UTC; `as_of` = min(now, end) bounds "so far" and "still open"."""

    start: datetime
    end: datetime
    as_of: datetime


@dataclass
class Figures:
    """One scope's figures for one week (SPEC.md 2 `totals`, plus a few extra keys)."""

    members: int = 0
    active: int = 0
    reengaged: int = 0
    messages: int = 0
    checkins: int = 0
    reports: int = 0
    reports_by_category: dict[str, int] = field(default_factory=dict)
    reports_by_severity: dict[str, int] = field(default_factory=dict)
    reports_by_status: dict[str, int] = field(default_factory=dict)
    directives: int = 0
    acks: int = 0
    expected_acks: int = 0
    tasks_done: int = 0
    tasks_overdue: int = 0
    nudges_sent: int = 0
    messages_sent: int = 0

    @property
    def inactive(self) -> int:
        return self.members - self.active

    @property
    def ack_rate(self) -> float | None:
        """Share of expected acknowledgements received; None when nothing was asked."""
        return round(self.acks / self.expected_acks, 4) if self.expected_acks else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "members": self.members,
            "active": self.active,
            "inactive": self.inactive,
            "reengaged": self.reengaged,
            "messages": self.messages,
            "checkins": self.checkins,
            "reports": self.reports,
            "reports_by_category": dict(self.reports_by_category),
            "reports_by_severity": dict(self.reports_by_severity),
            "reports_by_status": dict(self.reports_by_status),
            "directives": self.directives,
            "acks": self.acks,
            "expected_acks": self.expected_acks,
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

    @property
    def expected(self) -> int:
        return len(self.acknowledged) + len(self.missing)

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


def expected_member(end: datetime | ColumnElement[Any] | Any) -> ColumnElement[bool]:
    """On the roster, still active and expected to take part before `end`."""
    return and_(Member.status == "member", Member.active.is_(True), Member.expected_since < end)


def _in(col: Any, w: Window) -> ColumnElement[bool]:
    return and_(col >= w.start, col < w.as_of)


def _restrict(member_col: Any, group_pk: int | None) -> list[ColumnElement[bool]]:
    if group_pk is None:
        return []
    return [member_col.in_(select(Membership.member_pk).where(Membership.group_pk == group_pk))]


def scope_map(kind: ScopeKind, group_pk: int | None = None) -> Subquery:
    """(member_pk, key) for a scope kind; `group_pk` narrows everything to one group."""
    stmt: Select[Any]
    if kind == "total":
        stmt = select(Member.id.label("member_pk"), ALL.label("key"))
        stmt = stmt.where(*_restrict(Member.id, group_pk))
    elif kind == "group":
        stmt = (
            select(Membership.member_pk.label("member_pk"), Membership.group_pk.label("key"))
            .join(Group, Group.id == Membership.group_pk)
            .where(Group.kind != "private")
        )
        if group_pk is not None:
            stmt = stmt.where(Membership.group_pk == group_pk)
    else:
        stmt = select(Member.id.label("member_pk"), Member.enterprise.label("key")).where(
            Member.enterprise.is_not(None), Member.enterprise != "", *_restrict(Member.id, group_pk)
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
    scope = scope_map(kind, group_pk)
    msg = _per_member(Message.member_pk, _in(Message.sent_at, w), "msg")
    chk = _per_member(CheckIn.member_pk, _in(CheckIn.at, w), "chk")
    rep = _per_member(Report.member_pk, _in(Report.created_at, w), "rep")
    done = _per_member(
        Task.assignee_pk, and_(_in(Task.done_at, w), Task.status != "cancelled"), "done"
    )
    overdue = _per_member(
        Task.assignee_pk,
        and_(
            Task.status != "cancelled",
            Task.due_at < w.as_of,
            Task.created_at < w.as_of,
            or_(Task.done_at.is_(None), Task.done_at >= w.as_of),
        ),
        "overdue",
    )
    nudged = _per_member(
        Nudge.member_pk, _in(Outbox.sent_at, w), "nudged", (Outbox, Outbox.id == Nudge.outbox_pk)
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
            total(rep),
            total(done),
            total(overdue),
            total(nudged),
        )
        .select_from(scope)
        .join(Member, Member.id == scope.c.member_pk)
        .outerjoin(msg, msg.c.member_pk == Member.id)
        .outerjoin(chk, chk.c.member_pk == Member.id)
        .outerjoin(rep, rep.c.member_pk == Member.id)
        .outerjoin(done, done.c.member_pk == Member.id)
        .outerjoin(overdue, overdue.c.member_pk == Member.id)
        .outerjoin(nudged, nudged.c.member_pk == Member.id)
        .outerjoin(back, back.c.member_pk == Member.id)
        .group_by(scope.c.key)
    )
    out: dict[Any, Figures] = {}
    for key, members, active, reengaged, *counts in await session.execute(stmt):
        messages, checkins, reports, tasks_done, tasks_overdue, nudges_sent = map(int, counts)
        out[key] = Figures(
            members=members,
            active=active,
            reengaged=reengaged,
            messages=messages,
            checkins=checkins,
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
    scope = scope_map(kind, group_pk)
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


def expected_acks(w: Window, group_pk: int | None = None) -> Subquery:
    """(directive_pk, group_pk, member_pk): who was expected to acknowledge the week's directives.

    Roster members of a target group who were in it when the directive went out; the issuer
    is not expected to acknowledge their own directive.
    """
    stmt = (
        select(
            Directive.id.label("directive_pk"),
            Group.id.label("group_pk"),
            Membership.member_pk.label("member_pk"),
        )
        .join(DirectiveTarget, DirectiveTarget.directive_pk == Directive.id)
        .join(Group, Group.chat_id == DirectiveTarget.chat_id)
        .join(Membership, Membership.group_pk == Group.id)
        .join(Member, Member.id == Membership.member_pk)
        .where(
            _in(Directive.created_at, w),
            expected_member(Directive.created_at),
            Membership.joined_at <= Directive.created_at,
            or_(Directive.issued_by.is_(None), Directive.issued_by != Member.id),
        )
    )
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
        scope = scope_map(kind, group_pk)
        pairs = (
            select(triples.c.directive_pk, triples.c.member_pk, scope.c.key)
            .distinct()
            .join(scope, scope.c.member_pk == triples.c.member_pk)
            .subquery("pairs")
        )
    stmt = (
        select(
            pairs.c.key,
            func.count(),
            func.count(Ack.id),
            func.count(distinct(pairs.c.directive_pk)),
        )
        .select_from(pairs)
        .outerjoin(
            Ack,
            and_(
                Ack.directive_pk == pairs.c.directive_pk,
                Ack.member_pk == pairs.c.member_pk,
                Ack.at < w.as_of,
            ),
        )
        .group_by(pairs.c.key)
    )
    for key, expected, acked, directives in await session.execute(stmt):
        fig = into.setdefault(key, Figures())
        fig.expected_acks, fig.acks, fig.directives = int(expected), int(acked), int(directives)
    # A directive counts for the groups it targets (and for the park) even if nobody there
    # was expected to answer; enterprises only see directives that asked their members.
    if kind == "enterprise":
        return
    if kind == "total" and group_pk is None:
        stmt = select(ALL, func.count(Directive.id)).where(_in(Directive.created_at, w))
    else:
        key = ALL if kind == "total" else Group.id
        stmt = (
            select(key, func.count(distinct(Directive.id)))
            .select_from(Group)
            .join(DirectiveTarget, DirectiveTarget.chat_id == Group.chat_id)
            .join(Directive, Directive.id == DirectiveTarget.directive_pk)
            .where(
                _in(Directive.created_at, w),
                Group.kind != "private",
                *([Group.id == group_pk] if group_pk is not None else []),
            )
        )
        if kind == "group":
            stmt = stmt.group_by(Group.id)
    for key, n in await session.execute(stmt):
        into.setdefault(key, Figures()).directives = int(n)


def _scope_chats(kind: ScopeKind, group_pk: int | None) -> Subquery | None:
    """(chat_id, key): the chats a scope's outbox is counted from (its groups, its members')."""
    members = scope_map(kind, group_pk)
    private = (
        select(Member.private_chat_id.label("chat_id"), members.c.key)
        .join(members, members.c.member_pk == Member.id)
        .where(Member.private_chat_id.is_not(None))
    )
    if kind == "total":
        if group_pk is None:
            return None
        own: Select[Any] = select(Group.chat_id, ALL.label("key")).where(Group.id == group_pk)
    elif kind == "group":
        own = select(Group.chat_id, Group.id.label("key")).where(Group.kind != "private")
        if group_pk is not None:
            own = own.where(Group.id == group_pk)
    else:
        own = select(Group.chat_id, Group.enterprise.label("key")).where(
            Group.enterprise.is_not(None), Group.kind != "private"
        )
    return union(own, private).subquery("chats")


async def outbox_figures(
    session: AsyncSession,
    w: Window,
    kind: ScopeKind,
    group_pk: int | None,
    into: dict[Any, Figures],
) -> None:
    """Messages the bot sent (each chunk counts, as the quota does) per scope."""
    chats = _scope_chats(kind, group_pk)
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


async def groups(session: AsyncSession, group_pk: int | None = None) -> list[GroupInfo]:
    """The chats digests report on: every group but members' private chats."""
    stmt = select(Group).where(Group.kind != "private").order_by(Group.name, Group.id)
    if group_pk is not None:
        stmt = stmt.where(Group.id == group_pk)
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
    """Roster members with most interactions (messages + check-ins + reports + acks)."""
    parts: list[Select[Any]] = [
        select(Message.member_pk.label("member_pk"), func.count().label("n"))
        .where(_in(Message.sent_at, w))
        .group_by(Message.member_pk),
        select(CheckIn.member_pk, func.count())
        .where(_in(CheckIn.at, w))
        .group_by(CheckIn.member_pk),
        select(Report.member_pk, func.count())
        .where(_in(Report.created_at, w))
        .group_by(Report.member_pk),
        select(Ack.member_pk, func.count()).where(_in(Ack.at, w)).group_by(Ack.member_pk),
    ]
    counts = union_all(*parts).subquery("interactions")
    score = func.sum(counts.c.n).label("score")
    stmt = (
        select(Member.id, Member.member_id, Member.name, Member.enterprise, score)
        .join(counts, counts.c.member_pk == Member.id)
        .where(Member.status == "member", Member.active.is_(True), *_restrict(Member.id, group_pk))
        .group_by(Member.id, Member.member_id, Member.name, Member.enterprise)
        .order_by(score.desc(), Member.name, Member.id)
        .limit(limit)
    )
    return [
        MemberLine(pk, mid, name, ent, int(n))
        for pk, mid, name, ent, n in await session.execute(stmt)
        if n
    ]


async def inactive_members(
    session: AsyncSession, w: Window, group_pk: int | None = None
) -> list[MemberLine]:
    """Expected members with no message in the week, by enterprise then name."""
    active = (
        select(Message.member_pk)
        .where(_in(Message.sent_at, w), Message.member_pk == Member.id)
        .exists()
    )
    stmt = (
        select(Member)
        .where(expected_member(w.end), ~active, *_restrict(Member.id, group_pk))
        .order_by(func.coalesce(Member.enterprise, ""), Member.name, Member.id)
    )
    return [
        MemberLine(m.id, m.member_id, m.name, m.enterprise, 0, m.last_active_at, m.private_chat_id)
        for m in (await session.execute(stmt)).scalars()
    ]


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
    triples = expected_acks(w, group_pk)
    pairs = (
        select(triples.c.directive_pk, triples.c.member_pk)
        .distinct()
        .where(triples.c.directive_pk.in_([d.id for d in directives]))
        .subquery("pairs")
    )
    rows = await session.execute(
        select(pairs.c.directive_pk, Member.name, Member.member_id, Ack.id)
        .select_from(pairs)
        .join(Member, Member.id == pairs.c.member_pk)
        .outerjoin(
            Ack,
            and_(
                Ack.directive_pk == pairs.c.directive_pk,
                Ack.member_pk == pairs.c.member_pk,
                Ack.at < w.as_of,
            ),
        )
        .order_by(Member.name, Member.id)
    )
    acked: dict[int, list[str]] = {}
    missing: dict[int, list[str]] = {}
    for did, name, member_id, ack_id in rows:
        (missing if ack_id is None else acked).setdefault(did, []).append(name or member_id or "?")
    out = [
        DirectiveStatus(
            d.id,
            d.text,
            d.created_at,
            d.deadline_at,
            d.status,
            acked.get(d.id, []),
            missing.get(d.id, []),
        )
        for d in reversed(directives)
    ]
    return [d for d in out if d.missing] if pending_only else out


async def open_incidents(
    session: AsyncSession,
    w: Window,
    group_pk: int | None = None,
) -> dict[str, int]:
    """Incidents not finished at `as_of`, by category."""
    still_open = or_(
        and_(Incident.resolved_at.is_(None), Incident.status.not_in(CLOSED_INCIDENT_STATUSES)),
        Incident.resolved_at >= w.as_of,
    )
    stmt = select(Incident.category, func.count(Incident.id)).where(
        Incident.first_reported_at < w.as_of, still_open
    )
    if group_pk is not None:
        stmt = stmt.where(
            Incident.id.in_(
                select(Report.incident_pk).where(*_restrict(Report.member_pk, group_pk))
            )
        )
    stmt = stmt.group_by(Incident.category).order_by(Incident.category)
    return {cat: int(n) for cat, n in await session.execute(stmt)}


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
        .where(Member.active.is_(True))
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


async def enterprise_last_seen(session: AsyncSession) -> dict[str, datetime | None]:
    stmt = (
        select(Member.enterprise, func.max(Member.last_active_at))
        .where(Member.enterprise.is_not(None), Member.active.is_(True))
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
