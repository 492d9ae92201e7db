"""What happened to each incident, task and directive, for the dashboard's story pages.

Built only from what the database holds: incidents with their reports, timeline events and
photos, the outbox rows sent about them (alerts, escalations, reminders), tasks, directives
with their acknowledgements. Columns other branches add (a task's `accepted_at` and `note`)
are read when the table has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import dashboard as dq
from models.engagement import owed_acks_stmt
from models.leave import Leave, Owed, on_leave_throughout
from models.people import fold_name
from models.tables import (
    Ack,
    Directive,
    DirectiveTarget,
    Group,
    Incident,
    IncidentEvent,
    Member,
    Outbox,
    Report,
    Task,
)

# Outbox kinds that tell someone about an incident (follow-ups to reporters are replies).
INCIDENT_NOTICES = ("alert", "reminder")


@dataclass(frozen=True)
class ReportLine:
    id: int
    at: datetime
    reporter: str | None
    enterprise: str | None
    status: str
    text: str
    places: list[Any]
    photos: tuple[int, ...] = ()


@dataclass(frozen=True)
class IncidentLine:
    """One row of the incidents list."""

    id: int
    category: str
    severity: str
    status: str
    urgent: bool
    reported_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    handler: str | None
    reports: list[ReportLine]

    @property
    def to_acknowledge(self) -> timedelta | None:
        return self.acknowledged_at - self.reported_at if self.acknowledged_at else None

    @property
    def to_resolve(self) -> timedelta | None:
        return self.resolved_at - self.reported_at if self.resolved_at else None


@dataclass(frozen=True)
class Step:
    """One line of an incident's timeline."""

    at: datetime
    kind: str  # an IncidentEvent kind, or "notice" for a message the bot sent about it
    who: str | None = None
    note: str = ""
    recipients: list[tuple[str, str]] = field(default_factory=list)  # (who, outbox status)
    report: ReportLine | None = None


def _name(name: str | None, member_id: str | None) -> str | None:
    return name or member_id or None


async def incidents(
    session: AsyncSession, *, status: str = "", limit: int = 200
) -> list[IncidentLine]:
    """Newest incidents first, each with its reports (oldest first) and handler."""
    handler = aliased(Member)
    stmt = select(Incident, handler.name, handler.member_id).outerjoin(
        handler, handler.id == Incident.handler_pk
    )
    if status:
        stmt = stmt.where(Incident.status == status)
    stmt = stmt.order_by(Incident.first_reported_at.desc(), Incident.id.desc()).limit(limit)
    found = list((await session.execute(stmt)).tuples())
    reports = await _reports_of(session, [i.id for i, _n, _m in found], photos=False)
    return [_line(i, _name(n, m), reports.get(i.id, [])) for i, n, m in found]


def _line(i: Incident, handler: str | None, reports: list[ReportLine]) -> IncidentLine:
    return IncidentLine(
        i.id,
        i.category,
        i.severity,
        i.status,
        i.urgent,
        i.first_reported_at,
        i.acknowledged_at,
        i.resolved_at,
        handler,
        reports,
    )


async def _reports_of(
    session: AsyncSession, incident_ids: list[int], *, photos: bool
) -> dict[int, list[ReportLine]]:
    if not incident_ids:
        return {}
    rows = await session.execute(
        select(
            Report.incident_pk,
            Report.id,
            Report.created_at,
            Member.name,
            Member.member_id,
            Member.enterprise,
            Report.status,
            Report.text,
            Report.places,
        )
        .outerjoin(Member, Member.id == Report.member_pk)
        .where(Report.incident_pk.in_(incident_ids))
        .order_by(Report.created_at, Report.id)
    )
    lines: list[tuple[int, ReportLine]] = []
    for inc, rid, at, name, member_id, ent, status, text, places in rows:
        lines.append((inc, ReportLine(rid, at, _name(name, member_id), ent, status, text, places)))
    shown = await dq.photos_of(session, [r.id for _i, r in lines]) if photos else {}
    out: dict[int, list[ReportLine]] = {}
    for inc, r in lines:
        out.setdefault(inc, []).append(replace(r, photos=shown[r.id]) if r.id in shown else r)
    return out


