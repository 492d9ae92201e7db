"""Engagement end to end through HTTP with a fixed clock: check-ins, directives, tasks, nudges."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from models.tables import Ack, CheckIn, Directive, Member, MemberRequest, Nudge, Outbox, Task
from tests.conftest import Bot, text_event
from tests.engagement_helpers import (
    COUNCIL,
    DQ,
    HANSOL,
    MAY,
    NAMES,
    council_settings,
    import_roster,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MON = datetime(2026, 11, 30, 8, 0, tzinfo=VN)  # a Monday morning


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


@pytest.fixture
async def council(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    from handlers.clock import FixedClock

    bot = await make_bot(
        council_settings(make_settings, db_url, engagement={"holidays": ["2026-12-07"]}),
        clock=FixedClock(MON),
    )
    await import_roster(bot, MON)
    return bot


async def say(
    bot: Bot, member: str, text: str, *, chat: str | None = None, quote: str | None = None
) -> None:
    """A member writes to the bot: privately, or in a group (then @mentioning the bot)."""
    if chat is None:
        body = text_event(text, sender=member, name=NAMES[member], at=bot.clock.now())
    else:
        if quote is None:
            text = f"@Bot ANTT {text}"
        body = text_event(
            text,
            sender=member,
            name=NAMES[member],
            chat=chat,
            group=True,
            at=bot.clock.now(),
            quote=quote,
        )
    status, _ = await bot.deliver(body)
    assert status == 200
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def scalar(bot: Bot, stmt: Any) -> Any:
    async with bot.sessions() as s:
        return (await s.execute(stmt)).scalar_one()


async def test_checkins_are_stored_with_their_kind_and_answered(council: Bot) -> None:
    await say(council, "u2", "Có mặt")
    await say(council, "u3", "/diemdanh ca sáng")
    await say(council, "u4", "đã vào ca 3")
    await say(council, "u5", "Tuần tra khu B, không phát hiện gì bất thường")
    async with council.sessions() as s:
        kinds = {
            (m, k)
            for m, k in (
                await s.execute(
                    select(Member.member_id, CheckIn.kind).join(
                        CheckIn, CheckIn.member_pk == Member.id
                    )
                )
            )
        }
    assert kinds == {("u2", "attendance"), ("u3", "attendance"), ("u4", "shift"), ("u5", "patrol")}
    assert "có mặt lúc 08:00" in said(council, "u2")[0]
    assert "tuần tra" in said(council, "u5")[0]


async def test_a_presence_announced_for_tomorrow_is_no_check_in(council: Bot) -> None:
    await say(council, "u2", "mai em có mặt lúc 7h")
    await say(council, "u3", "có mặt tại hội trường lúc 8h sáng mai để họp")
    await say(council, "u4", "có mặt lúc 8h")  # 08:00 now: a check-in
    async with council.sessions() as s:
        who = (
            await s.execute(select(Member.member_id).join(CheckIn, CheckIn.member_pk == Member.id))
        ).scalars()
        assert list(who) == ["u4"]
    assert not any("Đã ghi nhận" in t for t in said(council, "u2") + said(council, "u3"))


async def test_coming_late_is_answered_as_late_not_as_away(council: Bot) -> None:
    await say(council, "u2", "Xe em bị hỏng nên đến muộn 30 phút ạ")
    await say(council, "u3", "em xin nghỉ hôm nay vì bị ốm")
    assert said(council, "u2")[-1].startswith("Đã ghi nhận anh/chị Bình báo đến muộn.")
    assert "báo vắng" in said(council, "u3")[-1]


async def test_directive_is_posted_acknowledged_and_reported(council: Bot) -> None:
    await say(council, "u1", "/thongbao Tăng cường tuần tra dịp cuối năm")
    posts = {chat: said(council, chat) for chat in (COUNCIL, MAY, HANSOL, DQ)}
    assert all(
        len(p) == 1 and "THÔNG BÁO TB1" in p[0] and "đã nhận" in p[0] for p in posts.values()
    )
    # One register per group kind: the council formally, an enterprise's group as colleagues.
    assert '👉 Đề nghị các đồng chí bấm Trả lời tin này và gõ "đã nhận"' in posts[COUNCIL][0]
    assert '👉 Anh chị em vui lòng bấm Trả lời tin này và gõ "đã nhận"' in posts[MAY][0]
    assert "Cần 9 người xác nhận" in said(council, "u1")[-1]
    # Three ways to acknowledge: privately, /danhan, and a quote-reply in the group.
    await say(council, "u2", "đã nhận")
    await say(council, "u3", "/danhan 1")
    post_id = council.store.bot_lines(HANSOL)[0].message_id
    await say(council, "u7", "Đã nắm 👍", chat=HANSOL, quote=post_id)
    # A question in reply and a refusal do not count.
    await say(council, "u6", "Đã nhận chưa các đồng chí?", chat=HANSOL, quote=post_id)
    await say(council, "u8", "Chưa nhận được thông báo")
    acked = await scalar(council, select(func.count()).select_from(Ack))
    assert acked == 3
    # Four hours later the others are reminded: privately when possible, else in their group.
    council.clock.set(MON + timedelta(hours=4, minutes=5))
    await council.runtime.run_job("ack_reminders")
    await council.drain()
    assert any("chưa xác nhận thông báo TB1" in t for t in said(council, "u8"))
    dq = said(council, DQ)
    assert "anh/chị Inh" in dq[-1] and "anh/chị Kim" in dq[-1] and "Hoa" not in dq[-1]
    # Running it again sends nothing new.
    before = len(council.store.bot_lines())
    await council.runtime.run_job("ack_reminders")
    await council.drain()
    assert len(council.store.bot_lines()) == before
    # At the deadline the coordinator gets the result, per enterprise.
    council.clock.set(MON + timedelta(hours=24, minutes=1))
    await council.runtime.run_job("ack_reminders")
    await council.drain()
    report = said(council, "u1")[-1]
    assert "3/9" in report and "May Việt: 2/3" in report and "Hansol: 1/3" in report
    assert (await scalar(council, select(Directive.status))) == "closed"


async def test_member_cannot_issue_directives_or_tasks(council: Bot) -> None:
    await say(council, "u2", "/thongbao hello")
    await say(council, "u2", "/giaoviec @Cường việc")
    assert all("dành cho điều phối viên" in t for t in said(council, "u2"))
    assert await scalar(council, select(func.count()).select_from(Directive)) == 0


async def test_task_assigned_reminded_overdue_and_done(council: Bot) -> None:
    await say(council, "u2", "có mặt")  # Bình has a private chat with the bot
    await say(council, "u1", "/giaoviec @Bình kiểm tra camera cổng 2 han 1/12 17h")
    assert "Đã giao việc CV1 cho anh/chị Trần Thị Bình" in said(council, "u1")[-1]
    assert "được giao việc CV1" in said(council, "u2")[-1]
    due = await scalar(council, select(Task.due_at))
    assert due == local(2026, 12, 1, 17)
    # Given 33 hours ahead: not reminded the same evening, but halfway (00:30 Tuesday, so
    # at 07:00 when the night is over).
    council.clock.set(local(2026, 11, 30, 18))
    await council.runtime.run_job("task_reminders")
    await council.drain()
    assert "Nhắc việc CV1" not in said(council, "u2")[-1]
    council.clock.set(local(2026, 12, 1, 7))
    await council.runtime.run_job("task_reminders")
    await council.drain()
    assert "Nhắc việc CV1" in said(council, "u2")[-1]
    council.clock.set(local(2026, 12, 1, 17, 30))
    await council.runtime.run_job("task_reminders")
    await council.runtime.run_job("task_reminders")
    await council.drain()
    assert sum("quá hạn" in t for t in said(council, "u2")) == 1
    # The assigner is told in the next daily summary, not by a message of its own.
    assert not any("quá hạn" in t for t in said(council, "u1"))
    await say(council, "u2", "/xong CV1")
    assert "CV1 đã hoàn thành" in said(council, "u2")[-1]
    assert (await scalar(council, select(Task.status))) == "done"


async def test_a_middle_name_is_nobody(council: Bot) -> None:
    await say(council, "u1", "/giaoviec @Thị trực cổng chính han mai")
    # "Thị" is only a middle name: no guess (tests/test_tasks_people.py has the numbered list).
    assert said(council, "u1")[-1].startswith('Không tìm thấy thành viên "Thị"')
    await say(council, "u1", "2")
    assert await scalar(council, select(func.count()).select_from(Task)) == 0


async def test_nudges_respect_quiet_hours_holidays_and_run_once(council: Bot) -> None:
    for m in ("u2", "u3", "u4", "u5", "u6", "u7", "u8"):
        await say(council, m, "có mặt")  # private chats with the bot; u9 and u10 stay silent
    # A week later at 23:00: quiet hours, nothing.
    council.clock.set(local(2026, 12, 6, 23))
    assert (await council.runtime.run_job("nudges")).queued == 0
    # Monday 7/12 is a holiday: nothing either.
    council.clock.set(local(2026, 12, 7, 10))
    assert (await council.runtime.run_job("nudges")).queued == 0
    # Tuesday: members who were active a week ago, and the silent ones, are nudged once.
    council.clock.set(local(2026, 12, 8, 9))
    await say(council, "u2", "có mặt")  # Bình stays active
    await say(council, "u8", "có mặt")  # and so does Hoa, in the Điện Quang group
    outcomes = await asyncio.gather(
        council.runtime.run_job("nudges"), council.runtime.run_job("nudges")
    )
    assert sum(o.queued for o in outcomes) >= 1
    await council.runtime.run_job("nudges")
    await council.drain()
    dq = said(council, DQ)
    assert len(dq) == 1 and "anh/chị Inh" in dq[0] and "anh/chị Kim" in dq[0]
    assert dq[0].startswith("👏 Cảm ơn anh/chị Hoa")  # praise first
    assert any("chưa thấy anh/chị tương tác" in t for t in said(council, "u3"))
    assert not any("tương tác" in t for t in said(council, "u2"))
    # u9 answers: re-engaged.
    await say(council, "u9", "có mặt", chat=DQ)
    reengaged = await scalar(
        council, select(func.count()).select_from(Nudge).where(Nudge.reengaged_at.is_not(None))
    )
    assert reengaged == 1


async def test_nudge_ladder_ends_with_the_coordinator(council: Bot) -> None:
    await say(council, "u1", "có mặt")  # the coordinator's private chat
    # 7/12 is a holiday: not a day of silence, so each level comes a day later.
    for day, level_text in ((8, "tương tác"), (11, "Đề nghị"), (15, None)):
        council.clock.set(MON + timedelta(days=day, hours=2))
        await council.runtime.run_job("nudges")
        await council.drain()
        if level_text:
            assert level_text in said(council, DQ)[-1]
    coord = said(council, "u1")[-1]
    assert "chưa hoạt động lâu ngày" in coord and "anh/chị Kim (Điện Quang): 14 ngày" in coord
    async with council.sessions() as s:
        counts = dict(
            (await s.execute(select(Nudge.level, func.count()).group_by(Nudge.level))).all()
        )
    assert counts == {1: 9, 2: 9, 3: 9}


async def test_weekly_cap_limits_nudges(make_bot: Any, make_settings: Any, sqlite_url: str) -> None:
    from handlers.clock import FixedClock

    bot = await make_bot(
        council_settings(
            make_settings,
            sqlite_url,
            engagement={
                "max_nudges_per_member_per_week": 1,
                "holidays": [],
                "nudge_levels": [{"after_days": 7}, {"after_days": 8}],
            },
        ),
        clock=FixedClock(MON),
    )
    await import_roster(bot, MON)
    bot.clock.set(MON + timedelta(days=7, hours=1))  # Monday: level 1
    await bot.runtime.run_job("nudges")
    bot.clock.set(MON + timedelta(days=8, hours=1))  # Tuesday, same week: level 2 is capped
    await bot.runtime.run_job("nudges")
    async with bot.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Nudge))).scalar_one() == 9
    bot.clock.set(MON + timedelta(days=14, hours=1))  # next week: level 2 goes out
    await bot.runtime.run_job("nudges")
    async with bot.sessions() as s:
        assert (
            await s.execute(select(func.count()).select_from(Nudge).where(Nudge.level == 2))
        ).scalar_one() == 9


async def test_two_instances_on_one_database_send_once(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    from handlers.clock import FixedClock

    settings = council_settings(make_settings, db_url, engagement={"holidays": []})
    a = await make_bot(settings, clock=FixedClock(MON))
    await import_roster(a, MON)
    b = await make_bot(settings, clock=FixedClock(MON), local_store=a.store)
    for bot in (a, b):
        bot.clock.set(MON + timedelta(days=7, hours=2))
    await asyncio.gather(a.runtime.run_job("nudges"), b.runtime.run_job("nudges"))
    await asyncio.gather(a.drain(), b.drain())
    async with a.sessions() as s:
        keys = list((await s.execute(select(Outbox.idempotency_key))).scalars())
    assert len(keys) == len(set(keys)) == 3  # one batched message per enterprise group
    assert len(a.store.bot_lines()) == 3


async def test_a_reminder_held_for_the_morning_is_dropped_when_the_task_is_done(
    council: Bot,
) -> None:
    await say(council, "u2", "có mặt")
    await say(council, "u1", "/giaoviec @Bình kiểm tra camera han 1/12 8h")
    council.clock.set(local(2026, 11, 30, 23))  # quiet hours: the reminder waits for 07:00
    await council.runtime.run_job("task_reminders")
    await council.drain()
    assert not any("Nhắc việc" in t for t in said(council, "u2"))
    await say(council, "u2", "/xong CV1")
    council.clock.set(local(2026, 12, 1, 7))
    await council.drain()
    assert not any("Nhắc việc" in t for t in said(council, "u2"))


async def test_a_task_for_this_afternoon_is_reminded_halfway_not_at_once(council: Bot) -> None:
    """Given at 09:00 for 17:00 and accepted: no "⏰ Nhắc việc" ten minutes later (it fell
    within the 24 hours before its deadline), one at 13:00."""
    await say(council, "u2", "có mặt")
    council.clock.set(local(2026, 11, 30, 9))
    await say(council, "u1", "/giaoviec @Bình kiểm tra bình chữa cháy xưởng 3 han 17h hôm nay")
    await say(council, "u2", "nhận việc")
    heard = len(said(council, "u2"))
    for hhmm in ((9, 15), (12, 45)):
        council.clock.set(local(2026, 11, 30, *hhmm))
        await council.runtime.run_job("task_reminders")
        await council.drain()
    assert len(said(council, "u2")) == heard
    council.clock.set(local(2026, 11, 30, 13, 0))
    await council.runtime.run_job("task_reminders")
    await council.drain()
    assert said(council, "u2")[heard:] == [
        "⏰ Nhắc việc CV1: kiểm tra bình chữa cháy xưởng 3. Hạn 17:00 30/11. Anh/chị Bình làm"
        " xong nhắn /xong CV1 giúp bot nhé!"
    ]


@pytest.mark.parametrize(
    "asks", ["e chua doc thong bao, thong bao gi vay a", "thông báo nào vậy anh?"]
)
async def test_which_notice_is_answered_with_the_notice_not_passed_to_quan(
    council: Bot, asks: str
) -> None:
    """Bình owes TB1 and asks what it is: the bot has it. Before, her question went to anh
    Quân as YC1 for him to answer by hand. A file she cannot open is still his to resend."""
    await say(council, "u2", "có mặt")
    await say(council, "u1", "/thongbao Từ 8/12 kiểm tra thẻ ra vào 100% công nhân tại cổng")
    told = len(said(council, "u1"))
    await say(council, "u2", asks)
    assert said(council, "u2")[-1] == (
        "Thông báo TB1 (anh/chị Quân gửi lúc 08:00 30/11):\n"
        '"Từ 8/12 kiểm tra thẻ ra vào 100% công nhân tại cổng"\n'
        'Đọc xong anh/chị trả lời "đã nhận" hoặc nhắn /danhan 1 giúp bot nhé. Hạn: 08:00 01/12.'
    )
    assert said(council, "u1")[told:] == []
    assert await scalar(council, select(func.count()).select_from(MemberRequest)) == 0
    await say(council, "u2", "đã nhận")
    assert "xác nhận thông báo TB1" in said(council, "u2")[-1]
    await say(council, "u2", "em chưa xem được file đính kèm thông báo, gửi lại giúp em")
    assert await scalar(council, select(func.count()).select_from(MemberRequest)) == 1
