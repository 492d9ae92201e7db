"""Asking is not reporting: how to report a fire, how an accident went.

Monday 07/12/2026, 08:14 in Hanoi. Chị Lan (May Việt) asks the bot privately who to call first
when there is a fire; anh Quân coordinates. Before, "chi oi cho em hoi, quy trinh bao chay o
xuong minh la goi ai truoc a" asked her "Chị báo CHÁY/NỔ phải không?" and, unanswered, woke
anh Quân with a fire alert three minutes later; typed with marks it alerted him at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.clock import FixedClock
from handlers.parse import parse
from models.roster import import_roster_csv
from models.tables import Incident, MemberRequest
from tests.conftest import Bot, member_says
from tests.engagement_helpers import GROUPS

MORNING = datetime(2026, 12, 7, 1, 14, tzinfo=UTC)  # 08:14 Monday in Hanoi
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Trần Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;gmayviet,anh
u2,Nguyễn Thị Lan,0901000002,May Việt,member,gcouncil;gmayviet,chị
"""
ASKS = [
    "chi oi cho em hoi, quy trinh bao chay o xuong minh la goi ai truoc a",
    "chị ơi cho em hỏi, quy trình báo cháy ở xưởng mình là gọi ai trước ạ",
    "cho em hỏi số báo cháy là số nào ạ",
]


@pytest.mark.parametrize("text", [*ASKS, "anh ơi ai trực ca 3 vậy", "xin hỏi mẫu sổ trực ở đâu"])
def test_asking_is_a_question(text: str) -> None:
    assert parse(text, MORNING).type == "question"


@pytest.mark.parametrize(
    "text",
    ["cháy kho 2, gọi số báo cháy 114 ngay", "chị ơi cháy xưởng 2 rồi", "bao chay o xuong 2"],
)
def test_a_fire_stays_a_fire(text: str) -> None:
    parsed = parse(text, MORNING)
    assert (parsed.type, parsed.category) == ("incident", "fire")


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    b: Bot = await make_bot(make_settings(db=db_url, groups=GROUPS), clock=FixedClock(MORNING))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, MORNING)).errors == []
    await member_says(b, "u1", "Trần Minh Quân", "chào bot", None, "")
    return b


@pytest.mark.parametrize("text", ASKS[:2])
async def test_her_question_reaches_quan_as_a_question_not_an_alarm(bot: Bot, text: str) -> None:
    heard = len(bot.store.bot_lines("u1"))
    await member_says(bot, "u2", "Nguyễn Thị Lan", text, None, "")
    bot.clock.advance(timedelta(minutes=5))  # past any "asked first" hold
    await bot.runtime.run_job("incident_escalation")
    await bot.drain()
    to_her = [line.text for line in bot.store.bot_lines("u2")]
    assert not any("CHÁY" in t for t in to_her)
    assert "(YC1)" in to_her[-1]
    to_him = [line.text for line in bot.store.bot_lines("u1")][heard:]
    assert len(to_him) == 1 and to_him[0].startswith("❓ YC1: chị Lan")
    async with bot.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Incident)) == 0
        assert await s.scalar(select(func.count()).select_from(MemberRequest)) == 1


@pytest.mark.parametrize(
    "text",
    ["anh ơi vụ tai nạn ở cổng 2 xử lý sao rồi", "vu tai nan o cong 2 xu ly sao roi a"],
)
def test_asking_how_an_accident_went_opens_no_accident(text: str) -> None:
    """It was filed as a new traffic incident at gate 2 (SV1), from a question about one."""
    assert parse(text, MORNING).type == "question"


@pytest.mark.parametrize("text", ["không sao rồi anh", "ko sao roi", "tình hình ổn rồi"])
def test_all_is_well_is_no_question(text: str) -> None:
    assert parse(text, MORNING).type == "all_clear"


def test_the_store_named_again_by_its_kind_is_one_place() -> None:
    """ "Nơi: kho 3, kho" was shown: the bare "kho" after "kho 3" names no other place."""
    text = "kho 3 bị dột nước mưa, ướt mấy cuộn vải, em đã báo bộ phận kho"
    assert [p.text for p in parse(text, MORNING).places] == ["kho 3"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("cháy ở xưởng may, khói nhiều", "xưởng may"),
        ("xuong co khi 3 co nguoi bi thuong", "xưởng cơ khí 3"),
        ("cháy xưởng 2", "xưởng 2"),
    ],
)
def test_a_workshop_keeps_what_it_does_in_its_name(text: str, shown: str) -> None:
    """ "Nơi: xưởng" was shown for "xưởng may": what a workshop does is its name, as a
    store's goods are ("kho thành phẩm")."""
    assert [p.text for p in parse(text, MORNING).places] == [shown]
