"""Rows for digest and dashboard tests, inserted directly (the feature handlers are separate),
and the hand-counted scenario whose figures tests/test_digest.py checks."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import (
    Ack,
    CheckIn,
    Directive,
    DirectiveTarget,
    Group,
    Incident,
    Member,
    Membership,
    Message,
    Nudge,
    Outbox,
    Report,
    Task,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = "2026-W48"
START = datetime(2026, 11, 23, tzinfo=HCM)  # Monday 00:00 local
END = datetime(2026, 11, 30, tzinfo=HCM)
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def day(n: int, hour: int = 9) -> datetime:
    """Day n of the week (0 = Monday) at `hour` local; negative or >6 leave the week."""
    return START + timedelta(days=n, hours=hour)


@dataclass
class Factory:
    """Adds rows to one session; call `await f.flush()` before reading ids."""

    session: AsyncSession
    _n: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def flush(self) -> None:
        await self.session.flush()

    async def group(
        self, chat_id: str, name: str, kind: str = "council", enterprise: str | None = None
    ) -> Group:
        g = Group(chat_id=chat_id, name=name, kind=kind, enterprise=enterprise, created_at=LONG_AGO)
        self.session.add(g)
        await self.flush()
        return g

    async def member(
        self,
        member_id: str,
        name: str,
        *,
        enterprise: str | None = None,
        role: str = "member",
        status: str = "member",
        active: bool = True,
        since: datetime = LONG_AGO,
        groups: tuple[Group, ...] = (),
        private_chat: str | None = None,
        phone: str | None = None,
    ) -> Member:
        m = Member(
            member_id=member_id,
            name=name,
            name_folded=name.lower(),
            display_name=name,
            enterprise=enterprise,
            role=role,
            status=status,
            active=active,
            created_at=since,
            expected_since=since,
            private_chat_id=private_chat,
            phone=phone,
        )
        self.session.add(m)
        await self.flush()
        for g in groups:
            self.session.add(
                Membership(
                    member_pk=m.id, group_pk=g.id, joined_at=since, from_roster=status == "member"
                )
            )
        await self.flush()
        return m

    async def message(
        self,
        m: Member,
        at: datetime,
        chat: str = "",
        text: str = "xin chào",
        type_: str | None = None,
        category: str | None = None,
    ) -> Message:
        n = next(self._n)
        msg = Message(
            platform="zalo_bot",
            chat_id=chat or m.private_chat_id or m.member_id or "",
            chat_type="group" if chat.startswith("g") else "private",
            member_pk=m.id,
            member_id=m.member_id or "",
            message_id=f"msg{n}",
            sent_at=at,
            kind="text",
            text=text,
            type=type_,
            category=category,
            created_at=at,
        )
        self.session.add(msg)
        if m.last_active_at is None or at > m.last_active_at:
            m.last_active_at = at
        await self.flush()
        return msg

    async def checkin(self, m: Member, at: datetime, chat: str = "g1") -> CheckIn:
        c = CheckIn(member_pk=m.id, chat_id=chat, kind="attendance", at=at)
        self.session.add(c)
        await self.flush()
        return c

    async def incident(
        self,
        category: str,
        severity: str,
        at: datetime,
        status: str = "reported",
        resolved_at: datetime | None = None,
    ) -> Incident:
        i = Incident(
            category=category,
            severity=severity,
            status=status,
            first_reported_at=at,
            last_reported_at=at,
            resolved_at=resolved_at,
        )
        self.session.add(i)
        await self.flush()
        return i

    async def report(
        self,
        m: Member,
        at: datetime,
        category: str,
        severity: str = "medium",
        status: str = "confirmed",
        incident: Incident | None = None,
        text: str = "báo cáo",
        chat: str = "g1",
    ) -> Report:
        r = Report(
            member_pk=m.id,
            chat_id=chat,
            category=category,
            severity=severity,
            status=status,
            incident_pk=incident.id if incident else None,
            text=text,
            places=[],
            phones=[],
            created_at=at,
        )
        self.session.add(r)
        await self.flush()
        return r

    async def directive(
        self, by: Member, at: datetime, targets: tuple[Group, ...], text: str = "Kiểm tra PCCC"
    ) -> Directive:
        d = Directive(
            issued_by=by.id,
            origin_chat_id=targets[0].chat_id,
            text=text,
            created_at=at,
            deadline_at=at + timedelta(days=1),
        )
        self.session.add(d)
        await self.flush()
        for g in targets:
            self.session.add(DirectiveTarget(directive_pk=d.id, chat_id=g.chat_id))
        await self.flush()
        return d

    async def ack(self, d: Directive, m: Member, at: datetime) -> Ack:
        a = Ack(directive_pk=d.id, member_pk=m.id, chat_id="g1", at=at)
        self.session.add(a)
        await self.flush()
        return a

    async def task(
        self,
        m: Member,
        due: datetime | None,
        *,
        status: str = "open",
        done_at: datetime | None = None,
        created: datetime = LONG_AGO,
    ) -> Task:
        t = Task(
            assignee_pk=m.id,
            chat_id="g1",
            text="tuần tra",
            due_at=due,
            status=status,
            created_at=created,
            done_at=done_at,
        )
        self.session.add(t)
        await self.flush()
        return t

    async def outbox(
        self,
        chat: str,
        *,
        kind: str = "reply",
        sent_at: datetime | None = None,
        chunks: int = 1,
        text: str = "ok",
    ) -> Outbox:
        n = next(self._n)
        o = Outbox(
            chat_id=chat,
            kind=kind,
            priority=10,
            text=text,
            idempotency_key=f"test:{n}",
            status="sent" if sent_at else "pending",
            next_attempt_at=sent_at or LONG_AGO,
            created_at=sent_at or LONG_AGO,
            sent_at=sent_at,
            chunks_sent=chunks if sent_at else 0,
        )
        self.session.add(o)
        await self.flush()
        return o

    async def nudge(
        self,
        m: Member,
        week: str,
        *,
        sent_at: datetime | None,
        reengaged_at: datetime | None = None,
        level: int = 1,
    ) -> Nudge:
        chat = m.private_chat_id or "g1"
        o = await self.outbox(chat, kind="nudge", sent_at=sent_at)
        nd = Nudge(
            member_pk=m.id,
            week=week,
            level=level,
            channel="private",
            chat_id=chat,
            outbox_pk=o.id,
            planned_at=sent_at or LONG_AGO,
            reengaged_at=reengaged_at,
        )
        self.session.add(nd)
        await self.flush()
        return nd


async def scenario(session: AsyncSession) -> dict[str, Any]:
    """The week 2026-W48 whose figures are counted by hand in test_digest.py."""
    f = Factory(session)
    g1 = await f.group("g1", "Hội đồng ANTT", "council")
    g2 = await f.group("g2", "Tổ bảo vệ May Việt", "enterprise", enterprise="May Việt")
    a = await f.member("uA", "An", enterprise="May Việt", groups=(g1, g2), private_chat="pA")
    b = await f.member("uB", "Bình", enterprise="May Việt", groups=(g2,), private_chat="pB")
    c = await f.member("uC", "Cường", enterprise="Điện Tử Sao", groups=(g1,), private_chat="pC")
    d = await f.member(
        "uD", "Dung", enterprise="Điện Tử Sao", role="coordinator", groups=(g1,), private_chat="pD"
    )
    e = await f.member("uE", "Em", groups=(g1,), since=day(5))
    late = await f.member("uF", "Phúc", enterprise="May Việt", groups=(g1,), since=day(12))
    guest = await f.member("uG", "Khách", status="guest", groups=(g1,))
    gone = await f.member("uH", "Hải", enterprise="Điện Tử Sao", active=False, groups=(g1,))

    for at, chat in ((day(0), "g1"), (day(1), "g2"), (day(6, 23), "pA")):
        await f.message(a, at, chat)
    await f.message(a, START - timedelta(seconds=1), "g1")  # previous week
    await f.message(a, END, "g1")  # next week
    await f.message(b, day(-3), "g2")  # previous week only
    await f.message(c, day(2), "g1")
    await f.message(d, day(1), "g1")
    await f.message(d, day(3), "pD")
    await f.message(guest, day(2), "g1")
    await f.message(guest, day(4), "g1")
    await f.message(gone, day(2), "g1")
    await f.message(late, day(4), "g1")

    await f.checkin(a, day(0))
    await f.checkin(a, day(1))
    await f.checkin(c, day(2))
    await f.checkin(b, day(-2))

    i1 = await f.incident("fire", "high", day(2))
    i2 = await f.incident("theft", "medium", day(3), status="resolved", resolved_at=day(4))
    await f.incident("suspicious", "low", day(-4), status="resolved", resolved_at=day(9))
    await f.report(a, day(2), "fire", "high", incident=i1)
    await f.report(c, day(3), "theft", "medium", incident=i2)
    await f.report(a, day(4), "theft", "low", status="confirmed")

    d0 = await f.directive(d, day(-5), (g2,), text="Thông báo tuần trước")
    d1 = await f.directive(d, day(1), (g1,), text="Kiểm tra bình chữa cháy")
    d2 = await f.directive(d, day(2), (g1, g2), text="Họp giao ban thứ Sáu")
    await f.ack(d1, a, day(1, 10))
    await f.ack(d1, c, day(2, 10))
    await f.ack(d2, a, day(2, 11))
    await f.ack(d2, b, day(7, 9))  # after the week: not counted
    await f.ack(d2, guest, day(2, 12))  # not expected: not counted

    await f.task(a, day(2), status="done", done_at=day(3))
    await f.task(c, day(3))
    await f.task(b, day(9))
    await f.task(e, day(0), status="done", done_at=day(8))
    await f.task(d, None, status="done", done_at=day(4))
    await f.task(c, day(1), status="cancelled")

    await f.nudge(b, "2026-W48", sent_at=day(1))
    await f.nudge(e, "2026-W48", sent_at=None)
    await f.nudge(c, "2026-W47", sent_at=day(-3), reengaged_at=day(2))
    await f.outbox("g1", sent_at=day(2), chunks=2)
    await f.outbox("g2", kind="directive", sent_at=day(2))
    await f.outbox("g1")  # pending: not counted
    return {
        "g1": g1,
        "g2": g2,
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "e": e,
        "late": late,
        "guest": guest,
        "gone": gone,
        "d0": d0,
        "d1": d1,
        "d2": d2,
    }
