"""Issue 16: stored digest texts are personal data too (they name quiet members) and go with
the `retention` job after `retention.digests_days` (default 365)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handlers.clock import FixedClock
from models.tables import SentDigest
from tests.conftest import Bot, text_event
from tests.engagement_helpers import NAMES, council_settings, import_roster

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=VN)  # after the default Monday 08:00 digest


async def weeks_stored(bot: Bot) -> list[str]:
    async with bot.sessions() as s:
        return list((await s.execute(select(SentDigest.week).order_by(SentDigest.week))).scalars())


async def test_stored_digests_are_purged_after_the_configured_days(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    settings = council_settings(make_settings, db_url, retention={"digests_days": 30})
    bot: Bot = await make_bot(settings, clock=FixedClock(MONDAY - timedelta(days=7)))
    await import_roster(bot, bot.clock.now())
    # Quân (coordinator) has a private chat with the bot, so the digest goes to him.
    body = text_event("xin chào", sender="u1", name=NAMES["u1"], at=bot.clock.now())
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()

    bot.clock.set(MONDAY)
    await bot.runtime.run_job("weekly_digest")
    bot.clock.set(MONDAY + timedelta(days=7))
    await bot.runtime.run_job("weekly_digest")
    assert await weeks_stored(bot) == ["2026-W48", "2026-W49"]

    # 35 days after the first one: it is past 30 days, the second (28 days) is kept.
    bot.clock.set(MONDAY + timedelta(days=35))
    await bot.runtime.run_job("retention")
    assert await weeks_stored(bot) == ["2026-W49"]


def test_the_default_keeps_stored_digests_a_year(make_settings: Any) -> None:
    assert make_settings().retention.digests_days == 365
