"""A check-in said twice in a shift: anh Tài "@Bot ANTT điểm danh ca sáng" at 07:02, then a
minute later "@Bot ANTT diem danh". He is told he is already checked in (and when); nothing is
recorded twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.clock import FixedClock
from handlers.texts import engagement as texts
from models.roster import import_roster_csv
from models.tables import CheckIn
from tests.conftest import Bot, text_event

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TUE = datetime(2026, 12, 1, 7, 2, tzinfo=VN)
TEAM = "g-mayviet"
ROSTER = """member_id,name,phone,enterprise,role,groups,title
tai,Đặng Văn Tài,0901000005,May Việt,member,g-mayviet,anh
"""


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
    return bot


async def say(bot: Bot, text: str, *, group: bool) -> None:
    body = text_event(
        f"@Bot ANTT {text}" if group else text,
        sender="tai",
        name="Đặng Văn Tài",
        chat=TEAM if group else "tai",
        group=group,
        at=bot.clock.now(),
    )
    status, _ = await bot.deliver(body)
    assert status == 200
    await bot.drain()


async def checkins(bot: Bot) -> int:
    async with bot.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(CheckIn))).scalar_one())


@pytest.mark.parametrize(
    ("first", "again"),
    [("điểm danh ca sáng", "diem danh"), ("diem danh ca sang", "điểm danh"), ("có mặt", "co mat")],
)
async def test_a_second_roll_call_in_the_group_is_answered_not_recorded(
    team: Bot, first: str, again: str
) -> None:
    await say(team, first, group=True)
    lines = [line.text for line in team.store.bot_lines(TEAM)]
    assert lines == [texts.CHECKIN_OK["attendance"].format(name="anh Tài", time="07:02", you="anh")]
    team.clock.set(datetime(2026, 12, 1, 7, 3, tzinfo=VN))
    await say(team, again, group=True)
    lines = [line.text for line in team.store.bot_lines(TEAM)]
    assert lines[-1] == texts.CHECKIN_AGAIN["attendance"].format(
        name="anh Tài", time="07:02", you="anh"
    )
    assert len(lines) == 2
    assert await checkins(team) == 1


async def test_a_second_shift_start_in_private_says_when(team: Bot) -> None:
    await say(team, "đã vào ca", group=False)
    team.clock.set(datetime(2026, 12, 1, 7, 30, tzinfo=VN))
    await say(team, "da vao ca roi nhe", group=False)
    assert team.store.bot_lines("tai")[-1].text == texts.CHECKIN_AGAIN["shift"].format(
        name="anh Tài", time="07:02", you="anh"
    )
    assert await checkins(team) == 1
