"""What a reporter says later about her incident is not dropped.

Friday 27/11/2026 in Hanoi. At 09:18 chị Mai (Hansol's guard) reports in her enterprise's group,
@mentioning the bot: "xe tải lùi va vào cột điện trước kho 3 Hansol, cột bị nghiêng, không ai
bị thương" (SV1: traffic, not urgent, so nobody is alerted). Anh Quân, the coordinator, takes it
in private ("nhận xử lý SV1"). At 09:38, past her ten-minute details window, she writes
"điện lực đã tới xử lý cột điện" (with or without marks, in the group or to the bot): it was
stored as `other`, the bot said nothing and SV1's timeline never showed it. Anh Em guards
Hansol too. Everything goes through the real webhook, processor, jobs and sender (local
platform), on a clock the tests move.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from handlers.parse.followups import responders_coming
from models.roster import import_roster_csv
from models.tables import Incident, IncidentEvent, Report
from tests.conftest import Bot, member_says
from tests.engagement_helpers import GROUPS, HANSOL

MORNING = datetime(2026, 11, 27, 2, 18, tzinfo=UTC)  # 09:18 in Hanoi
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;ghansol,anh
u2,Trần Thị Mai,0901000002,Hansol,member,ghansol,chị
u3,Hoàng Văn Em,0901000003,Hansol,member,ghansol,anh
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
MENTION = "@Bot ANTT "
POLE = "xe tải lùi va vào cột điện trước kho 3 Hansol, cột bị nghiêng, không ai bị thương"
NEWS = "Sự việc SV1 (tai nạn giao thông tại kho 3, Cty Hansol): chị Mai báo thêm"


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(db=db_url, groups=GROUPS)
    b: Bot = await make_bot(settings, clock=FixedClock(MORNING))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, MORNING)).errors == []
    await say(b, "u1", "chào bot")  # Quân is reachable in private
    return b


async def say(bot: Bot, who: str, text: str, group: str | None = None) -> None:
    """`who` writes `text` in `group` (or privately), at the clock's time."""
    await member_says(bot, who, NAMES[who], (MENTION + text) if group else text, group)


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def incidents(bot: Bot) -> list[Incident]:
    async with bot.sessions() as s:
        return list((await s.execute(select(Incident).order_by(Incident.id))).scalars())


async def steps(bot: Bot, number: int) -> list[tuple[str, int | None, str | None]]:
    """The incident's timeline after its report: (kind, actor, note)."""
    async with bot.sessions() as s:
        stmt = (
            select(IncidentEvent.kind, IncidentEvent.member_pk, IncidentEvent.note)
            .where(IncidentEvent.incident_pk == number)
            .order_by(IncidentEvent.id)
        )
        rows = (await s.execute(stmt)).all()
    return [(k, m, n) for k, m, n in rows if k in ("detail", "update")]


async def pole(bot: Bot, taken: bool = True) -> int:
    """Mai's report at 09:18, Quân taking it; how many lines Quân has had by then."""
    await say(bot, "u2", POLE, group=HANSOL)
    (sv1,) = await incidents(bot)
    assert sv1.category == "traffic" and not sv1.urgent
    if taken:
        bot.clock.advance(timedelta(minutes=2))
        await say(bot, "u1", "nhận xử lý SV1")
    return len(said(bot, "u1"))


@pytest.mark.parametrize(
    "words",
    [
        "điện lực đã tới xử lý cột điện",
        "dien luc da toi xu ly cot dien",
        "bên điện lực đang khắc phục",
        "EVN đã đến sửa",
        "tho dien dang sua cot",
        "điện lực đã dựng lại cột rồi",
        "da keo xe ra, dang sua cot",
    ],
)
async def test_her_word_twenty_minutes_on_joins_sv1_and_quan_hears_it_as_news(
    bot: Bot, words: str
) -> None:
    quan = await pole(bot)
    bot.clock.advance(timedelta(minutes=18))  # 09:38, past her details window
    await say(bot, "u2", words, group=HANSOL)

    (sv1,) = await incidents(bot)
    assert sv1.status in ("acknowledged", "handling") and not sv1.urgent
    assert (await steps(bot, 1))[-1] == ("detail", 2, words)
    assert said(bot, HANSOL)[-1] == (
        f'Đã bổ sung vào sự việc SV1: "{words}". Cảm ơn chị! Bot đã báo thêm cho anh Quân.'
    )
    # Quân, who handles it, hears it once, as news: no 🚨, no KHẨN.
    assert said(bot, "u1")[quan:] == [f'{NEWS} "{words}".']


@pytest.mark.parametrize("words", ["điện lực đã tới xử lý cột điện", "da khac phuc xong"])
async def test_in_private_it_joins_her_one_open_incident(bot: Bot, words: str) -> None:
    quan = await pole(bot)
    bot.clock.advance(timedelta(minutes=40))
    await say(bot, "u2", words)
    assert (await steps(bot, 1))[-1] == ("detail", 2, words)
    assert said(bot, "u2")[-1].startswith("Đã bổ sung vào sự việc SV1 (tai nạn giao thông tại")
    assert "chị báo trong nhóm Tổ bảo vệ Hansol lúc 09:18" in said(bot, "u2")[-1]
    assert said(bot, "u2")[-1].endswith("Cảm ơn chị! Bot đã báo thêm cho anh Quân.")
    assert said(bot, "u1")[quan:] == [f'{NEWS} "{words}".']


