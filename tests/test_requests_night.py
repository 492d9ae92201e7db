"""A question at night about the emergency under way is passed on at once, not held until
morning: anh Cường reports a container crash at gate 2 at 00:50, anh Quân is alerted, and at
01:11 chị Bình asks the bot whether the traffic police have come. Questions about anything
else, or about an incident already closed, still wait for 07:00."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from models.tables import MemberRequest
from tests.conftest import Bot
from tests.engagement_helpers import COUNCIL, MAY
from tests.test_requests import BINH, CUONG, EM, QUAN, VN, said, say, start

CRASH = (
    "Báo cáo: 00h45 xe container đâm vào cột điện trước cổng số 2, tài xế bị thương ở chân, "
    "đã gọi 115"
)
NIGHT = datetime(2026, 12, 7, 0, 50, tzinfo=VN)  # Monday, 00:50: quiet hours until 07:00
ASKED = datetime(2026, 12, 7, 1, 11, tzinfo=VN)
FORWARDED_NOW = "Bot đã chuyển câu hỏi (YC1) về sự việc SV1 tới điều phối viên ngay."
HELD_UNTIL_MORNING = "sẽ chuyển tới điều phối viên lúc 07:"


@pytest.fixture
async def night(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    """The council at 00:50 on Monday, anh Cường's crash just reported and alerted."""
    bot = await start(make_bot, make_settings, db_url)
    await say(bot, QUAN, "có mặt")  # Quân has written to the bot: reachable privately
    bot.clock.set(NIGHT)
    await say(bot, CUONG, CRASH)
    assert said(bot, QUAN)[-1].startswith("🚨"), said(bot, QUAN)[-1]
    bot.clock.set(ASKED)
    return bot


async def request_row(bot: Bot) -> MemberRequest:
    async with bot.sessions() as s:
        return (await s.execute(select(MemberRequest))).scalar_one()


@pytest.mark.parametrize(
    "asked",
    [
        "anh ơi vụ xe container ở cổng 2 công an giao thông đến chưa",
        "anh oi vu xe container o cong 2 cong an giao thong den chua",
        "SV1 công an giao thông đến chưa anh",
        "sv1 cong an giao thong den chua anh",
        "tài xế xe container đi viện chưa anh?",
        "tai xe xe container di vien chua anh",
    ],
)
async def test_night_question_about_the_crash_under_way_goes_at_once(
    night: Bot, asked: str
) -> None:
    """By its place (gate 2), its code or its words (xe container, tài xế), with or without
    diacritics: forwarded to anh Quân now, the SV code shown, and chị Bình told so."""
    to_quan = len(said(night, QUAN))
    await say(night, BINH, asked)

    assert said(night, BINH)[-1] == (
        f"Cảm ơn anh/chị Bình! {FORWARDED_NOW} Khi có trả lời, bot sẽ báo lại."
    )
    [forward] = said(night, QUAN)[to_quan:]  # delivered at 01:11, not held for the morning
    assert forward.startswith("❓ YC1 (về SV1): anh/chị Bình (May Việt, 0901000002) hỏi:")
    assert asked in forward and "/traloi YC1" in forward
    req = await request_row(night)
    assert req.forwarded_to == "private" and req.text == asked

    # His answer at 01:15 reaches her at once, as any answer does.
    night.clock.set(datetime(2026, 12, 7, 1, 15, tzinfo=VN))
    await say(night, QUAN, "/traloi YC1 CSGT đã có mặt, đang phân luồng")
    assert "CSGT đã có mặt" in said(night, BINH)[-1]


async def test_more_words_after_such_a_question_go_at_once_too(night: Bot) -> None:
    """What she adds within ten minutes belongs to a question already passed on: not held."""
    await say(night, BINH, "anh ơi vụ xe container ở cổng 2 công an giao thông đến chưa")
    await say(night, BINH, "em hỏi để báo lại cho đội xe đưa đón ca 3 ạ")
    assert said(night, BINH)[-1] == "Bot đã chuyển thêm nội dung này vào câu hỏi YC1."
    assert said(night, QUAN)[-1] == (
        "❓ YC1 (bổ sung) – anh/chị Bình:\n“em hỏi để báo lại cho đội xe đưa đón ca 3 ạ”"
    )


