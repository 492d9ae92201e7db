"""A day's absence said back with its day, so a misread day is caught at once.

Sunday 06/12/2026, 18:42 in Hanoi: anh Nam writes the bot privately "mai e xin nghi 1 hom
nha"; chị Hoa and anh Sơn write in May Việt's group (@mentioning the bot), with and without
diacritics. Everything goes through the real webhook, processor and sender, movable clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from models.roster import import_roster_csv
from models.tables import Message
from tests.conftest import Bot, member_says
from tests.engagement_helpers import GROUPS, MAY

SUNDAY = datetime(2026, 12, 6, 18, 42, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;gmayviet,anh
u2,Trần Văn Nam,0901000002,May Việt,member,gmayviet,anh
u3,Bùi Thị Hoa,0901000003,May Việt,member,gmayviet,chị
u4,Đỗ Văn Sơn,0901000004,May Việt,member,gmayviet,anh
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    b: Bot = await make_bot(make_settings(db=db_url, groups=GROUPS), clock=FixedClock(SUNDAY))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, SUNDAY)).errors == []
    return b


async def answer(bot: Bot, who: str, text: str, group: str | None = MAY) -> str:
    """What `who` reads back after writing `text` (in May Việt's group, or privately)."""
    await member_says(bot, who, NAMES[who], ("@Bot ANTT " if group else "") + text, group)
    return bot.store.bot_lines(group or who)[-1].text


async def test_tomorrow_and_today_are_said_back_with_their_day(bot: Bot) -> None:
    assert await answer(bot, "u2", "mai e xin nghi 1 hom nha", group=None) == (
        "Đã ghi nhận anh Nam báo vắng ngày mai (thứ Hai 07/12). Cảm ơn anh đã báo trước."
    )
    assert await answer(bot, "u3", "hôm nay em xin nghỉ vì con ốm") == (
        "Đã ghi nhận chị Hoa báo vắng hôm nay (06/12). Cảm ơn chị đã báo trước."
    )
    assert (await answer(bot, "u4", "chieu nay e xin nghi")).startswith(
        "Đã ghi nhận anh Sơn báo vắng hôm nay (06/12)."
    )
    for text in ("ngày mai em xin nghỉ 1 ngày", "thứ 2 em xin nghỉ", "thu hai tuan sau e nghi"):
        assert await answer(bot, "u3", text) == (
            "Đã ghi nhận chị Hoa báo vắng ngày mai (thứ Hai 07/12). Cảm ơn chị đã báo trước."
        ), text


async def test_a_weekday_later_in_the_week_or_the_next_is_named(bot: Bot) -> None:
    bot.clock.advance(timedelta(days=3))  # Wednesday 09/12
    assert await answer(bot, "u2", "thứ 6 em xin nghỉ 1 hôm") == (
        "Đã ghi nhận anh Nam báo vắng thứ Sáu 11/12. Cảm ơn anh đã báo trước."
    )
    assert await answer(bot, "u2", "thu 2 tuan sau em xin nghi") == (
        "Đã ghi nhận anh Nam báo vắng thứ Hai 14/12. Cảm ơn anh đã báo trước."
    )
    assert await answer(bot, "u2", "thứ 4 tuần sau em nghỉ") == (
        "Đã ghi nhận anh Nam báo vắng thứ Tư 16/12. Cảm ơn anh đã báo trước."
    )


async def test_a_leave_with_an_end_and_an_absence_with_no_day_are_as_before(bot: Bot) -> None:
    assert await answer(bot, "u2", "em xin nghỉ phép đến 10/12") == (
        "Đã ghi nhận anh Nam nghỉ đến 10/12. Cảm ơn anh đã báo trước."
    )
    assert await answer(bot, "u3", "e xin nghi 1 hom") == (
        "Đã ghi nhận chị Hoa báo vắng. Cảm ơn chị đã báo trước."
    )
    assert await answer(bot, "u4", "Xe em bị hỏng nên mai đến muộn 30 phút ạ") == (
        "Đã ghi nhận anh Sơn báo đến muộn. Cảm ơn anh đã báo trước."
    )


@pytest.mark.parametrize(
    "text",
    [
        "em xin phép nghỉ từ thứ 4 đến thứ 6 tuần này để về quê có việc",
        "em xin phep nghi tu thu 4 den thu 6 tuan nay de ve que co viec",
    ],
)
async def test_a_leave_asked_with_its_reason_is_a_leave(bot: Bot, text: str) -> None:
    """Monday 07/12, 08:14: anh Nam asks for Wednesday to Friday with the reason. It was met
    with "Bot đã ghi nhận tin nhắn. Nếu cần báo sự việc…" and no leave recorded."""
    bot.clock.set(datetime(2026, 12, 7, 8, 14, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))
    # A leave has its start (docs/people.md): Wednesday to Friday, said back both.
    assert await answer(bot, "u2", text, group=None) == (
        "Đã ghi nhận anh Nam nghỉ từ 09/12 đến 11/12. Cảm ơn anh đã báo trước."
    )


@pytest.mark.parametrize(
    "text",
    [
        "anh Nam xin nghỉ hôm nay",
        "ca 3 có 1 bạn ốm xin nghỉ, em trực thay",
        "đồng chí Sơn xin vắng buổi họp chiều nay",
    ],
)
async def test_someone_elses_absence_is_not_the_senders(bot: Bot, text: str) -> None:
    """Chị Hoa tells the group a colleague is away. She was answered "Đã ghi nhận chị Hoa báo
    vắng hôm nay" and counted on leave herself; she is here, covering."""
    await member_says(bot, "u3", NAMES["u3"], "@Bot ANTT " + text, MAY)
    said = [line.text for line in bot.store.bot_lines(MAY)]
    assert not any("chị Hoa báo vắng" in t or "chị Hoa nghỉ" in t for t in said), said
    async with bot.sessions() as s:
        kinds = (await s.execute(select(Message.type).where(Message.member_pk == 3))).scalars()
        assert "absent" not in list(kinds)


async def test_her_own_absence_after_calling_someone_is_hers(bot: Bot) -> None:
    for text in ("anh ơi em xin nghỉ hôm nay", "chị xin nghỉ chiều nay nhé"):
        assert (await answer(bot, "u3", text)).startswith("Đã ghi nhận chị Hoa báo vắng"), text