async def test_nobody_took_it_nobody_alerted_she_is_thanked_and_no_one_is_claimed(
    bot: Bot,
) -> None:
    quan = await pole(bot, taken=False)
    bot.clock.advance(timedelta(minutes=20))
    await say(bot, "u2", "điện lực đã tới xử lý cột điện", group=HANSOL)
    assert said(bot, HANSOL)[-1] == (
        'Đã bổ sung vào sự việc SV1: "điện lực đã tới xử lý cột điện". Cảm ơn chị!'
    )
    assert len(said(bot, "u1")) == quan


async def test_a_new_danger_in_the_same_words_is_its_own_incident(bot: Bot) -> None:
    await pole(bot)
    bot.clock.advance(timedelta(minutes=20))
    await say(bot, "u2", "điện lực đã tới, nhưng dây điện bị cháy", group=HANSOL)
    assert [i.category for i in await incidents(bot)] == ["traffic", "fire"]
    assert await steps(bot, 1) == []


@pytest.mark.parametrize(
    "words",
    ["gọi điện lực tới ngay", "goi dien luc toi ngay", "xe cấp cứu chưa tới", "đã gọi điện lực"],
)
async def test_calling_or_waiting_for_them_is_not_their_arrival(words: str) -> None:
    assert responders_coming(words) == frozenset()


@pytest.mark.parametrize(
    ("words", "service"),
    [
        ("điện lực đã tới xử lý cột điện", "power"),
        ("thợ điện đang khắc phục", "power"),
        ("xe cấp cứu đã đưa nạn nhân đi viện", "medical"),
        ("cap cuu 115 da toi", "medical"),
        ("xe cứu thương tới rồi", "medical"),
        ("bác sĩ đang sơ cứu", "medical"),
        ("xe cuu ho da toi keo xe ra", "tow"),
        ("công ty cấp nước đã đến sửa ống", "water"),
        ("xe cứu hỏa tới nơi rồi", "fire"),
    ],
)
async def test_the_services_and_their_work_are_read(words: str, service: str) -> None:
    assert responders_coming(words) == frozenset({service})


async def test_too_late_or_closed_it_is_not_joined(bot: Bot) -> None:
    await pole(bot)
    bot.clock.advance(timedelta(hours=13))  # past LATE_OUTCOME_HOURS
    before = len(said(bot, HANSOL))
    await say(bot, "u2", "điện lực đã tới xử lý cột điện", group=HANSOL)
    assert await steps(bot, 1) == []
    assert len(said(bot, HANSOL)) == before

    # Closed by Quân, nothing joins it, even within the hours.
    await say(bot, "u2", POLE.replace("kho 3", "kho 7"), group=HANSOL)
    await say(bot, "u1", "/xong SV2 đã xử lý")
    assert [(i.id, i.status) for i in await incidents(bot)][1] == (2, "resolved")
    bot.clock.advance(timedelta(minutes=30))
    before = len(said(bot, HANSOL))
    await say(bot, "u2", "dien luc da toi xu ly cot dien", group=HANSOL)
    assert await steps(bot, 2) == []
    assert len(said(bot, HANSOL)) == before


async def test_em_saying_the_tow_truck_came_updates_the_crash_not_the_newer_theft(
    bot: Bot,
) -> None:
    await pole(bot, taken=False)
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u3", "mất trộm 2 cuộn dây đồng ở kho 5 Hansol", group=HANSOL)
    assert [i.category for i in await incidents(bot)] == ["traffic", "theft"]
    bot.clock.advance(timedelta(minutes=20))
    await say(bot, "u3", "xe cứu hộ đã tới kéo xe ra", group=HANSOL)
    assert await steps(bot, 1) == [("update", 3, "xe cứu hộ đã tới kéo xe ra")]
    assert await steps(bot, 2) == []
    assert said(bot, HANSOL)[-1] == (
        'Đã bổ sung vào sự việc SV1: "xe cứu hộ đã tới kéo xe ra". Cảm ơn anh!'
    )


@pytest.mark.parametrize("words", ["xe cấp cứu tới rồi", "xe cap cuu toi roi"])
async def test_the_ambulance_comes_to_the_one_with_someone_hurt(bot: Bot, words: str) -> None:
    await say(bot, "u3", "mất trộm 2 cuộn dây đồng ở kho 5 Hansol", group=HANSOL)
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u2", "công nhân bị ngã từ giàn giáo ở xưởng 2, bị thương nặng", group=HANSOL)
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u3", "mất trộm thêm 1 cuộn ở kho 5", group=HANSOL)
    hurt = next(i for i in await incidents(bot) if i.severity == "high")
    bot.clock.advance(timedelta(minutes=20))
    await say(bot, "u3", words, group=HANSOL)
    assert (await steps(bot, hurt.id))[-1] == ("update", 3, words)


async def test_reports_stay_one(bot: Bot) -> None:
    """Her later words never file a report of their own."""
    await pole(bot)
    bot.clock.advance(timedelta(minutes=20))
    await say(bot, "u2", "dien luc da toi xu ly cot dien", group=HANSOL)
    async with bot.sessions() as s:
        assert len(list((await s.execute(select(Report))).scalars())) == 1


async def test_an_ambulance_with_nothing_under_way_still_says_someone_is_hurt(bot: Bot) -> None:
    """No incident open in the group: "xe cấp cứu tới rồi" is filed and alerts, as before."""
    await say(bot, "u3", "xe cấp cứu tới rồi", group=HANSOL)
    (sv1,) = await incidents(bot)
    assert sv1.severity == "high" and sv1.urgent
    assert any("(SV1)" in line for line in said(bot, "u1"))