@pytest.mark.parametrize(
    "asked",
    [
        "Mai mấy giờ họp giao ban ạ?",
        "cho hoi thu tuc dang ky tam tru cho cong nhan moi",
        "ai trực cổng 3 đêm nay vậy",  # another gate
        "xe đưa đón ca 3 mấy giờ đến ạ",  # a bus is no crash
    ],
)
async def test_an_unrelated_night_question_still_waits_for_the_morning(
    night: Bot, asked: str
) -> None:
    to_quan = len(said(night, QUAN))
    await say(night, BINH, asked)

    reply = said(night, BINH)[-1]
    assert HELD_UNTIL_MORNING in reply and "SV1" not in reply, reply
    assert said(night, QUAN)[to_quan:] == []  # nothing woke anh Quân
    night.clock.set(datetime(2026, 12, 7, 7, 15, tzinfo=VN))
    await night.drain()
    assert said(night, QUAN)[-1].startswith("❓ YC1: anh/chị Bình")


async def test_a_question_after_the_crash_was_closed_waits_as_before(night: Bot) -> None:
    await say(night, QUAN, "/xong SV1 đã bàn giao CSGT")
    night.clock.set(datetime(2026, 12, 7, 1, 40, tzinfo=VN))
    to_quan = len(said(night, QUAN))
    await say(night, BINH, "anh ơi vụ xe container ở cổng 2 công an giao thông đến chưa")

    assert HELD_UNTIL_MORNING in said(night, BINH)[-1]
    assert "SV1" not in said(night, BINH)[-1]
    assert said(night, QUAN)[to_quan:] == []


async def test_a_question_long_after_the_crash_waits_as_before(night: Bot) -> None:
    """Reported more than six hours ago and left open: no longer the emergency under way."""
    night.clock.set(datetime(2026, 12, 7, 6, 55, tzinfo=VN))
    await say(night, BINH, "anh ơi vụ xe container ở cổng 2 công an giao thông đến chưa")
    assert HELD_UNTIL_MORNING in said(night, BINH)[-1] and "SV1" not in said(night, BINH)[-1]


@pytest.mark.parametrize(
    "asked",
    [
        "đám cháy bên May Việt khống chế được chưa anh?",
        "dam chay ben May Viet khong che duoc chua anh",
        "cho hoi vu chay o kho vai xe cuu hoa den chua",
    ],
)
async def test_a_group_question_about_the_fire_goes_to_the_council_group_at_once(
    make_bot: Any, make_settings: Any, db_url: str, asked: str
) -> None:
    """No coordinator has written to the bot: the fire was alerted in the council group, and
    anh Em's question about it there goes to that group now, saying so."""
    bot = await start(make_bot, make_settings, db_url)
    bot.clock.set(datetime(2026, 12, 1, 23, 0, tzinfo=VN))
    await say(bot, CUONG, "Cháy ở kho vải xưởng 2 cty May Việt, khói nhiều", chat=MAY)
    assert any(t.startswith("🚨") for t in said(bot, COUNCIL))
    bot.clock.set(datetime(2026, 12, 1, 23, 20, tzinfo=VN))
    await say(bot, EM, asked, chat=COUNCIL)

    told, forward = said(bot, COUNCIL)[-2:]
    assert told == (
        "Cảm ơn anh/chị Em! Bot đã chuyển câu hỏi (YC1) về sự việc SV1 ngay vào nhóm Hội đồng "
        "ANTT KCN (chưa nhắn riêng được cho điều phối viên). Khi có trả lời, bot sẽ báo lại."
    ), told
    assert forward.startswith("❓ YC1 (về SV1): anh/chị Em (Hansol, 0901000005) hỏi trong nhóm")
