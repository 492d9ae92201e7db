"""A member on leave and the notices posted while he is away: not chased, shown apart.

The fire-safety cluster of tests/test_week_firesafety.py: anh Em (May Việt) said on Tuesday
24/11 "em nghỉ phép đến 10/12 ạ"; on Monday 30/11 anh Quân posts the drill notice (TB1).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from handlers.clock import FixedClock
from tests import test_council_week
from tests.conftest import Bot
from tests.fake_zalo import FakeZalo
from tests.test_week_firesafety import DRILL, PCCC, FireWeek, at, cluster_settings, start_week

zalo = test_council_week.zalo  # the fake Zalo server on a real port, as the council week uses


async def drill_week(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, leave: str
) -> FireWeek:
    """Em says `leave` on Tuesday 24/11; six of nine acknowledge the drill on Monday 30/11."""
    settings = cluster_settings(make_settings, db_url, zalo)
    bot: Bot = await make_bot(settings, clock=FixedClock(at("Mon", "08:00") - timedelta(days=7)))
    w = await start_week(bot, zalo, tmp_path, db_url)
    await w.says("em", leave, at("Mon", "09:30") - timedelta(days=6))
    await w.says("quan", "chào bot", at("Mon", "07:30"))
    await w.says("quan", f"/thongbao {DRILL}", at("Mon", "08:00"))
    for who in ("tuan", "lan", "binh", "phuong", "cuong", "hoa"):
        await w.says(who, "đã nhận", at("Mon", "08:30"))
        w.received(who)
    w.received("em"), w.received("quan"), w.received(PCCC)
    return w


async def test_a_member_on_leave_is_not_chased_and_is_listed_apart_in_the_tally(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await drill_week(
        make_bot, make_settings, db_url, zalo, tmp_path, "em nghỉ phép đến 10/12 ạ"
    )
    # 13:00 the reminder round: Dung and Sơn are chased in the group; Em is left alone.
    await w.runs("ack_reminders", at("Mon", "13:00"))
    [chase] = w.received(PCCC)
    assert chase.startswith("⏰ Thông báo TB1 còn 2 đồng chí chưa xác nhận: chị Dung, anh Sơn.")
    assert w.received("em") == []
    # Anh Quân asks how the notice stands: Em is on leave, not behind.
    await w.says("quan", "/thongbao", at("Mon", "15:00"))
    [status] = w.received("quan")
    assert "6/9 đã nhận; chưa nhận: chị Dung, anh Sơn; nghỉ phép: anh Em" in status
    # Tuesday 08:15, past the deadline: the tally names the two behind, and Em apart.
    await w.runs("ack_reminders", at("Tue", "08:15"))
    [tally] = w.received("quan")
    assert tally.startswith("📋 Thông báo TB1 đã hết hạn xác nhận: 6/9 người đã nhận (67%).")
    assert tally.endswith("Chưa nhận: chị Dung, anh Sơn.\n🏖 Nghỉ phép: anh Em · đến 10/12.")
    assert w.received("em") == []


async def test_a_leave_ending_before_the_deadline_is_chased_once_back(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """Leave until Monday 30/11 itself: by the afternoon round he is back, and reminded."""
    w = await drill_week(
        make_bot, make_settings, db_url, zalo, tmp_path, "em nghi phep den 30/11 a"
    )
    await w.says("em", "chào bot", at("Mon", "07:00") - timedelta(days=6))
    w.received("em")
    await w.runs("ack_reminders", at("Tue", "07:45"))
    [reminder] = w.received("em")
    assert reminder.startswith("⏰ Nhắc nhẹ: anh Em chưa xác nhận thông báo TB1")


async def test_a_member_on_leave_who_acknowledges_is_counted_as_anyone(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await drill_week(
        make_bot, make_settings, db_url, zalo, tmp_path, "em nghỉ phép đến 10/12 ạ"
    )
    await w.says("em", "e đã nhận ạ", at("Mon", "20:00"))
    await w.runs("ack_reminders", at("Tue", "08:15"))
    [tally] = w.received("quan")
    assert "7/9 người đã nhận" in tally and "Nghỉ phép" not in tally
