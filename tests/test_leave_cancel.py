"""Leave said and unsaid, as members say it.

Anh Nam of May Việt, back in his team's group after a few quiet days: "@Bot ANTT em vẫn đây
ạ, mấy hôm nay em nghỉ ốm" is no absence today; the past days are kept as away (the digest
does not call him quiet for them) and he is wished well. Anh Tài asks privately on Monday
14/12 for tomorrow off, then changes his mind: "à không, mai em vẫn đi làm, hủy giúp em"
withdraws that leave (it used to go to the coordinators as a question)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.clock import FixedClock
from handlers.texts import engagement as texts
from models.leave import leaves_said
from models.roster import import_roster_csv
from models.tables import Member, MemberRequest
from tests.conftest import Bot, text_event

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TUE = datetime(2026, 12, 8, 8, 0, tzinfo=VN)
MON14 = datetime(2026, 12, 14, 8, 0, tzinfo=VN)
TEAM = "g-mayviet"
ROSTER = """member_id,name,phone,enterprise,role,groups,title
quan,Phạm Minh Quân,0901000001,BQL KCN,coordinator,g-mayviet,anh
nam,Hoàng Văn Nam,0901000002,May Việt,member,g-mayviet,anh
tai,Đặng Văn Tài,0901000005,May Việt,member,g-mayviet,anh
"""
NAMES = {"quan": "Phạm Minh Quân", "nam": "Hoàng Văn Nam", "tai": "Đặng Văn Tài"}


@pytest.fixture
async def team(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(
        db=db_url,
        groups=[
            {
                "chat_id": TEAM,
                "name": "Tổ bảo vệ Cty May Việt",
                "kind": "enterprise",
                "enterprise": "May Việt",
            }
        ],
    )
    bot: Bot = await make_bot(settings, clock=FixedClock(TUE))
    async with bot.sessions() as s, s.begin():
        assert (await import_roster_csv(s, ROSTER, TUE)).errors == []
    await say(bot, "quan", "có mặt")
    return bot


async def say(bot: Bot, member: str, text: str, *, group: bool = False) -> None:
    body = text_event(
        f"@Bot ANTT {text}" if group else text,
        sender=member,
        name=NAMES[member],
        chat=TEAM if group else member,
        group=group,
        at=bot.clock.now(),
    )
    status, _ = await bot.deliver(body)
    assert status == 200
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def spans(bot: Bot, member: str) -> list[tuple[datetime, datetime]]:
    async with bot.sessions() as s:
        pk = (await s.execute(select(Member.id).where(Member.member_id == member))).scalar_one()
        found = (await leaves_said(s, VN, [pk])).get(pk, [])
    return sorted((lv.start.astimezone(VN), lv.end.astimezone(VN)) for lv in found)


def day(d: int, month: int = 12) -> datetime:
    return datetime(2026, month, d, tzinfo=VN)


@pytest.mark.parametrize(
    ("text", "days", "first", "last", "wish"),
    [
        ("em vẫn đây ạ, mấy hôm nay em nghỉ ốm", "từ 05/12 đến 07/12", 5, 7, True),
        ("em van day a, may hom nay em nghi om", "từ 05/12 đến 07/12", 5, 7, True),
        ("mấy hôm trước em ốm nên không báo được", "từ 05/12 đến 07/12", 5, 7, True),
        ("may hom truoc em om nen khong bao duoc", "từ 05/12 đến 07/12", 5, 7, True),
        ("tuan truoc em nghi om", "từ 30/11 đến 06/12", 30, 6, True),
        ("tuần trước em nghỉ về quê", "từ 30/11 đến 06/12", 30, 6, False),
        ("hôm qua em nghỉ ốm", "ngày 07/12", 7, 7, True),
    ],
)
async def test_back_from_days_away_is_no_absence_today(
    team: Bot, text: str, days: str, first: int, last: int, wish: bool
) -> None:
    """Said in the group on Tuesday 08/12: the days gone are kept as away, today is not."""
    await say(team, "nam", text, group=True)
    well = texts.BACK_WELL.format(you="anh") if wish else ""
    assert said(team, TEAM)[-1] == texts.BACK_OK.format(
        name="anh Nam", you="anh", days=days, wish=well
    )
    [(start, end)] = await spans(team, "nam")
    assert start == day(first, 11 if first > 20 else 12)
    assert end == day(last).replace(hour=23, minute=59)
    assert not any(s <= TUE < e for s, e in await spans(team, "nam"))


async def requests(bot: Bot) -> int:
    async with bot.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(MemberRequest))).scalar_one())


@pytest.mark.parametrize(
    "undo",
    [
        "à không, mai em vẫn đi làm, hủy giúp em",
        "a khong, mai em van di lam, huy giup em",
        "em hủy nghỉ phép nhé",
        "huy nghi mai",
        "mai em đi làm bình thường, không nghỉ nữa",
    ],
)
async def test_a_leave_taken_back_is_withdrawn(team: Bot, undo: str) -> None:
    team.clock.set(MON14)
    await say(team, "tai", "xin nghỉ phép ngày mai")
    assert said(team, "tai")[-1] == texts.ABSENT_DAY_OK.format(
        name="anh Tài", day="ngày mai (thứ Ba 15/12)", you="anh"
    )
    assert len(await spans(team, "tai")) == 1
    before = said(team, "quan")
    team.clock.set(MON14.replace(minute=5))
    await say(team, "tai", undo)
    assert said(team, "tai")[-1] == texts.LEAVE_WITHDRAWN.format(
        what="báo vắng ngày mai (thứ Ba 15/12)", name="anh Tài", you="anh"
    )
    assert await spans(team, "tai") == []  # tomorrow he is expected as anyone
    assert await requests(team) == 0 and said(team, "quan") == before


async def test_a_leave_taken_back_says_its_days(team: Bot) -> None:
    team.clock.set(MON14)
    await say(team, "tai", "em xin nghỉ từ thứ 4 đến thứ 6")
    await say(team, "tai", "em huy nghi phep nhe")
    assert said(team, "tai")[-1] == texts.LEAVE_WITHDRAWN.format(
        what="lịch nghỉ từ 16/12 đến 18/12", name="anh Tài", you="anh"
    )
    assert await spans(team, "tai") == []


async def test_hủy_with_no_leave_is_not_a_withdrawal(team: Bot) -> None:
    await say(team, "tai", "hủy giúp em")
    assert not any("Đã hủy" in t for t in said(team, "tai"))


async def test_a_new_leave_that_cancels_a_shift_is_a_leave(team: Bot) -> None:
    team.clock.set(MON14)
    await say(team, "tai", "em xin nghỉ thứ 6")
    await say(team, "tai", "em xin nghỉ phép ngày mai, hủy ca trực giúp em")
    assert said(team, "tai")[-1].startswith("Đã ghi nhận anh Tài báo vắng ngày mai")
    assert len(await spans(team, "tai")) == 2


@pytest.mark.parametrize("other", ["hủy báo cháy, em nhầm", "huy bao chay em nham"])
async def test_cancelling_something_else_keeps_the_leave(team: Bot, other: str) -> None:
    team.clock.set(MON14)
    await say(team, "tai", "xin nghỉ phép ngày mai")
    await say(team, "tai", other)
    assert not any("Đã hủy báo vắng" in t for t in said(team, "tai"))
    assert len(await spans(team, "tai")) == 1
