"""Words a council types while an incident is under way: the fire brigade or the police
arriving, and people inside a stuck lift.

Chị Lan (May Việt's guard) reports in her enterprise's group, @mentioning the bot as members
do there; anh Cường guards the same company; anh Em guards Hansol; anh Quân coordinates and
has written to the bot privately. Everything goes through the real webhook, processor, jobs
and sender (local platform), on a clock the tests move.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from models.roster import import_roster_csv
from models.tables import Incident, IncidentEvent, Report
from tests.conftest import Bot, member_says
from tests.engagement_helpers import GROUPS, HANSOL, MAY

# 14:20 Friday 27 Nov 2026 in Hanoi.
AFTERNOON = datetime(2026, 11, 27, 7, 20, tzinfo=UTC)
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;gmayviet;ghansol,anh
u2,Nguyễn Thị Lan,0901000002,May Việt,member,gcouncil;gmayviet,chị
u3,Lê Văn Cường,0901000003,May Việt,member,gmayviet,anh
u4,Hoàng Văn Em,0901000004,Hansol,member,ghansol,anh
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
MENTION = "@Bot ANTT "


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(db=db_url, groups=GROUPS)
    b: Bot = await make_bot(settings, clock=FixedClock(AFTERNOON))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, AFTERNOON)).errors == []
    await say(b, "u1", "chào bot")  # Quân is reachable in private
    return b


async def say(bot: Bot, who: str, text: str, group: str | None = None) -> None:
    """`who` writes `text` in `group` (or privately), at the clock's time."""
    await member_says(bot, who, NAMES[who], text, group)


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def incidents(bot: Bot) -> list[Incident]:
    async with bot.sessions() as s:
        return list((await s.execute(select(Incident).order_by(Incident.id))).scalars())


async def timeline(bot: Bot, number: int) -> list[tuple[str, str | None]]:
    """The incident's steps after its report: (kind, note)."""
    async with bot.sessions() as s:
        stmt = (
            select(IncidentEvent.kind, IncidentEvent.note)
            .where(IncidentEvent.incident_pk == number)
            .order_by(IncidentEvent.id)
        )
        rows = (await s.execute(stmt)).all()
    return [(kind, note) for kind, note in rows if kind in ("detail", "update")]


async def reports(bot: Bot) -> list[Report]:
    async with bot.sessions() as s:
        return list((await s.execute(select(Report).order_by(Report.id))).scalars())


# ------------------------------------------------------------ the fire brigade, the police


async def test_the_fire_brigade_arriving_joins_the_fire_under_way(bot: Bot) -> None:
    await say(bot, "u2", MENTION + "cháy kho số 3, khói nhiều lắm", group=MAY)
    assert "(SV1)" in said(bot, "u1")[-1]
    alerts = len(said(bot, "u1"))

    # Five minutes later Cường, who did not report it, sees the truck come in.
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u3", MENTION + "xe cứu hỏa tới nơi rồi", group=MAY)
    assert said(bot, MAY)[-1] == 'Đã bổ sung vào sự việc SV1: "xe cứu hỏa tới nơi rồi". Cảm ơn anh!'

    # Lan, the reporter, in her words, with and without diacritics.
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u2", MENTION + "cảnh sát PCCC đã tới", group=MAY)
    assert said(bot, MAY)[-1] == 'Đã bổ sung vào sự việc SV1: "cảnh sát PCCC đã tới". Cảm ơn chị!'
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u2", MENTION + "xe cuu hoa toi roi", group=MAY)
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u3", MENTION + "cứu hỏa đến rồi", group=MAY)
    bot.clock.advance(timedelta(minutes=20))  # past Lan's window: the group's fire still
    await say(bot, "u3", MENTION + "công an tới rồi", group=MAY)
    assert said(bot, MAY)[-1] == 'Đã bổ sung vào sự việc SV1: "công an tới rồi". Cảm ơn anh!'

    # One fire, its timeline holding every word; nobody woken again, no second report.
    (fire,) = await incidents(bot)
    assert fire.category == "fire" and fire.status == "reported"
    assert len(await reports(bot)) == 1
    assert len(said(bot, "u1")) == alerts
    assert await timeline(bot, 1) == [
        ("update", "xe cứu hỏa tới nơi rồi"),
        ("detail", "cảnh sát PCCC đã tới"),
        ("detail", "xe cuu hoa toi roi"),
        ("update", "cứu hỏa đến rồi"),
        ("update", "công an tới rồi"),
    ]
    assert not any("điều phối viên" in line for line in said(bot, MAY)[-5:])

    # Quân reads it on the timeline, each step named as on the dashboard.
    await say(bot, "u1", "/baocao SV1")
    steps = said(bot, "u1")[-1]
    assert "Tin cập nhật" in steps and "xe cứu hỏa tới nơi rồi" in steps
    assert "Người báo bổ sung" in steps and "cảnh sát PCCC đã tới" in steps


