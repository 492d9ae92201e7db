"""Night questions and an incident that turns urgent, or wakes someone who is no coordinator.

Monday 07/12/2026, quiet hours until 07:00. At 00:25 anh Cường reports a container that
scraped the pole at gate 2, nobody hurt: not urgent, nobody is woken. At 00:40 chị Bình asks
the bot whether the traffic police have come: held for 07:00, as any night question. At 01:05
anh Cường writes again: the driver is hurt. The incident is urgent now, anh Quân is alerted,
and the question about it that was waiting goes to him at once.

Then the escalation chain: anh Em (Hansol's night lead, no coordinator) is next after the
coordinators. Woken at 01:15 for the crash nobody took, he gets the questions about it too,
and may answer them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from models.tables import MemberRequest
from tests.conftest import Bot
from tests.test_requests import BINH, CUONG, EM, QUAN, VN, said, say, start

SCRAPE = "Báo cáo: 00h25 xe container va quệt cột điện trước cổng số 2, không ai bị thương"
HURT = [
    "Tai nạn xe container ở cổng 2: tài xế bị thương ở chân, chảy máu nhiều, đã gọi 115",
    "tai nan xe container o cong 2: tai xe bi thuong o chan, chay mau nhieu, da goi 115",
]
ASKED = [
    "anh ơi vụ xe container ở cổng 2 công an giao thông đến chưa",
    "anh oi vu xe container o cong 2 cong an giao thong den chua",
]
INH = "u9"  # Điện Quang: neither coordinator nor in the chain


def at(hhmm: str) -> datetime:
    hh, mm = (int(x) for x in hhmm.split(":"))
    return datetime(2026, 12, 7, hh, mm, tzinfo=VN)


async def night(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    """The council on Monday night; anh Em is the escalation chain's first step."""
    alerts = {"escalation_chain": [EM], "ack_timeout_minutes": 10}
    bot = await start(make_bot, make_settings, db_url, alerts=alerts)
    for who in (QUAN, EM, BINH, INH):
        await say(bot, who, "có mặt")  # each has written to the bot: reachable privately
    return bot


async def answered_by(bot: Bot) -> int | None:
    async with bot.sessions() as s:
        return (await s.execute(select(MemberRequest.answered_by))).scalar_one()


@pytest.mark.parametrize(("hurt", "asked"), list(zip(HURT, ASKED, strict=True)))
async def test_a_held_question_goes_when_its_incident_turns_urgent(
    make_bot: Any, make_settings: Any, db_url: str, hurt: str, asked: str
) -> None:
    bot = await night(make_bot, make_settings, db_url)
    bot.clock.set(at("00:25"))
    await say(bot, CUONG, SCRAPE)
    to_quan = len(said(bot, QUAN))
    bot.clock.set(at("00:40"))
    await say(bot, BINH, asked)
    assert "sẽ chuyển tới điều phối viên lúc 07:" in said(bot, BINH)[-1]
    assert said(bot, QUAN)[to_quan:] == []  # not urgent: nobody woken
    to_binh = len(said(bot, BINH))

    bot.clock.set(at("01:05"))
    await say(bot, CUONG, hurt)
    to_quan_now = said(bot, QUAN)[to_quan:]
    assert to_quan_now[0].startswith("🚨"), to_quan_now
    [forward] = [t for t in to_quan_now if t.startswith("❓")]
    assert forward.startswith("❓ YC1 (về SV1): anh/chị Bình (May Việt, 0901000002) hỏi:")
    assert asked in forward
    assert said(bot, BINH)[to_binh:] == [
        "Sự việc SV1 vừa được báo khẩn nên bot đã chuyển câu hỏi (YC1) của anh/chị Bình tới"
        " điều phối viên ngay, không chờ đến sáng."
    ]
    # Nothing is left for the morning: at 07:15 anh Quân gets no second copy.
    seen = len(said(bot, QUAN))
    bot.clock.set(at("07:15"))
    await bot.drain()
    assert not [t for t in said(bot, QUAN)[seen:] if "YC1" in t]


async def test_an_unrelated_held_question_still_waits(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    bot = await night(make_bot, make_settings, db_url)
    bot.clock.set(at("00:25"))
    await say(bot, CUONG, SCRAPE)
    bot.clock.set(at("00:40"))
    await say(bot, BINH, "Mai mấy giờ họp giao ban ạ?")
    to_quan, to_binh = len(said(bot, QUAN)), len(said(bot, BINH))
    bot.clock.set(at("01:05"))
    await say(bot, CUONG, HURT[0])
    assert not [t for t in said(bot, QUAN)[to_quan:] if "YC1" in t]
    assert said(bot, BINH)[to_binh:] == []


@pytest.mark.parametrize("asked", ASKED)
async def test_the_chain_woken_for_the_crash_gets_the_question_and_may_answer(
    make_bot: Any, make_settings: Any, db_url: str, asked: str
) -> None:
    """Asked at 01:20, after anh Em was woken at 01:15: to anh Quân and to him; he answers
    by quoting it, and chị Bình reads his answer signed with his name, not "điều phối viên"."""
    bot = await night(make_bot, make_settings, db_url)
    bot.clock.set(at("01:05"))
    await say(bot, CUONG, HURT[0])
    bot.clock.set(at("01:15"))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 1
    await bot.drain()
    assert said(bot, EM)[-1].startswith("⏫ KHẨN (lần 1)"), said(bot, EM)[-1]
    bot.clock.set(at("01:20"))
    await say(bot, BINH, asked)
    assert said(bot, QUAN)[-1].startswith("❓ YC1 (về SV1):")
    [forward] = [line for line in bot.store.bot_lines(EM) if line.text.startswith("❓ YC1")]
    assert forward.text == said(bot, QUAN)[-1]

    bot.clock.set(at("01:25"))
    await say(bot, EM, "CSGT đến rồi, đang phân luồng", quote=forward.message_id)
    assert said(bot, BINH)[-1] == (
        "💬 Trả lời cho câu hỏi YC1 của anh/chị Bình:\nCSGT đến rồi, đang phân luồng\n— anh/chị Em"
    )
    assert await answered_by(bot) == 5
    # Anh Quân, later, is told who answered; no second answer reaches her.
    await say(bot, QUAN, "/traloi YC1 đã có CSGT")
    assert said(bot, QUAN)[-1].startswith("YC1 đã được anh/chị Em trả lời lúc 01:25")


async def test_a_question_asked_before_the_escalation_follows_it(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    """Asked at 01:10 (to anh Quân, who sleeps); at 01:15 anh Em is woken: he gets it too,
    and answers with /traloi. Anh Inh, woken for nothing, may not."""
    bot = await night(make_bot, make_settings, db_url)
    bot.clock.set(at("01:05"))
    await say(bot, CUONG, HURT[1])
    bot.clock.set(at("01:10"))
    await say(bot, BINH, ASKED[1])
    bot.clock.set(at("01:15"))
    await bot.runtime.run_job("incident_escalation")
    await bot.drain()
    em = said(bot, EM)
    assert em[-2].startswith("⏫ KHẨN (lần 1)") and em[-1].startswith("❓ YC1 (về SV1):"), em
    await say(bot, INH, "/traloi YC1 chưa thấy")
    assert "traloi" in said(bot, INH)[-1] and await answered_by(bot) is None
    await say(bot, EM, "/traloi YC1 CSGT đến rồi")
    assert said(bot, BINH)[-1].endswith("CSGT đến rồi\n— anh/chị Em")
