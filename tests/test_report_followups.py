"""What a reporter writes next, in private, a minute after a report at night: how it ended
("bắt được rồi, là 1 thanh niên nghiện, đã giao cho công an phường") and what is still
dangerous ("cột điện bị nghiêng, có nguy cơ đổ, em đã rào khu vực lại"). Both belong to the
report they follow; neither is a new incident nor chat the bot shrugs off.

Monday 07/12/2026, 00:50 in Hanoi. Anh Tài and anh Nam guard May Việt; anh Quân coordinates
and has written to the bot privately. Real webhook, processor, jobs and sender (local
platform), movable clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.clock import FixedClock
from models.roster import import_roster_csv
from models.tables import Incident, IncidentEvent
from tests.conftest import Bot, member_says
from tests.engagement_helpers import GROUPS

NIGHT = datetime(2026, 12, 6, 17, 50, tzinfo=UTC)  # 00:50 Monday 07/12 in Hanoi
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Trần Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;gmayviet,anh
u2,Võ Văn Tài,0901000002,May Việt,member,gcouncil;gmayviet,anh
u3,Hoàng Văn Nam,0901000003,May Việt,member,gcouncil;gmayviet,anh
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
INTRUDER = "a oi co nguoi la treo rao sau xuong 5 cty may viet, em dang ra kiem tra"
CRASH = (
    "Báo cáo: 0h45 xe container đâm vào cột điện trước cổng số 2, tài xế bị thương ở "
    "chân, đã gọi 115"
)


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(db=db_url, groups=GROUPS)
    b: Bot = await make_bot(settings, clock=FixedClock(NIGHT))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, NIGHT)).errors == []
    await member_says(b, "u1", NAMES["u1"], "chào bot", None, "")  # Quân is reachable
    return b


async def say(bot: Bot, who: str, text: str) -> None:
    """`who` writes `text` to the bot in private, at the clock's time."""
    await member_says(bot, who, NAMES[who], text, None, "")


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def incidents(bot: Bot) -> list[tuple[str, str]]:
    async with bot.sessions() as s:
        rows = await s.execute(select(Incident.category, Incident.status).order_by(Incident.id))
        return [(c, st) for c, st in rows]


async def details(bot: Bot) -> list[str]:
    async with bot.sessions() as s:
        stmt = select(IncidentEvent.note).where(IncidentEvent.kind == "detail")
        return list((await s.execute(stmt.order_by(IncidentEvent.id))).scalars())


@pytest.mark.parametrize(
    "caught",
    [
        "bat duoc roi a, la 1 thanh nien nghien, da giao cho cong an phuong",
        "bắt được rồi anh, là 1 thanh niên nghiện, đã giao cho công an phường",
    ],
)
async def test_the_intruder_caught_is_how_sv1_ended_not_a_drugs_incident(
    bot: Bot, caught: str
) -> None:
    await say(bot, "u2", INTRUDER)
    assert await incidents(bot) == [("suspicious", "reported")]
    alerts = len(said(bot, "u1"))
    assert "(SV1)" in said(bot, "u1")[-1]

    bot.clock.advance(timedelta(minutes=3))  # 00:53
    await say(bot, "u2", caught)
    assert await incidents(bot) == [("suspicious", "reported")]  # no SV2 "ma túy"
    assert said(bot, "u2")[-1] == (
        f'Đã bổ sung vào sự việc SV1: "{caught}". Cảm ơn anh! Bot đã báo thêm cho anh Quân.'
    )
    # Quân, about to get up for it, reads how it ended: news, not another alarm, and he is
    # not woken every ten minutes to take what the police already have.
    assert said(bot, "u1")[alerts:] == [
        f'Sự việc SV1 (đối tượng khả nghi tại xưởng 5, Cty May Viet): anh Tài báo thêm "{caught}".'
        " Bot thôi nhắc khẩn; sự việc vẫn mở đến khi có người gõ /xong SV1."
    ]
    assert await details(bot) == [caught]
    heard = len(said(bot, "u1"))
    for _ in range(3):
        bot.clock.advance(timedelta(minutes=10))
        await bot.runtime.run_job("incident_escalation")
        await bot.drain()
    assert len(said(bot, "u1")) == heard
    assert await incidents(bot) == [("suspicious", "reported")]


async def test_a_drugs_report_of_its_own_stays_one(bot: Bot) -> None:
    """Past the window, or with nothing caught, the same words are a report of their own."""
    await say(bot, "u2", INTRUDER)
    bot.clock.advance(timedelta(minutes=45))
    await say(bot, "u2", "bat duoc 1 thanh nien nghien o nha xe, da giao cong an phuong")
    assert [c for c, _ in await incidents(bot)] == ["suspicious", "drugs"]