async def test_the_fire_brigade_with_nothing_open_is_chat_and_a_burning_truck_is_a_fire(
    bot: Bot,
) -> None:
    # A fire in May Việt's group is no business of Hansol's group.
    await say(bot, "u2", MENTION + "cháy kho số 3", group=MAY)
    alerts = len(said(bot, "u1"))
    hansol = len(said(bot, HANSOL))
    await say(bot, "u4", MENTION + "xe cứu hỏa tới nơi rồi", group=HANSOL)
    await say(bot, "u4", MENTION + "cong an toi roi", group=HANSOL)
    assert len(said(bot, HANSOL)) == hansol  # plain chat: the bot stays quiet in a group
    assert len(await incidents(bot)) == 1 and len(said(bot, "u1")) == alerts
    assert await timeline(bot, 1) == []

    # In private, with no report of his: no incident, no word of coordinators.
    await say(bot, "u4", "xe cuu hoa toi roi")
    assert len(await incidents(bot)) == 1 and len(said(bot, "u1")) == alerts
    assert not any("điều phối viên" in line or "SV" in line for line in said(bot, "u4"))

    # A fire truck on fire is a fire: a report of its own, and Quân is alerted.
    await say(bot, "u4", MENTION + "cháy xe cứu hỏa ở bãi xe", group=HANSOL)
    truck = (await incidents(bot))[-1]
    assert truck.id == 2 and truck.category == "fire"
    assert "(SV2)" in said(bot, "u1")[-1]


async def test_with_a_fire_and_a_theft_open_the_fire_brigade_joins_the_fire(bot: Bot) -> None:
    await say(bot, "u2", MENTION + "cháy kho số 3", group=MAY)
    bot.clock.advance(timedelta(minutes=2))
    await say(bot, "u3", MENTION + "có trộm ở kho 5", group=MAY)
    assert [i.category for i in await incidents(bot)] == ["fire", "theft"]

    # Quân, on the spot an hour later: the truck joins the fire, the police the newest.
    bot.clock.advance(timedelta(hours=1))
    await say(bot, "u1", MENTION + "xe cứu hỏa đã tới hiện trường", group=MAY)
    assert said(bot, MAY)[-1] == (
        'Đã bổ sung vào sự việc SV1: "xe cứu hỏa đã tới hiện trường". Cảm ơn anh!'
    )
    await say(bot, "u1", MENTION + "công an KCN đã có mặt", group=MAY)
    assert said(bot, MAY)[-1] == 'Đã bổ sung vào sự việc SV2: "công an KCN đã có mặt". Cảm ơn anh!'
    assert await timeline(bot, 1) == [("update", "xe cứu hỏa đã tới hiện trường")]
    assert await timeline(bot, 2) == [("update", "công an KCN đã có mặt")]
    assert len(await incidents(bot)) == 2


async def test_the_reporter_in_private_adds_the_fire_brigade_to_her_group_report(bot: Bot) -> None:
    await say(bot, "u2", "chào bot")
    await say(bot, "u2", MENTION + "cháy kho số 3", group=MAY)
    bot.clock.advance(timedelta(minutes=4))
    await say(bot, "u2", "xe cuu hoa toi noi roi")
    assert said(bot, "u2")[-1] == (
        "Đã bổ sung vào sự việc SV1 (cháy/nổ tại kho 3, chị báo trong nhóm Tổ bảo vệ May Việt "
        'lúc 14:20): "xe cuu hoa toi noi roi". Cảm ơn chị!'
    )
    assert await timeline(bot, 1) == [("detail", "xe cuu hoa toi noi roi")]
    assert len(await incidents(bot)) == 1


async def test_an_old_fire_left_open_does_not_take_the_police_of_the_evening(bot: Bot) -> None:
    await say(bot, "u2", MENTION + "cháy kho số 3", group=MAY)
    bot.clock.advance(timedelta(hours=7))  # nobody closed it
    before = len(said(bot, MAY))
    await say(bot, "u3", MENTION + "công an tới rồi", group=MAY)
    assert await timeline(bot, 1) == [] and len(said(bot, MAY)) == before


# ------------------------------------------------------------------ people in a stuck lift


@pytest.mark.parametrize(
    "words", ["bên trong có 2 người", "ben trong co 2 nguoi", "có người bên trong"]
)
async def test_people_inside_a_stuck_lift_are_trapped_and_quan_is_alerted(
    bot: Bot, words: str
) -> None:
    quan = len(said(bot, "u1"))
    await say(bot, "u2", MENTION + "thang máy nhà B bị kẹt", group=MAY)
    (lift,) = await incidents(bot)
    assert lift.category == "equipment" and lift.severity == "medium" and not lift.urgent
    assert len(said(bot, "u1")) == quan  # a fault: nobody is woken

    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u2", MENTION + words, group=MAY)
    (lift,) = await incidents(bot)
    assert lift.severity == "high" and lift.urgent
    alert = said(bot, "u1")[-1]
    assert alert.startswith("🚨 KHẨN:") and "(SV1)" in alert
    assert "thang máy nhà B bị kẹt" in alert and words in alert
    assert said(bot, MAY)[-1] == (
        f'Đã bổ sung vào sự việc SV1: "{words}". Cảm ơn chị! Bot đã báo khẩn cho anh Quân.'
    )
    (report,) = await reports(bot)
    assert report.severity == "high"
    assert await timeline(bot, 1) == [("detail", words)]


async def test_nobody_inside_or_nothing_stuck_raises_nothing(bot: Bot) -> None:
    # With nothing open, "bên trong có 2 người" is chat.
    quiet = len(said(bot, MAY))
    await say(bot, "u3", MENTION + "bên trong có 2 người", group=MAY)
    assert await incidents(bot) == [] and len(said(bot, MAY)) == quiet

    # A lift stuck empty stays a fault.
    await say(bot, "u2", MENTION + "thang máy nhà B bị kẹt", group=MAY)
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u2", MENTION + "bên trong không có ai", group=MAY)
    (lift,) = await incidents(bot)
    assert lift.severity == "medium" and not lift.urgent
