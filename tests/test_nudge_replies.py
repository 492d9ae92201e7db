"""Answers to a nudge, as a quiet week in the demo lived them (docs/acks-and-budget.md).

Monday 30/11 at 08:00 đồng chí Hùng (police), anh Tùng, chị Mai and chị Lan say "có mặt" to
the bot; anh Nam has never written to it. Seven quiet days later, Monday 7/12 at 08:10, each
gets the nudge privately ("... nhắn "có mặt" để điểm danh giúp bot nhé"), Nam in the May Việt
group. At 08:22 they answer it, by quoting it or by simply writing back: every answer counts
as being there, and is answered warmly and truthfully.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.leave import away_in_week
from models.digest import Window
from models.roster import import_roster_csv
from models.tables import CheckIn, Incident, Member, Nudge
from tests.conftest import Bot, text_event

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SEEN = datetime(2026, 11, 30, 8, 0, tzinfo=VN)  # the last "có mặt"
NUDGED = datetime(2026, 12, 7, 8, 10, tzinfo=VN)  # Monday, seven quiet days on
ANSWER = datetime(2026, 12, 7, 8, 22, tzinfo=VN)

COUNCIL, MAY = "g-hoidong", "g-mayviet"
GROUPS = [
    {"chat_id": COUNCIL, "name": "Hội đồng ANTT KCN", "kind": "council"},
    {"chat_id": MAY, "name": "Tổ bảo vệ May Việt", "kind": "enterprise", "enterprise": "May Việt"},
]
ROSTER = """member_id,name,phone,enterprise,role,groups,title
quan,Phạm Minh Quân,0903000001,BQL KCN,coordinator,g-hoidong;g-mayviet,anh
hung,Trần Văn Hùng,0903000002,Công an KCN,member,g-hoidong,đồng chí
tung,Lê Văn Tùng,0903000003,May Việt,member,g-mayviet,anh
mai,Ngô Thị Mai,0903000004,May Việt,member,g-mayviet,chị
lan,Lê Thị Lan,0903000005,May Việt,member,g-mayviet,chị
nam,Đỗ Văn Nam,0903000006,May Việt,member,g-mayviet,anh
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
NUDGE_HUNG = "Chào đồng chí Hùng 👋 Đã 7 ngày bot chưa thấy đồng chí tương tác."


@pytest.fixture
async def week(make_bot: Any, make_settings: Any, sqlite_url: str) -> Bot:
    """The quiet week, up to the nudges delivered on Monday 7/12 at 08:10."""
    from handlers.clock import FixedClock

    settings = make_settings(db=sqlite_url, groups=GROUPS, engagement={"holidays": []})
    bot: Bot = await make_bot(settings, clock=FixedClock(SEEN))
    async with bot.sessions() as session, session.begin():
        result = await import_roster_csv(session, ROSTER, SEEN - timedelta(days=1))
    assert result.errors == []
    for who in ("quan", "hung", "tung", "mai", "lan"):
        await say(bot, who, "có mặt")
    bot.clock.set(NUDGED)
    await bot.runtime.run_job("nudges")
    await bot.drain()
    assert said(bot, "hung")[-1].startswith(NUDGE_HUNG)
    assert "Nhắc nhẹ: anh Nam lâu rồi chưa tương tác với bot." in said(bot, MAY)[-1]
    bot.clock.set(ANSWER)
    return bot


async def say(
    bot: Bot, who: str, text: str, *, chat: str | None = None, quote: str | None = None
) -> None:
    """`who` writes `text` privately, or in `chat` (a group), perhaps quoting a message."""
    body = text_event(
        text,
        sender=who,
        name=NAMES[who],
        chat=chat,
        group=chat is not None,
        at=bot.clock.now(),
        quote=quote,
    )
    status, _ = await bot.deliver(body)
    assert status == 200
    await bot.drain()


async def answer_nudge(bot: Bot, who: str, text: str, quoting: bool) -> str:
    """`who` answers his private nudge (quoting it or not); the bot's answer."""
    nudge = bot.store.bot_lines(who)[-1]
    await say(bot, who, text, quote=nudge.message_id if quoting else None)
    lines = said(bot, who)
    assert lines[-1] != nudge.text, "no answer"
    return lines[-1]


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def checkins(bot: Bot, who: str) -> list[str]:
    """The kinds of `who`'s check-ins since the nudge."""
    async with bot.sessions() as s:
        rows = await s.execute(
            select(CheckIn.kind)
            .join(Member, Member.id == CheckIn.member_pk)
            .where(Member.member_id == who, CheckIn.at >= NUDGED)
        )
        return list(rows.scalars())


async def incidents(bot: Bot) -> int:
    async with bot.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(Incident))).scalar_one())


async def reengaged(bot: Bot, who: str) -> bool:
    async with bot.sessions() as s:
        at = await s.execute(
            select(Nudge.reengaged_at)
            .join(Member, Member.id == Nudge.member_pk)
            .where(Member.member_id == who)
        )
        return at.scalar_one() is not None


KIND = (
    "✅ Đã ghi nhận {name} có mặt lúc 08:22. Cảm ơn {you} đã trả lời bot!"
    " Có việc gì {you} cứ nhắn bot nhé."
)