async def incident(session: AsyncSession, incident_id: int) -> tuple[IncidentLine, list[Step]]:
    """One incident and its timeline, oldest first; LookupError when there is no such incident."""
    handler = aliased(Member)
    row = (
        await session.execute(
            select(Incident, handler.name, handler.member_id)
            .outerjoin(handler, handler.id == Incident.handler_pk)
            .where(Incident.id == incident_id)
        )
    ).first()
    if row is None:
        raise LookupError(incident_id)
    inc, hname, hid = row
    reports = (await _reports_of(session, [inc.id], photos=True)).get(inc.id, [])
    steps: list[Step] = [Step(r.at, "report", r.reporter, report=r) for r in reports]
    events = await session.execute(
        select(IncidentEvent, Member.name, Member.member_id)
        .outerjoin(Member, Member.id == IncidentEvent.member_pk)
        .where(IncidentEvent.incident_pk == inc.id)
        .order_by(IncidentEvent.at, IncidentEvent.id)
    )
    for e, name, member_id in events.tuples():
        if e.kind in ("report", "merged"):
            continue  # each report is already a step, with its text and photos
        steps.append(Step(e.at, e.kind, _name(name, member_id), e.note))
    notices = await _notices(session, inc.id)
    sent_at = {n.at for n in notices if n.kind == "notice_alert"}
    # An alert event and the messages it queued are one step: the messages name the people.
    steps = [s for s in steps if not (s.kind == "alert" and s.at in sent_at)] + notices
    steps.sort(key=lambda s: (s.at, s.kind != "report"))
    return _line(inc, _name(hname, hid), reports), steps


async def _notices(session: AsyncSession, incident_id: int) -> list[Step]:
    """Alerts, escalations and reminders about the incident, one step per batch sent together."""
    person = aliased(Member)
    rows = await session.execute(
        select(Outbox.created_at, Outbox.kind, Outbox.status, Outbox.chat_id, person.name)
        .outerjoin(person, person.id == Outbox.member_pk)
        .where(
            Outbox.ref_type == "incident",
            Outbox.ref_id == incident_id,
            Outbox.kind.in_(INCIDENT_NOTICES),
        )
        .order_by(Outbox.created_at, Outbox.id)
    )
    found = list(rows.tuples())
    names = await _chat_names(session, {chat for _a, _k, _s, chat, _n in found})
    batches: dict[tuple[datetime, str], list[tuple[str, str]]] = {}
    for at, kind, status, chat, name in found:
        batches.setdefault((at, kind), []).append((name or names.get(chat, chat), status))
    return [Step(at, f"notice_{kind}", recipients=who) for (at, kind), who in batches.items()]


async def _chat_names(session: AsyncSession, chats: set[str]) -> dict[str, str]:
    """A chat id as people know it: a group's name, or whose private chat it is."""
    if not chats:
        return {}
    out: dict[str, str] = {}
    for chat, name in await session.execute(
        select(Member.private_chat_id, Member.name).where(Member.private_chat_id.in_(chats))
    ):
        out[chat] = name
    for chat, name in await session.execute(
        select(Group.chat_id, Group.name).where(Group.chat_id.in_(chats))
    ):
        if name:
            out[chat] = name
    return out


# --- tasks ----------------------------------------------------------------------------------

TASK_EXTRAS = tuple(c for c in ("accepted_at", "note") if hasattr(Task, c))


@dataclass(frozen=True)
class TaskLine:
    id: int
    text: str
    assignee: str | None
    enterprise: str | None
    assigned_by: str | None
    created_at: datetime
    due_at: datetime | None
    status: str
    done_at: datetime | None
    extras: dict[str, Any]  # TASK_EXTRAS present in this schema

    def late(self, now: datetime) -> bool:
        """Past its deadline: done after it, or still open after it."""
        if self.due_at is None or self.status == "cancelled":
            return False
        return (self.done_at or now) > self.due_at


