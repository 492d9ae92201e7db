"""Shifts and night patrols as a council lives them: a patrol is counted for its shift, a night
shift with no patrol reminds whoever was on duty (or the lead) once, after quiet hours, and
counts as missed in the digest; a patrol in time reminds nobody. Through the real webhook,
processor and sender (local platform), a real database and a movable clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from handlers.clock import FixedClock
from handlers.digest import build_digest
from models.tables import Member
from tests.conftest import Bot, text_event
from tests.engagement_helpers import NAMES, council_settings, import_roster

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SHIFTS = {
    "Điện Quang": [
        {"name": "ca 1", "start": "06:00", "end": "14:00"},
        {"name": "ca 2", "start": "14:00", "end": "22:00"},
        {"name": "ca 3", "start": "22:00", "end": "06:00"},
    ]
}
MISSED = "ca 3 (22:00-06:00 ngày {day}) của Điện Quang chưa có báo cáo tuần tra"


def local(d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12 if d < 20 else 11, d, hh, mm, tzinfo=VN)


@pytest.fixture
async def council(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = council_settings(
        make_settings, db_url, shifts=SHIFTS, patrols={"expected_per_shift": 1}
    )
    bot: Bot = await make_bot(settings, clock=FixedClock(local(30, 8)))
    await import_roster(bot, bot.clock.now())
    async with bot.sessions() as s, s.begin():  # Kim leads Điện Quang's guards
        await s.execute(update(Member).where(Member.member_id == "u10").values(is_lead=True))
    for m in ("u8", "u9", "u10"):  # Điện Quang's guards open a private chat with the bot
        await say(bot, m, "có mặt")
    return bot


async def say(bot: Bot, member: str, text: str) -> None:
    body = text_event(text, sender=member, name=NAMES[member], at=bot.clock.now())
    status, _ = await bot.deliver(body)
    assert status == 200
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def run(bot: Bot, at: datetime) -> int:
    bot.clock.set(at)
    queued = (await bot.runtime.run_job("patrols")).queued
    await bot.drain()
    return queued


async def test_a_missed_night_patrol_is_reminded_once_and_counted(council: Bot) -> None:
    council.clock.set(local(1, 15))
    await say(council, "u9", "tuần tra khu B, bình thường")  # ca 2 of 1/12 is patrolled
    assert said(council, "u9")[-1].endswith("Lượt tuần tra này tính cho ca 2.")
    council.clock.set(local(1, 21, 50))
    await say(council, "u8", "đã vào ca")  # Hoa takes the night shift, then no patrol
    assert await run(council, local(2, 6, 15)) == 0  # quiet hours: deferred, not dropped
    assert await run(council, local(2, 7)) == 1
    assert await run(council, local(2, 7, 15)) == 0  # once
    assert await run(council, local(2, 9)) == 0
    reminders = [t for t in said(council, "u8") if MISSED.format(day="01/12") in t]
    assert len(reminders) == 1 and reminders[0].startswith("Chào anh/chị Hoa,")
    # Inh was not on duty that night and Kim, the lead, is not needed: Hoa was there.
    assert not any(
        "chưa có báo cáo tuần tra" in t for t in said(council, "u9") + said(council, "u10")
    )

    settings = council.runtime.settings
    async with council.sessions() as s:
        digest = await build_digest(s, settings, "2026-W49", local(2, 8))
    # Shifts ended by 08:00 on 2/12, from Monday 30/11: six; one patrolled.
    assert digest.to_json()["patrols"] == [
        {"enterprise": "Điện Quang", "expected": 6, "done": 1, "missed": 5}
    ]
    assert "🚶 Tuần tra theo ca: 1/6 lượt, 5 ca thiếu tuần tra (Điện Quang 5)." in (
        digest.render_text()
    )
    assert "Tuần tra theo ca" not in digest.render_text(public=True)


async def test_a_patrol_in_time_reminds_nobody_and_the_lead_covers_an_empty_night(
    council: Bot,
) -> None:
    council.clock.set(local(1, 21, 50))
    await say(council, "u8", "đã vào ca")
    council.clock.set(local(2, 2))
    await say(council, "u8", "tuần tra nhà xe, bình thường")
    assert said(council, "u8")[-1].endswith("Lượt tuần tra này tính cho ca 3.")
    assert await run(council, local(2, 7)) == 0
    # The next night nobody checked in and nobody patrolled: the lead is asked, politely.
    assert await run(council, local(3, 7)) == 1
    assert await run(council, local(3, 8)) == 0
    assert not any("chưa có báo cáo tuần tra" in t for t in said(council, "u8"))
    (note,) = [t for t in said(council, "u10") if "chưa có báo cáo tuần tra" in t]
    assert MISSED.format(day="02/12") in note and note.startswith("Chào anh/chị Kim,")


async def test_no_shifts_no_reminders(make_bot: Any, make_settings: Any, db_url: str) -> None:
    bot: Bot = await make_bot(
        council_settings(make_settings, db_url), clock=FixedClock(local(2, 7))
    )
    assert (await bot.runtime.run_job("patrols")).queued == 0
    bot.clock.advance(timedelta(days=1))
    assert (await bot.runtime.run_job("patrols")).queued == 0


def test_a_bad_shift_is_named(make_settings: Any) -> None:
    from handlers.config import ConfigError

    bad = {"Điện Quang": [{"name": "ca 3", "start": "22:00", "end": "30:00"}]}
    with pytest.raises(ConfigError, match=r"shifts.*end|30:00"):
        make_settings(shifts=bad)


async def test_a_broken_camera_is_listed_in_thongke_until_fixed(council: Bot) -> None:
    council.clock.set(local(1, 9))
    await say(council, "u9", "camera cổng 2 mất tín hiệu")
    council.clock.advance(timedelta(hours=1))
    await say(council, "u1", "/thongke")
    assert said(council, "u1")[-1].endswith(
        "📷 1 camera chưa sửa xong: camera cổng 2 (SV1, từ 01/12)."
    )
    await say(council, "u1", "/xong SV1 đã thay bộ nguồn")
    await say(council, "u1", "/thongke")
    assert said(council, "u1")[-2].startswith("Đã đóng sự việc SV1")
    assert "camera chưa sửa xong" not in said(council, "u1")[-1]
