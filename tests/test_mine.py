"""A member asks about their own week: /cuatoi, or "tuần này em điểm danh mấy lần" in private.

Anh Cường (May Việt) checks in twice, reports a theft, is given a task and owes a directive:
he reads all of it back, in his words or the command's, with and without diacritics; in the
group the answer goes privately (it names what he still owes); a check-in is still a check-in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.clock import FixedClock
from models.tables import CheckIn
from tests.conftest import Bot
from tests.engagement_helpers import GROUPS, MAY, import_roster, said, say

VN = ZoneInfo("Asia/Ho_Chi_Minh")
QUAN, BINH, CUONG = "u1", "u2", "u3"


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12, day, hh, mm, tzinfo=VN)


@pytest.fixture
async def council(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    bot: Bot = await make_bot(make_settings(db=db_url, groups=GROUPS), clock=FixedClock(at(7, 7)))
    await import_roster(bot, at(7, 7))
    return bot


async def cuongs_week(bot: Bot) -> None:
    """Monday and Tuesday of anh Cường's week, and a directive he has not acknowledged."""
    await say(bot, CUONG, "có mặt")  # his private chat with the bot
    await say(bot, QUAN, "có mặt")
    bot.clock.set(at(7, 9))
    await say(bot, CUONG, "Mất trộm 2 cuộn dây điện ở kho vật tư May Việt")
    await say(bot, QUAN, "/giaoviec @Cường kiểm tra camera cổng 2 han 11/12 17h")
    await say(bot, QUAN, "/thongbao Từ mai kiểm tra thẻ công nhân ra vào cổng", chat=MAY)
    bot.clock.set(at(8, 7, 5))
    await say(bot, CUONG, "điểm danh ca 1", chat=MAY)
    bot.clock.set(at(8, 8, 30))


WEEK = (
    "📋 Anh/chị Cường, tuần này (từ thứ Hai 07/12):\n"
    "✅ Điểm danh: 2 lần, lần cuối 07:05 hôm nay\n"
    "📝 Báo cáo sự việc: 1\n"
    "📌 Việc đang giao cho anh/chị (1):\n"
    "• CV1 kiểm tra camera cổng 2, hạn 17:00 11/12\n"
    "📢 Thông báo anh/chị chưa xác nhận (1):\n"
    "• TB1 “Từ mai kiểm tra thẻ công nhân ra vào cổng”: gõ /danhan 1, hạn "
)


@pytest.mark.parametrize(
    "ask",
    [
        "/cuatoi",
        "tuần này em điểm danh mấy lần rồi ạ",
        "tuan nay em diem danh may lan roi a",
        "em còn việc gì chưa làm không ạ",
        "em con viec gi khong",
        "việc của em",
        "em còn thông báo nào chưa xác nhận không",
    ],
)
async def test_a_member_reads_his_own_week(council: Bot, ask: str) -> None:
    await cuongs_week(council)
    checkins_before = await _checkins(council)
    await say(council, CUONG, ask)
    answer = said(council, CUONG)[-1]
    assert answer.startswith(WEEK), answer
    assert await _checkins(council) == checkins_before  # asking is no check-in
    assert not any("hỏi" in line and "Cường" in line for line in said(council, QUAN)[-2:])


async def test_once_everything_is_done_he_is_thanked(council: Bot) -> None:
    await cuongs_week(council)
    await say(council, CUONG, "/danhan 1")
    await say(council, CUONG, "/xong CV1 camera cổng 2 đã chạy lại")
    await say(council, CUONG, "/cuatoi")
    answer = said(council, CUONG)[-1]
    assert answer.endswith("Không còn việc hay thông báo nào anh/chị cần làm. Cảm ơn anh/chị!")
    assert "📌" not in answer and "📢" not in answer


async def test_in_the_group_the_answer_goes_privately(council: Bot) -> None:
    await cuongs_week(council)
    await say(council, CUONG, "/cuatoi", chat=MAY)
    assert said(council, MAY)[-1] == "Bot đã nhắn riêng cho anh/chị ạ."
    assert said(council, CUONG)[-1].startswith(WEEK)


async def test_a_check_in_is_still_a_check_in(council: Bot) -> None:
    """ "em điểm danh rồi ạ" says he is here; only a question about his record is one."""
    await cuongs_week(council)
    before = await _checkins(council)
    await say(council, BINH, "em điểm danh rồi ạ")
    assert await _checkins(council) == before + 1
    assert said(council, BINH)[-1].startswith("✅ Đã ghi nhận")


async def test_a_member_with_nothing_this_week(council: Bot) -> None:
    await say(council, BINH, "/cuatoi")
    assert said(council, BINH)[-1] == (
        "📋 Anh/chị Bình, tuần này (từ thứ Hai 07/12):\n"
        "✅ Điểm danh: chưa có lần nào\n"
        "Không còn việc hay thông báo nào anh/chị cần làm. Cảm ơn anh/chị!"
    )


async def _checkins(bot: Bot) -> int:
    async with bot.sessions() as s:
        return int(await s.scalar(select(func.count(CheckIn.id))) or 0)