async def tasks(session: AsyncSession, *, status: str = "", limit: int = 300) -> list[TaskLine]:
    """Open tasks first (nearest deadline first), then the rest, newest first."""
    assignee, boss = aliased(Member), aliased(Member)
    extras = [getattr(Task, c) for c in TASK_EXTRAS]
    stmt = (
        select(Task, assignee.name, assignee.enterprise, boss.name, *extras)
        .join(assignee, assignee.id == Task.assignee_pk)
        .outerjoin(boss, boss.id == Task.assigned_by)
    )
    if status:
        stmt = stmt.where(Task.status == status)
    stmt = stmt.order_by((Task.status != "open"), Task.created_at.desc(), Task.id.desc())
    out = []
    for row in (await session.execute(stmt.limit(limit))).tuples():
        t, name, ent, by, *more = row
        out.append(
            TaskLine(
                t.id,
                t.text,
                name,
                ent,
                by,
                t.created_at,
                t.due_at,
                t.status,
                t.done_at,
                dict(zip(TASK_EXTRAS, more, strict=True)),
            )
        )
    return out


# --- directives -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Acker:
    name: str
    enterprise: str | None
    acked_at: datetime | None
    member_pk: int = 0
    # No acknowledgement, on leave for the directive's whole window (models.leave): shown
    # apart ("nghỉ phép đến 10/12", "vắng 30/11") and not counted among those expected.
    away: Leave | None = None

    def late(self, deadline: datetime) -> bool:
        return self.acked_at is not None and self.acked_at > deadline


@dataclass(frozen=True)
class DirectiveStory:
    id: int
    text: str
    created_at: datetime
    deadline_at: datetime
    status: str
    issued_by: str | None
    targets: list[str]
    people: list[Acker]  # everyone owing an acknowledgement, by enterprise then name

    @property
    def acked(self) -> int:
        return sum(p.acked_at is not None for p in self.people)

    @property
    def on_leave(self) -> int:
        return sum(p.away is not None for p in self.people)

    @property
    def expected(self) -> int:
        """Those expected to answer: everyone owing one but the members on leave throughout."""
        return len(self.people) - self.on_leave

    def by_enterprise(self) -> list[tuple[str | None, list[Acker]]]:
        out: dict[str | None, list[Acker]] = {}
        for p in self.people:
            out.setdefault(p.enterprise, []).append(p)
        return sorted(out.items(), key=lambda kv: (kv[0] is None, fold_name(kv[0] or "")))


async def directive(
    session: AsyncSession, directive_id: int, tz: ZoneInfo | None = None
) -> DirectiveStory:
    """Who was expected to acknowledge one directive, who did (and when), who not yet; with
    `tz`, who of them is on leave for its whole window (models.leave.on_leave_throughout)."""
    d = await session.get(Directive, directive_id)
    if d is None:
        raise LookupError(directive_id)
    issuer = await session.get(Member, d.issued_by) if d.issued_by else None
    # The one rule for who owes an acknowledgement (models.engagement.owes_ack); a cancelled
    # directive still shows who had answered before it was withdrawn.
    owing = owed_acks_stmt().where(Directive.id == d.id).subquery("owing")
    pairs = select(owing.c.member_pk).distinct().subquery("pairs")
    rows = await session.execute(
        select(Member.name, Member.member_id, Member.enterprise, Ack.at, Member.id)
        .select_from(pairs)
        .join(Member, Member.id == pairs.c.member_pk)
        .outerjoin(Ack, and_(Ack.directive_pk == d.id, Ack.member_pk == pairs.c.member_pk))
        .order_by(Member.enterprise, Member.name, Member.id)
    )
    people = [Acker(_name(n, m) or "?", e, at, pk) for n, m, e, at, pk in rows]
    if tz is not None:
        silent = [p.member_pk for p in people if p.acked_at is None]
        owed = [Owed(d.id, pk, d.created_at, d.deadline_at) for pk in silent]
        away = await on_leave_throughout(session, tz, owed)
        people = [replace(p, away=away.get((d.id, p.member_pk))) for p in people]
    people.sort(key=lambda p: fold_name(p.name))  # "Đỗ" next to "Do", not after "Vũ"
    targets = [
        name or chat
        for chat, name in await session.execute(
            select(Group.chat_id, Group.name)
            .join(DirectiveTarget, DirectiveTarget.chat_id == Group.chat_id)
            .where(DirectiveTarget.directive_pk == d.id)
            .order_by(Group.name)
        )
    ]
    return DirectiveStory(
        d.id,
        d.text,
        d.created_at,
        d.deadline_at,
        d.status,
        issuer.name if issuer else None,
        targets,
        people,
    )
