"""Jobs that keep people engaged: nudges, acknowledgement reminders, task deadlines."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.calendar import holidays_between, iso_week, local, next_polite_time, polite_time
from handlers.clock import Clock
from handlers.codes import directive_code, task_code
from handlers.config import NudgeLevel, Settings
from handlers.councils import scope
from handlers.jobs import every, job
from handlers.leave import away_at, leaves_end, on_leave_for
from handlers.texts import engagement as texts
from handlers.texts import people as people_texts
from models.digest import expected_member
from models.engagement import ackers, directive_targets, expected_ackers
from models.leave import Leave
from models.outbox import enqueue, enqueue_many, insert_for, sent_this_month
from models.people import (
    address,
    address_full,
    capitalized,
    coordinators,
    home_group,
    reaching,
    title_of,
)
from models.scoping import members_here, record_council
from models.tables import Directive, Group, Member, Membership, Message, Nudge, Outbox, Task

Sessions = async_sessionmaker[AsyncSession]


def _fmt(settings: Settings, at: datetime) -> str:
    return at.astimezone(settings.tz).strftime("%H:%M %d/%m")


def budget_low(settings: Settings, used: int) -> bool:
    budget = settings.engagement.monthly_message_budget
    return budget > 0 and budget - used <= budget * settings.engagement.low_budget_fraction


async def _month_used(session: AsyncSession, now: datetime) -> int:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return await sent_this_month(session, start)


# ---------------------------------------------------------------- nudges


def level_for(levels: tuple[NudgeLevel, ...], days: float) -> tuple[int, NudgeLevel] | None:
    """The highest ladder level the inactivity has reached (levels are numbered from 1)."""
    reached = None
    for i, lvl in enumerate(sorted(levels, key=lambda x: x.after_days), start=1):
        if days >= lvl.after_days:
            reached = (i, lvl)
    return reached


async def _quiet_members(
    session: AsyncSession, settings: Settings, now: datetime
) -> list[tuple[Member, float, datetime, list[Group]]]:
    """Roster members with no interaction for their groups' threshold; coordinators and
    admins are never chased for their own silence (the digest's rule, expected_member)."""
    eng = settings.engagement
    shortest = min([eng.inactive_after_days, *eng.inactive_after_days_by_kind.values()])
    since = func.coalesce(Member.last_active_at, Member.expected_since)
    stmt = (
        select(Member)
        .where(
            expected_member(now),
            since <= now - timedelta(days=shortest),
            *members_here(session),
        )
        .order_by(Member.id)
    )
    members = list((await session.execute(stmt)).scalars())
    if not members:
        return []
    groups: dict[int, list[Group]] = defaultdict(list)
    rows = await session.execute(
        select(Membership.member_pk, Group)
        .join(Group, Group.id == Membership.group_pk)
        .where(Group.kind != "private", Membership.member_pk.in_([m.id for m in members]))
        .order_by(Group.id)
    )
    for member_pk, group in rows:
        groups[member_pk].append(group)
    back = await leaves_end(session, settings, [m.id for m in members], started_by=now)
    seen_of = {
        m.id: max(
            m.last_active_at or m.expected_since,
            back[m.id].end if m.id in back else m.expected_since,
        )
        for m in members
    }
    today = local(settings, now).date()
    off = holidays_between(settings, local(settings, min(seen_of.values())).date(), today)
    out = []
    for m in members:
        seen = seen_of[m.id]
        kinds = [g.kind for g in groups[m.id]] or ["council"]
        threshold = min(
            eng.inactive_after_days_by_kind.get(k, eng.inactive_after_days) for k in kinds
        )
        # Days of silence, the public holidays since it began left out.
        holidays = len(off) - bisect_right(off, local(settings, seen).date())
        days = (now - seen).total_seconds() / 86400 - holidays
        if days >= threshold:
            out.append((m, days, seen, groups[m.id]))
    return out


async def _top_members(
    session: AsyncSession, chat_id: str, now: datetime, exclude: set[int], week: str
) -> list[str]:
    """The group's most active members over the last week: praise comes before pressure.
    Members only (not coordinators), their own messages (not commands), none nudged this week."""
    stmt = (
        select(Member, func.count(Message.id).label("n"))
        .join(Message, Message.member_pk == Member.id)
        .join(Membership, Membership.member_pk == Member.id)
        .join(Group, Group.id == Membership.group_pk)
        .where(
            Group.chat_id == chat_id,
            Message.sent_at >= now - timedelta(days=7),
            Member.status == "member",
            Member.role == "member",
            or_(Message.type.is_(None), Message.type != "command"),
            ~select(Nudge.id).where(Nudge.member_pk == Member.id, Nudge.week == week).exists(),
        )
        .group_by(Member.id)
        .order_by(func.count(Message.id).desc(), Member.name)
        .limit(6)
    )
    top = [m for m, _n in (await session.execute(stmt)).all() if m.id not in exclude][:3]
    return people_texts.labels(top)


@job("nudges", every(30), "nhắc thành viên lâu không hoạt động (tránh giờ nghỉ, ngày lễ)")
async def nudges(sessions: Sessions, settings: Settings, clock: Clock) -> int:
    """Level-triggered: each member gets each ladder level once per quiet spell."""
    now = clock.now()
    if not polite_time(settings, now):
        return 0  # deferred, not dropped: the next run after quiet hours plans it
    week = iso_week(settings, now)
    async with sessions() as session, session.begin():
        low = budget_low(settings, await _month_used(session, now))
        quiet = await _quiet_members(session, settings, now)
        history = await _nudge_history(
            session,
            [m.id for m, *_ in quiet],
            week,
            min((seen for _m, _d, seen, _g in quiet), default=now),
        )
        plans: list[tuple[Member, float, int, str, str | None]] = []
        for member, days, seen, groups in quiet:
            reached = level_for(settings.engagement.nudge_levels, days)
            if reached is None:
                continue
            level, spec = reached
            past = history.get(member.id, [])
            if any(lvl >= level and at >= seen for lvl, at, _w in past):
                continue  # this level (or a higher one) already went out in this quiet spell
            if (
                sum(w == week for _l, _a, w in past)
                >= settings.engagement.max_nudges_per_member_per_week
            ):
                continue
            channel, chat = _channel(spec, member, groups, low)
            if chat is None and channel != "coordinator":
                continue
            plans.append((member, days, level, channel, chat))
        planned = await _plan_nudges(session, plans, week, now)
        queued, links = await _send_private_nudges(session, now, week, planned)
        batches: dict[tuple[str, str, int], list[_Planned]] = defaultdict(list)
        for p in planned:
            if p.channel != "private":
                batches[(p.channel, p.chat, p.level)].append(p)
        for (channel, chat, level), items in batches.items():
            count, out_id = await _send_nudges(
                session, settings, now, week, channel, chat, level, items
            )
            queued += count
            links += [{"id": p.id, "outbox_pk": out_id} for p in items if out_id is not None]
        if links:
            await session.execute(update(Nudge), links)
    return queued


@dataclass(frozen=True)
class _Planned:
    id: int
    member: Member
    days: float
    level: int
    channel: str
    chat: str


async def _nudge_history(
    session: AsyncSession, member_ids: list[int], week: str, since: datetime
) -> dict[int, list[tuple[int, datetime, str]]]:
    """Recent nudges of these members: (level, planned at, week), read in a few queries."""
    history: dict[int, list[tuple[int, datetime, str]]] = defaultdict(list)
    for i in range(0, len(member_ids), 900):
        rows = await session.execute(
            select(Nudge.member_pk, Nudge.level, Nudge.planned_at, Nudge.week).where(
                Nudge.member_pk.in_(member_ids[i : i + 900]),
                or_(Nudge.planned_at >= since, Nudge.week == week),
            )
        )
        for member_pk, level, at, w in rows:
            history[member_pk].append((level, at, w))
    return history


async def _plan_nudges(
    session: AsyncSession,
    plans: list[tuple[Member, float, int, str, str | None]],
    week: str,
    now: datetime,
) -> list[_Planned]:
    """Insert the nudge rows; a row another run inserted first is skipped (unique key)."""
    by_member = {m.id: (m, d, lvl, ch, chat) for m, d, lvl, ch, chat in plans}
    insert = insert_for(session)
    council = record_council(session)  # a Core insert: not stamped by the session
    planned: list[_Planned] = []
    for i in range(0, len(plans), 500):
        values = [
            {
                "member_pk": m.id,
                "week": week,
                "level": lvl,
                "channel": ch,
                "chat_id": chat or "",
                "planned_at": now,
                "council_id": council,
            }
            for m, _d, lvl, ch, chat in plans[i : i + 500]
        ]
        rows = await session.execute(
            insert(Nudge)
            .values(values)
            .on_conflict_do_nothing(index_elements=["member_pk", "week", "level"])
            .returning(Nudge.id, Nudge.member_pk)
        )
        for nudge_id, member_pk in rows:
            m, d, lvl, ch, chat = by_member[member_pk]
            planned.append(_Planned(nudge_id, m, d, lvl, ch, chat or ""))
    return sorted(planned, key=lambda p: p.id)


async def _send_private_nudges(
    session: AsyncSession, now: datetime, week: str, planned: list[_Planned]
) -> tuple[int, list[dict[str, int]]]:
    private = [p for p in planned if p.channel == "private"]
    rows: list[dict[str, Any]] = [
        {
            "chat_id": p.chat,
            "kind": "nudge",
            "member_pk": p.member.id,
            "ref_type": "nudge",
            "ref_id": p.id,
            "key": f"nudge:{p.member.id}:{week}:{p.level}",
            "text": texts.NUDGE_PRIVATE.get(p.level, texts.NUDGE_PRIVATE[2]).format(
                name=address(p.member),
                days=int(p.days),
                you=title_of(p.member),
                You=capitalized(title_of(p.member)),
            ),
        }
        for p in private
    ]
    ids = await enqueue_many(session, rows, now)
    links = [
        {"id": p.id, "outbox_pk": ids[r["key"]]}
        for p, r in zip(private, rows, strict=True)
        if r["key"] in ids
    ]
    return len(ids), links


def _channel(
    spec: NudgeLevel, member: Member, groups: list[Group], low_budget: bool
) -> tuple[str, str | None]:
    if spec.channel == "coordinator":
        return "coordinator", None
    home = home_group(groups, member.enterprise)
    group_chat = home.chat_id if home is not None else None
    if spec.channel == "group" or (
        spec.channel == "private_or_group"
        and (not member.private_chat_id or (low_budget and group_chat))
    ):
        # Low budget: one batched group message costs one send for many members.
        return "group", group_chat
    return "private", member.private_chat_id


async def _send_nudges(
    session: AsyncSession,
    settings: Settings,
    now: datetime,
    week: str,
    channel: str,
    chat: str,
    level: int,
    items: list[_Planned],
) -> tuple[int, int | None]:
    """One batched message for a group, or the list for the coordinators and leads.

    Returns (messages queued, the outbox row the nudges point to)."""
    first = min(p.id for p in items)
    if channel == "group":
        nudged = {p.member.id for p in items}
        top = await _top_members(session, chat, now, nudged, week)
        praise = texts.NUDGE_GROUP_PRAISE.format(names=", ".join(top)) if top else ""
        names = people_texts.names(p.member for p in items)
        everyone = people_texts.register_of(await _group_kind(session, chat)).everyone
        text = texts.NUDGE_GROUP.get(level, texts.NUDGE_GROUP[2]).format(
            praise=praise,
            names=names,
            bot=settings.platform.bot_name,
            everyone=everyone,
            Everyone=capitalized(everyone),
        )
        out = await enqueue(
            session,
            chat_id=chat,
            text=text,
            kind="nudge",
            now=now,
            key=f"nudge-group:{chat}:{week}:{level}:{first}",
            ref_type="nudge",
            ref_id=first,
        )
        return int(out is not None), out
    # Level 3: the coordinators (and each member's enterprise lead) are told.
    unique = list({p.member.id: p.member for p in items}.values())
    labels = people_texts.labels(unique, enterprise_shown=True)
    label_of = {m.id: label for m, label in zip(unique, labels, strict=True)}
    lines_all = [
        texts.NUDGE_COORDINATOR_LINE.format(
            name=label_of[p.member.id], enterprise=p.member.enterprise or "-", days=int(p.days)
        )
        for p in items
    ]
    members, chats = await coordinators(session, settings.coordinators, scope(settings))
    targets = [m.private_chat_id for m in members if m.private_chat_id] + chats
    count = 0
    out_id = None
    for target in dict.fromkeys(targets):
        out_id = await enqueue(
            session,
            chat_id=target,
            kind="nudge",
            now=now,
            text=texts.NUDGE_COORDINATOR.format(lines="\n".join(lines_all)),
            key=f"nudge-coord:{target}:{week}:{first}",
            ref_type="nudge",
            ref_id=first,
        )
        count += out_id is not None
    by_enterprise: dict[str, list[str]] = defaultdict(list)
    for p in items:
        if p.member.enterprise:
            by_enterprise[p.member.enterprise].append(
                texts.NUDGE_COORDINATOR_LINE.format(
                    name=label_of[p.member.id], enterprise=p.member.enterprise, days=int(p.days)
                )
            )
    for enterprise, lines in by_enterprise.items():
        leads = (
            await session.execute(
                select(Member).where(
                    Member.enterprise == enterprise,
                    Member.is_lead.is_(True),
                    Member.private_chat_id.is_not(None),
                    *members_here(session),
                )
            )
        ).scalars()
        for lead in leads:
            if lead.private_chat_id in targets:
                continue
            count += (
                await enqueue(
                    session,
                    chat_id=lead.private_chat_id or "",
                    kind="nudge",
                    now=now,
                    text=texts.NUDGE_COORDINATOR.format(lines="\n".join(lines)),
                    key=f"nudge-lead:{lead.id}:{week}:{first}",
                    ref_type="nudge",
                    ref_id=first,
                )
            ) is not None
    return count, out_id


# ---------------------------------------------------------------- directives


@job("ack_reminders", every(15), "nhắc xác nhận thông báo; báo kết quả khi hết hạn")
async def ack_reminders(sessions: Sessions, settings: Settings, clock: Clock) -> int:
    now = clock.now()
    eng = settings.engagement
    queued = 0
    async with sessions() as session, session.begin():
        open_ones = list(
            (
                await session.execute(
                    select(Directive).where(Directive.status == "open").order_by(Directive.id)
                )
            ).scalars()
        )
        for d in open_ones:
            expected = await expected_ackers(session, d.id)
            done = await ackers(session, d.id)
            missing = [m for m in expected if m.id not in done]
            ids = [m.id for m in missing]
            away = await away_at(session, settings, now, ids, said_before=d.created_at)
            if now >= d.deadline_at:
                d.status = "closed"
                # A reminder still waiting (quiet hours) would arrive after the deadline.
                await session.execute(
                    update(Outbox)
                    .where(
                        Outbox.ref_type == "directive",
                        Outbox.ref_id == d.id,
                        Outbox.kind == "reminder",
                        Outbox.status == "pending",
                    )
                    .values(status="cancelled", last_error="directive closed before sending")
                )
                on_leave = await on_leave_for(session, settings, d, missing)
                queued += await _report_closed(
                    session, settings, now, d, expected, done, missing, on_leave
                )
                continue
            # Whoever is away on leave is not chased while it lasts (docs/acks-and-budget.md).
            chased = [m for m in missing if m.id not in away]
            if (
                now >= d.created_at + timedelta(hours=eng.directive_reminder_hours)
                and chased
                and next_polite_time(settings, now) < d.deadline_at
            ):
                queued += await _remind_missing(session, settings, now, d, chased)
    return queued


async def _remind_missing(
    session: AsyncSession, settings: Settings, now: datetime, d: Directive, missing: list[Member]
) -> int:
    when = next_polite_time(settings, now)
    count = 0
    without_private = []
    for m in missing:
        if m.private_chat_id:
            count += (
                await enqueue(
                    session,
                    chat_id=m.private_chat_id,
                    kind="reminder",
                    now=now,
                    not_before=when,
                    member_pk=m.id,
                    key=f"ackrem:{d.id}:{m.id}",
                    ref_type="directive",
                    ref_id=d.id,
                    text=texts.ACK_REMINDER_PRIVATE.format(
                        name=address(m),
                        you=title_of(m),
                        code=directive_code(d.id),
                        text=texts.quoted(d.text),
                        id=d.id,
                        deadline=_fmt(settings, d.deadline_at),
                    ),
                )
            ) is not None
        else:
            without_private.append(m)
    # A group chase names people: written only when it can go out, so that whoever
    # acknowledges while it would wait (night, Sunday) is not named; a later run writes it.
    if without_private and polite_time(settings, now):
        by_chat: dict[str, list[Member]] = defaultdict(list)
        targets = await directive_targets(session, d.id)
        for m in without_private:
            chat = await _member_chat_among(session, m, targets)
            if chat:
                by_chat[chat].append(m)
        for chat, people in by_chat.items():
            register = people_texts.register_of(await _group_kind(session, chat))
            count += (
                await enqueue(
                    session,
                    chat_id=chat,
                    kind="reminder",
                    now=now,
                    not_before=when,
                    key=f"ackrem-group:{d.id}:{chat}",
                    ref_type="directive",
                    ref_id=d.id,
                    text=texts.ACK_REMINDER_GROUP.format(
                        code=directive_code(d.id),
                        missing=len(people),
                        people=register.people,
                        names=people_texts.names(people, among=missing),
                        id=d.id,
                        deadline=_fmt(settings, d.deadline_at),
                    ),
                )
            ) is not None
    return count


async def _group_kind(session: AsyncSession, chat_id: str) -> str | None:
    return (
        await session.execute(select(Group.kind).where(Group.chat_id == chat_id))
    ).scalar_one_or_none()


async def _member_chat_among(session: AsyncSession, member: Member, chats: list[str]) -> str | None:
    rows = await session.execute(
        select(Group.chat_id)
        .join(Membership, Membership.group_pk == Group.id)
        .where(Membership.member_pk == member.id, Group.chat_id.in_(chats))
        .order_by(Group.id)
    )
    return rows.scalars().first()


async def _report_closed(
    session: AsyncSession,
    settings: Settings,
    now: datetime,
    d: Directive,
    expected: list[Member],
    done: set[int],
    missing: list[Member],
    away: dict[int, Leave],
) -> int:
    """The tally to the directive's author at its deadline: those on leave for the whole
    window (`away`) are neither counted nor behind, but listed apart, per enterprise too."""
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for m in expected:
        key = m.enterprise or "Khác"
        per[key][0] += m.id in done
        per[key][1 if m.id not in away else 2] += 1
    by_enterprise = "".join(
        f"• {e}: {a}/{n}{texts.tally_note(a, n, off, rate=False)}\n"
        for e, (a, n, off) in sorted(per.items())
    )
    acked = len(expected) - len(missing)
    behind = [m for m in missing if m.id not in away]
    lines = [texts.MISSING_LINE.format(names=people_texts.names(behind, among=expected))]
    if not behind:
        lines = [] if missing else [texts.ALL_ACKED]
    lines += on_leave_line(settings, [m for m in missing if m.id in away], away, expected)
    missing_line = "\n".join(lines)
    issuer = await session.get(Member, d.issued_by) if d.issued_by else None
    target = issuer.private_chat_id if issuer and issuer.private_chat_id else d.origin_chat_id
    return int(
        (
            await enqueue(
                session,
                chat_id=target,
                kind="reply",
                now=now,
                not_before=next_polite_time(settings, now),  # the tally can wait for Monday
                key=f"directive-closed:{d.id}",
                ref_type="directive",
                ref_id=d.id,
                text=texts.DIRECTIVE_CLOSED.format(
                    code=directive_code(d.id),
                    acked=acked,
                    expected=len(expected) - len(away),
                    note=texts.tally_note(acked, len(expected) - len(away), len(away)),
                    by_enterprise=by_enterprise,
                    missing_line=missing_line,
                ),
            )
        )
        is not None
    )


def on_leave_line(
    settings: Settings, members: list[Member], away: dict[int, Leave], among: list[Member]
) -> list[str]:
    """ "🏖 Nghỉ phép: anh Em · đến 10/12, chị Dung · vắng 30/11." under a directive's tally
    (none when nobody is)."""
    if not members:
        return []
    labels = people_texts.labels(members, among=among)
    people = ", ".join(
        f"{label} · {texts.away_label(away[m.id], settings.tz)}"
        for label, m in zip(labels, members, strict=True)
    )
    return [texts.ON_LEAVE_LINE.format(people=people)]


# ---------------------------------------------------------------- tasks


@job("task_reminders", every(15), "nhắc người được giao việc sắp đến hạn hoặc quá hạn")
async def task_reminders(sessions: Sessions, settings: Settings, clock: Clock) -> int:
    now = clock.now()
    before = timedelta(hours=settings.engagement.task_reminder_hours_before)
    queued = 0
    async with sessions() as session, session.begin():
        rows = (
            await session.execute(
                select(Task, Member)
                .join(Member, Member.id == Task.assignee_pk)
                .where(Task.status == "open", Task.due_at.is_not(None))
            )
        ).all()
        late = [task.id for task, _m in rows if task.due_at and now >= task.due_at]
        # On leave now: a leave from Wednesday leaves Monday's and Tuesday's reminders as usual.
        away = await away_at(session, settings, now, sorted({m.id for _t, m in rows}))
        told = await _overdue_told(session, late)
        for task, member in rows:
            assert task.due_at is not None
            if now >= task.due_at:
                queued += await _chase_overdue(
                    session, settings, now, task, member, away.get(member.id), told
                )
            elif now >= reminder_due(task, before) and member.id not in away:
                note = texts.TASK_REMINDER.format(
                    code=task_code(task.id),
                    text=task.text,
                    due=_fmt(settings, task.due_at),
                    Name=capitalized(address(member)),
                )
                chat = (await reaching(session, member, task.chat_id))[0]
                if chat is None:
                    continue  # nowhere to remind him: the giver was told so when it was given
                queued += await _task_note(
                    session, settings, now, task, chat, note, f"task-remind:{task.id}", member.id
                )
    return queued


def reminder_due(task: Task, before: timedelta) -> datetime:
    """When a task's reminder falls due: `before` its deadline, or halfway to it for a task
    given with less time than that (given at 09:00 for 17:00: at 13:00), never minutes after
    the member was given it and said "nhận việc"."""
    assert task.due_at is not None
    return task.due_at - min(before, (task.due_at - task.created_at) / 2)


def _overdue_keys(task_id: int) -> tuple[str, str, str, str]:
    """The outbox keys of an overdue task's notices: the member's first and second, the
    assigner's, and the assigner's while the member is on leave."""
    return (
        f"task-overdue:{task_id}:member",
        f"task-overdue-again:{task_id}:member",
        f"task-overdue:{task_id}:assigner",
        f"task-overdue-leave:{task_id}:assigner",
    )


async def _overdue_told(session: AsyncSession, task_ids: list[int]) -> dict[str, datetime | None]:
    """The overdue notices already queued, by key: when each reached its reader (or was
    given up), None while it still waits for a polite hour."""
    keys = [key for task_id in task_ids for key in _overdue_keys(task_id)]
    told: dict[str, datetime | None] = {}
    for i in range(0, len(keys), 900):
        rows = await session.execute(
            select(
                Outbox.idempotency_key, Outbox.status, Outbox.sent_at, Outbox.next_attempt_at
            ).where(Outbox.idempotency_key.in_(keys[i : i + 900]))
        )
        for key, status, sent_at, tried_at in rows:
            told[key] = None if status in ("pending", "sending") else sent_at or tried_at
    return told


def _an_earlier_day(settings: Settings, at: datetime | None, now: datetime) -> bool:
    """Did a notice reach its reader on a day before today (local)?"""
    return at is not None and local(settings, at).date() < local(settings, now).date()


async def _chase_overdue(
    session: AsyncSession,
    settings: Settings,
    now: datetime,
    task: Task,
    member: Member,
    on_leave: Leave | None,
    told: dict[str, datetime | None],
) -> int:
    """An overdue task: the member is told at once and once more on the next working day;
    the working day after that the assigner is told by name. A member on leave is not
    chased: the assigner is told at once (docs/people.md)."""
    first, again, assigner_key, leave_key = _overdue_keys(task.id)
    assert task.due_at is not None
    due = _fmt(settings, task.due_at)
    # His private chat, else a group he is in: never the giver's private chat.
    chat = (await reaching(session, member, task.chat_id))[0]
    named = capitalized(address(member))
    if on_leave is not None:
        if leave_key in told or not polite_time(settings, now):
            return 0
        return await _tell_assigner(session, settings, now, task, member, on_leave)
    if chat is None:
        # Nothing reaches him: the giver hears at once, once (he knew it when he gave it).
        if assigner_key in told or not polite_time(settings, now):
            return 0
        return await _tell_assigner(session, settings, now, task, member, None, unreached=True)
    if first not in told:
        note = texts.TASK_OVERDUE_MEMBER.format(
            code=task_code(task.id), due=due, text=task.text, Name=named
        )
        return await _task_note(session, settings, now, task, chat, note, first, member.id)
    if not polite_time(settings, now):
        return 0  # the next working day's morning, not a holiday, a Sunday or the night
    if again not in told:
        if not _an_earlier_day(settings, told[first], now):
            return 0
        assigner = await _assigner(session, task, member)
        then = ""
        if assigner is not None and assigner_key not in told:  # only what the bot will do
            then = texts.TASK_OVERDUE_THEN.format(assigner=address(assigner))
        note = texts.TASK_OVERDUE_AGAIN.format(
            code=task_code(task.id), due=due, text=task.text, Name=named, then=then
        )
        return await _task_note(session, settings, now, task, chat, note, again, member.id)
    if assigner_key in told or not _an_earlier_day(settings, told[again], now):
        return 0
    return await _tell_assigner(session, settings, now, task, member, None)


async def _assigner(session: AsyncSession, task: Task, member: Member) -> Member | None:
    """Who gave the task, if the bot can tell them privately (never the assignee)."""
    if task.assigned_by is None or task.assigned_by == member.id:
        return None
    assigner = await session.get(Member, task.assigned_by)
    return assigner if assigner is not None and assigner.private_chat_id else None


async def _tell_assigner(
    session: AsyncSession,
    settings: Settings,
    now: datetime,
    task: Task,
    member: Member,
    on_leave: Leave | None,
    *,
    unreached: bool = False,
) -> int:
    """The assigner hears, privately and by name, that the task is still not done. Never in a
    group: naming someone behind in public is not the council's way."""
    assigner = await _assigner(session, task, member)
    if assigner is None or assigner.private_chat_id is None:
        return 0  # the coordinators' daily summary lists it anyway
    assert task.due_at is not None
    words = {
        "code": task_code(task.id),
        "who": address_full(member),
        "due": _fmt(settings, task.due_at),
        "text": task.text,
        "you": title_of(assigner),
    }
    if unreached:
        note = texts.TASK_OVERDUE_ASSIGNER_UNREACHED.format(name=address(member), **words)
        key = _overdue_keys(task.id)[2]
    elif on_leave is None:
        note = texts.TASK_OVERDUE_ASSIGNER.format(name=address(member), **words)
        key = _overdue_keys(task.id)[2]
    else:
        note = texts.TASK_OVERDUE_ASSIGNER_LEAVE.format(
            Name=capitalized(address(member)), away=texts.away_now(on_leave, settings.tz), **words
        )
        key = _overdue_keys(task.id)[3]
    return await _task_note(
        session, settings, now, task, assigner.private_chat_id, note, key, assigner.id
    )


async def _task_note(
    session: AsyncSession,
    settings: Settings,
    now: datetime,
    task: Task,
    chat: str,
    text: str,
    key: str,
    member_pk: int | None = None,
) -> int:
    """One reminder about a task, held until quiet hours end; 1 if newly queued."""
    out = await enqueue(
        session,
        chat_id=chat,
        kind="task",
        now=now,
        member_pk=member_pk,
        key=key,
        ref_type="task",
        ref_id=task.id,
        text=text,
        not_before=next_polite_time(settings, now),
    )
    return int(out is not None)
