"""The Vietnamese calendar (issue 18.4): Tết and the other public holidays from the `holidays`
package plus the configured bridge days silence everything but urgent alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from handlers.clock import FixedClock
from handlers.config import Settings
from handlers.digest import build_digest
from tests.conftest import Bot, text_event
from tests.engagement_helpers import NAMES, council_settings, import_roster

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BEFORE_TET = datetime(2027, 1, 28, 9, 0, tzinfo=VN)  # a Thursday, everyone checks in
TET = datetime(2027, 2, 6, 10, 0, tzinfo=VN)  # mùng 1 Tết Đinh Mùi, a Saturday
BRIDGE = datetime(2027, 2, 11, 10, 0, tzinfo=VN)  # a configured bridge day (Thursday)
BACK = datetime(2027, 2, 12, 10, 0, tzinfo=VN)  # Friday: the first working day


@pytest.fixture
async def council(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = council_settings(
        make_settings,
        db_url,
        engagement={"extra_holidays": ["2027-02-11"]},
    )
    bot: Bot = await make_bot(settings, clock=FixedClock(BEFORE_TET))
    await import_roster(bot, BEFORE_TET)
    return bot


async def say(bot: Bot, member: str, text: str) -> None:
    body = text_event(text, sender=member, name=NAMES[member], at=bot.clock.now())
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()


async def test_nothing_non_urgent_on_tet_but_a_fire_alert_goes(council: Bot) -> None:
    for member in ("u1", "u2", "u3", "u5"):  # private chats with the bot become known
        await say(council, member, "có mặt")
    council.clock.set(TET)
    assert (await council.runtime.run_job("nudges")).queued == 0
    await say(council, "u3", "Cháy lớn ở kho 3, cần hỗ trợ gấp!!!")
    alerts = [x.text for x in council.store.bot_lines("u1") if "KHẨN" in x.text]
    assert len(alerts) == 1 and "kho 3" in alerts[0]  # the coordinator hears it at once
    assert not any("tương tác" in x.text for m in NAMES for x in council.store.bot_lines(m))
    council.clock.set(BRIDGE)  # engagement.extra_holidays: still nothing
    assert (await council.runtime.run_job("nudges")).queued == 0
    council.clock.set(BACK)
    assert (await council.runtime.run_job("nudges")).queued > 0


async def test_the_digest_notes_a_holiday_week(council: Bot) -> None:
    async with council.sessions() as session:
        tet_week = await build_digest(session, council.runtime.settings, "2027-W05", BACK)
        plain_week = await build_digest(session, council.runtime.settings, "2027-W03", BACK)
    text = tet_week.render_text()
    assert "Tuần có ngày nghỉ lễ" in text and "06/02 Tết Nguyên Đán" in text
    assert "nghỉ lễ" not in plain_week.render_text()


def test_a_bad_bridge_day_names_its_key(make_settings: Any) -> None:
    with pytest.raises(ValidationError, match="extra_holidays"):
        Settings.model_validate(
            {"platform": {"kind": "local"}, "engagement": {"extra_holidays": ["6/2/2027"]}}
        )
