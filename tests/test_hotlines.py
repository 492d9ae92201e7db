"""Emergency numbers at once, at any hour (docs/requests.md, "Emergency numbers").

Anh Cường asks the bot for the fire brigade's number at two in the morning: before, his
question went to the coordinators and waited for the morning. The country's numbers are
answered at once; the park's own come from `contacts`; one the bot does not have is passed
on, with the country's numbers given meanwhile. A fire with a place is still a fire."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.clock import FixedClock
from handlers.config import ConfigError, load_settings
from models.tables import Incident, MemberRequest
from tests.conftest import Bot
from tests.engagement_helpers import GROUPS, MAY, import_roster, said, say

VN = ZoneInfo("Asia/Ho_Chi_Minh")
QUAN, CUONG = "u1", "u3"
NIGHT = datetime(2026, 12, 8, 2, 10, tzinfo=VN)
CONTACTS = [{"name": "Công an KCN", "phone": "0274 3812 113"}]

NATIONAL = "• Báo cháy, cứu nạn cứu hộ: 114\n• Công an: 113\n• Cấp cứu: 115"


@pytest.fixture
async def council(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(db=db_url, groups=GROUPS, contacts=CONTACTS)
    bot: Bot = await make_bot(settings, clock=FixedClock(NIGHT))
    await import_roster(bot, datetime(2026, 12, 7, 7, tzinfo=VN))
    return bot


async def count(bot: Bot, model: Any) -> int:
    async with bot.sessions() as s:
        return int(await s.scalar(select(func.count(model.id))) or 0)


@pytest.mark.parametrize(
    "ask",
    [
        "số điện thoại báo cháy là số nào",
        "so dien thoai bao chay la so nao",
        "so cuu hoa la bao nhieu",
        "sdt cấp cứu",
        "gọi số nào để báo cháy?",
        "số điện thoại báo cháy là 114 phải không",
    ],
)
async def test_the_countrys_numbers_at_two_in_the_morning(council: Bot, ask: str) -> None:
    quan = len(said(council, QUAN))
    await say(council, CUONG, ask)
    answer = said(council, CUONG)[-1]
    assert answer == "📞 Số điện thoại khẩn cấp:\n• Công an KCN: 0274 3812 113\n" + NATIONAL or (
        answer == "📞 Số điện thoại khẩn cấp:\n" + NATIONAL
    ), answer
    assert "114" in answer and "115" in answer
    assert await count(council, MemberRequest) == 0  # nobody woken, nothing left waiting
    assert await count(council, Incident) == 0  # a question, not a fire
    assert len(said(council, QUAN)) == quan


@pytest.mark.parametrize(
    "ask", ["số điện thoại công an KCN là bao nhiêu", "cho em xin sdt cong an kcn"]
)
async def test_the_parks_own_number_comes_from_the_configuration(council: Bot, ask: str) -> None:
    await say(council, CUONG, ask, chat=MAY)
    answer = said(council, MAY)[-1]
    assert answer.startswith("📞 Số điện thoại khẩn cấp:\n• Công an KCN: 0274 3812 113\n")
    assert await count(council, MemberRequest) == 0


async def test_a_number_the_bot_lacks_is_passed_on(council: Bot) -> None:
    await say(council, CUONG, "cho em xin số trạm y tế phường")
    assert said(council, CUONG)[-2] == "📞 Số điện thoại khẩn cấp:\n" + NATIONAL
    assert "YC1" in said(council, CUONG)[-1]
    assert await count(council, MemberRequest) == 1


async def test_a_fire_with_its_place_is_still_a_fire(council: Bot) -> None:
    await say(council, CUONG, "cháy ở xưởng 2 gọi số nào")
    assert await count(council, Incident) == 1
    assert not said(council, CUONG)[-1].startswith("📞")


def test_a_bad_contact_is_named(tmp_path: Any) -> None:
    path = tmp_path / "config.yaml"
    path.write_text('contacts:\n  - name: "Công an KCN"\n    phone: "gọi anh Tuấn"\n')
    with pytest.raises(ConfigError, match="contacts"):
        load_settings(path, environ={})


@pytest.mark.parametrize(
    "words",
    [
        "số người bị thương bao nhiêu, đã gọi cấp cứu chưa?",
        "công an tới chưa anh?",
        "kho số 3 có cần gọi cứu hỏa không?",
    ],
)
async def test_other_questions_are_not_taken_for_a_number(council: Bot, words: str) -> None:
    await say(council, CUONG, words)
    assert not any(line.startswith("📞") for line in said(council, CUONG))