@pytest.mark.parametrize("quoting", [True, False], ids=["quoted", "unquoted"])
@pytest.mark.parametrize(
    "text",
    [
        "đồng chí vẫn theo dõi nhóm thường xuyên",
        "dong chi van theo doi nhom thuong xuyen",
        "em vẫn theo dõi nhóm ạ",
        "van theo doi nhom hang ngay",
    ],
)
async def test_following_the_group_is_presence_never_a_report(
    week: Bot, text: str, quoting: bool
) -> None:
    answer = await answer_nudge(week, "hung", text, quoting)
    assert answer == KIND.format(name="đồng chí Hùng", you="đồng chí")
    assert await checkins(week, "hung") == ["attendance"]
    assert await incidents(week) == 0
    assert said(week, "quan")[-1] == "✅ Đã ghi nhận anh Quân có mặt lúc 08:00. Cảm ơn anh!"
    assert await reengaged(week, "hung")


@pytest.mark.parametrize("quoting", [True, False], ids=["quoted", "unquoted"])
@pytest.mark.parametrize(
    "text", ["ok", "dạ", "da", "👍", "vâng ạ", "vang a", "nhận được rồi", "nhan duoc roi"]
)
async def test_a_short_reply_to_a_nudge_is_a_presence(week: Bot, text: str, quoting: bool) -> None:
    answer = await answer_nudge(week, "tung", text, quoting)
    assert answer == "✅ Đã ghi nhận anh Tùng có mặt lúc 08:22. Cảm ơn anh!"
    assert await checkins(week, "tung") == ["attendance"]
    assert await reengaged(week, "tung")


async def test_a_second_short_reply_is_told_it_was_counted(week: Bot) -> None:
    await answer_nudge(week, "tung", "ok", True)
    week.clock.set(ANSWER + timedelta(minutes=3))
    answer = await answer_nudge(week, "tung", "dạ", False)
    assert answer == "Bot đã ghi nhận anh Tùng có mặt lúc 08:22 rồi. Cảm ơn anh!"
    assert await checkins(week, "tung") == ["attendance"]


async def test_ok_a_day_after_the_nudge_is_read_as_before(week: Bot) -> None:
    week.clock.set(NUDGED + timedelta(days=1, hours=1))
    await say(week, "tung", "ok")
    assert said(week, "tung")[-1] == "Hiện không có thông báo nào cần anh xác nhận. Cảm ơn anh!"
    assert await checkins(week, "tung") == []


async def test_ok_unquoted_acknowledges_a_notice_owed(week: Bot) -> None:
    await say(week, "quan", "/thongbao Tăng cường tuần tra dịp cuối năm")
    await say(week, "tung", "ok")
    assert said(week, "tung")[-1].startswith("👍 Đã ghi nhận anh Tùng xác nhận thông báo TB1")


@pytest.mark.parametrize("quoting", [True, False], ids=["quoted", "unquoted"])
@pytest.mark.parametrize(
    "text",
    [
        "em vẫn làm bình thường mà, chỉ không nhắn thôi",
        "em van lam binh thuong ma, chi khong nhan thoi",
    ],
)
async def test_working_as_usual_is_presence_not_a_patrol(
    week: Bot, text: str, quoting: bool
) -> None:
    answer = await answer_nudge(week, "mai", text, quoting)
    assert answer == KIND.format(name="chị Mai", you="chị")
    assert await checkins(week, "mai") == ["attendance"]


async def test_a_patrol_reported_in_answer_stays_a_patrol(week: Bot) -> None:
    answer = await answer_nudge(week, "mai", "em vừa tuần tra kho B, bình thường ạ", True)
    assert answer.startswith("✅ Đã ghi nhận báo cáo tuần tra của chị Mai lúc 08:22")
    assert await checkins(week, "mai") == ["patrol"]


async def test_a_report_in_answer_is_filed(week: Bot) -> None:
    await answer_nudge(week, "hung", "có 2 người lạ lảng vảng cổng sau kho B", True)
    assert await incidents(week) == 1


@pytest.mark.parametrize("quoting", [True, False], ids=["quoted", "unquoted"])
@pytest.mark.parametrize(
    "text",
    [
        "dạ em bận quá chị ạ, tuần này em đi công tác",
        "da em ban qua chi a, tuan nay em di cong tac",
    ],
)
async def test_away_this_week_covers_the_week(week: Bot, text: str, quoting: bool) -> None:
    answer = await answer_nudge(week, "lan", text, quoting)
    assert answer == "Đã ghi nhận chị Lan vắng đến hết tuần này (13/12). Cảm ơn chị đã báo!"
    # The week's digest, read on Sunday evening, shows her away, not quiet.
    start = datetime(2026, 12, 7, tzinfo=VN)
    sunday_evening = start + timedelta(days=6, hours=20)
    w = Window(start=start, end=start + timedelta(days=7), as_of=sunday_evening)
    async with week.sessions() as s:
        lan = (await s.execute(select(Member.id).where(Member.member_id == "lan"))).scalar_one()
        away = await away_in_week(s, week.runtime.settings, w, [lan])
    assert f"{away[lan].end.astimezone(VN):%d/%m}" == "13/12"
    # Nor is she nudged again while away.
    week.clock.set(datetime(2026, 12, 11, 9, tzinfo=VN))
    before = len(said(week, "lan"))
    await week.runtime.run_job("nudges")
    await week.drain()
    assert len(said(week, "lan")) == before


@pytest.mark.parametrize("text", ["ok", "vâng ạ", "vang a"])
async def test_a_member_nudged_in_his_group_answers_there(week: Bot, text: str) -> None:
    nudge = week.store.bot_lines(MAY)[-1]
    await say(week, "nam", text, chat=MAY, quote=nudge.message_id)
    assert said(week, MAY)[-1] == "✅ Đã ghi nhận anh Nam có mặt lúc 08:22. Cảm ơn anh!"
    assert await checkins(week, "nam") == ["attendance"]