@pytest.mark.parametrize(
    "more",
    [
        "cot dien bi nghieng, co nguy co do, em da rao khu vuc lai",
        "cột điện bị nghiêng, có nguy cơ đổ, em đã rào khu vực lại",
    ],
)
async def test_what_is_still_dangerous_is_added_to_the_crash(bot: Bot, more: str) -> None:
    await say(bot, "u3", CRASH)
    assert await incidents(bot) == [("traffic", "reported")]
    bot.clock.advance(timedelta(minutes=2))
    await say(bot, "u3", more)
    assert said(bot, "u3")[-1] == f'Đã bổ sung vào sự việc SV1: "{more}". Cảm ơn anh!'
    assert await details(bot) == [more]
    assert not any("Nếu cần báo sự việc" in t for t in said(bot, "u3"))


async def test_thanks_and_ok_after_a_report_are_not_details(bot: Bot) -> None:
    await say(bot, "u3", CRASH)
    for text in ("dạ em biết rồi ạ", "da em biet roi a", "ok anh", "cảm ơn bot", "em đi ngủ đây"):
        bot.clock.advance(timedelta(minutes=1))
        await say(bot, "u3", text)
        assert not said(bot, "u3")[-1].startswith("Đã bổ sung"), text
    assert await details(bot) == []
    async with bot.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Incident)) == 1


async def test_caught_but_a_fire_elsewhere_is_a_fire(bot: Bot) -> None:
    await say(bot, "u2", INTRUDER)
    bot.clock.advance(timedelta(minutes=2))
    await say(bot, "u2", "bat duoc roi a, nhung kho 2 dang chay lon")
    assert [c for c, _ in await incidents(bot)] == ["suspicious", "fire"]


async def test_quans_ok_to_the_alert_tells_him_how_to_take_it(bot: Bot) -> None:
    """Woken by the alert, anh Quân answers the bot as if it were anh Tài. His words reach
    nobody: the bot says so, and how to take SV1; "nhận xử lý" then takes it."""
    await say(bot, "u2", INTRUDER)
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u1", "ok em, viết biên bản sáng mai gửi anh")
    assert said(bot, "u1")[-1] == (
        "SV1 (đối tượng khả nghi tại xưởng 5, Cty May Viet) đang chờ người nhận. Nếu anh nhận "
        'xử lý, anh gõ "nhận xử lý" hoặc /xuly SV1. Tin vừa rồi bot chỉ lưu, không chuyển cho ai.'
    )
    await say(bot, "u1", "ok")
    assert said(bot, "u1")[-1].endswith('gõ "nhận xử lý" hoặc /xuly SV1.')
    await say(bot, "u1", "nhận xử lý")
    assert await incidents(bot) == [("suspicious", "acknowledged")]
    await say(bot, "u1", "ok")  # nothing waits now: his "ok" owes nothing
    assert said(bot, "u1")[-1] == "Hiện không có thông báo nào cần anh xác nhận. Cảm ơn anh!"


async def test_workers_hurt_said_by_a_second_reporter_reach_those_alerted(bot: Bot) -> None:
    """Tài reports a fire in the May Việt group; Quân takes it. Nam, there too, adds that
    three workers breathed in smoke: his report joins SV1, and Quân, running it, hears of
    the injured at once, not only in the timeline."""
    group = "gmayviet"
    await member_says(bot, "u2", NAMES["u2"], "@Bot ANTT cháy ở kho vải, khói nhiều lắm", group, "")
    await say(bot, "u1", "nhận xử lý")
    assert await incidents(bot) == [("fire", "acknowledged")]
    heard = len(said(bot, "u1"))
    bot.clock.advance(timedelta(minutes=2))
    hurt = "3 công nhân bị ngạt khói đã đưa ra ngoài"
    await member_says(bot, "u3", NAMES["u3"], f"@Bot ANTT {hurt}", group, "")
    assert await incidents(bot) == [("fire", "acknowledged")]
    assert said(bot, "u1")[heard:] == [
        f'🚨 Sự việc SV1 (cháy/nổ tại kho vải): anh Nam báo thêm "{hurt}".'
    ]
    assert said(bot, group)[-1].endswith("Bot đã báo thêm cho anh Quân.")
    # The same news again from him is not sent twice; smoke alone tells nobody.
    await member_says(bot, "u3", NAMES["u3"], "@Bot ANTT cháy kho vải, khói đen", group, "")
    assert len(said(bot, "u1")) == heard + 1
