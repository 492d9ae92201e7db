"""A member on leave and the notices posted while he is away: not chased, shown apart.

The fire-safety cluster of tests/test_week_firesafety.py: anh Em (May Việt) said on Tuesday
24/11 "em nghỉ phép đến 10/12 ạ"; on Monday 30/11 anh Quân posts the drill notice (TB1).
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl

from handlers.clock import FixedClock
from tests import test_council_week
from tests.conftest import Bot
from tests.fake_zalo import FakeZalo
from tests.test_week_firesafety import (
    DRILL,
    PCCC,
    WEEK,
    FireWeek,
    at,
    cluster_settings,
    get_text,
    sign_in,
    start_week,
    words,
)

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
    # Anh Quân asks how the notice stands: Em is on leave, neither behind nor counted.
    await w.says("quan", "/thongbao", at("Mon", "15:00"))
    [status] = w.received("quan")
    assert "6/8 đã nhận (1 nghỉ phép); chưa nhận: chị Dung, anh Sơn; nghỉ phép: anh Em" in status
    # Tuesday 08:15, past the deadline: the tally names the two behind, and Em apart.
    await w.runs("ack_reminders", at("Tue", "08:15"))
    [tally] = w.received("quan")
    assert tally.startswith(
        "📋 Thông báo TB1 đã hết hạn xác nhận: 6/8 người đã nhận (75%, 1 nghỉ phép)."
    )
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


async def five_of_nine(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> FireWeek:
    """Em on leave until 10/12; five acknowledge the drill as phones type it, Dung, Hoa and
    Sơn stay silent (none of the three ever wrote to the bot privately)."""
    settings = cluster_settings(make_settings, db_url, zalo)
    bot: Bot = await make_bot(settings, clock=FixedClock(at("Mon", "08:00") - timedelta(days=7)))
    w = await start_week(bot, zalo, tmp_path, db_url)
    await w.says("em", "em nghỉ phép đến 10/12 ạ", at("Mon", "09:30") - timedelta(days=6))
    await w.says("quan", "chào bot", at("Mon", "07:30"))
    await w.says("thao", "Chào bot", at("Mon", "07:35"))
    w.received("quan")
    await w.says("quan", f"/thongbao {DRILL}", at("Mon", "08:00"))
    assert w.received("quan") == [
        "Đã gửi thông báo TB1 tới Cụm an toàn PCCC số 2. Cần 8 người xác nhận (1 nghỉ phép)"
        " trước 08:00 01/12."
    ]
    tb1 = await w.message_id(PCCC, "THÔNG BÁO TB1")
    await w.says("tuan", "da nhan", at("Mon", "08:05"))
    await w.says("lan", "đã nhận ạ", at("Mon", "08:12"))
    await w.says("binh", "Đã nhận", at("Mon", "08:15"), group=PCCC, quote=tb1)
    await w.says("phuong", "e đã nhận ạ", at("Mon", "08:20"))
    await w.says("cuong", "da nhan a", at("Mon", "08:30"))
    for who in ("tuan", "lan", "binh", "phuong", "cuong", "em", "quan", "thao", PCCC):
        w.received(who)
    return w


async def test_a_tally_counts_over_those_expected_to_answer_not_the_member_on_leave(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """9 owed, 5 acknowledged, Em on leave the whole window, 3 silent: every tally says 5/8
    with Em apart, so nobody reads 4 people missing (docs/acks-and-budget.md)."""
    w = await five_of_nine(make_bot, make_settings, db_url, zalo, tmp_path)
    # 13:00 the group chase names the three behind, never Em.
    await w.runs("ack_reminders", at("Mon", "13:00"))
    [chase] = w.received(PCCC)
    assert chase.startswith("⏰ Thông báo TB1 còn 3 đồng chí chưa xác nhận: ")
    assert "Em" not in chase
    # Anh Quân asks how the notice stands.
    await w.says("quan", "/thongbao", at("Mon", "15:00"))
    [status] = w.received("quan")
    assert "5/8 đã nhận (1 nghỉ phép); chưa nhận: " in status
    assert status.endswith("; nghỉ phép: anh Em")
    # Tuesday 07:30, the coordinators' daily summary: the notice still lacks three.
    await w.runs("daily_summary", at("Tue", "07:30"))
    [summary] = w.received("quan")
    assert "”: 5/8 đã xác nhận (1 nghỉ phép), hạn 08:00 01/12" in summary
    w.received("thao")
    # Tuesday 08:15, the deadline past: the closing tally, per enterprise the same rule.
    await w.runs("ack_reminders", at("Tue", "08:15"))
    [tally] = w.received("quan")
    assert tally.startswith(
        "📋 Thông báo TB1 đã hết hạn xác nhận: 5/8 người đã nhận (63%, 1 nghỉ phép).\n"
    )
    assert "• May Việt: 2/2 (1 nghỉ phép)\n" in tally and "• Điện Quang: 1/3\n" in tally
    assert tally.endswith("\n🏖 Nghỉ phép: anh Em · đến 10/12.")
    # Sunday evening: the week in Zalo.
    await w.says("thao", "/thongke", at("Sun", "20:00"))
    [stats] = w.received("thao")
    assert "📣 1 thông báo · đã xác nhận 5/8 (63%, 1 nghỉ phép)\n" in stats
    # The dashboard: the notice list, the notice's page and the week's page.
    await sign_in(w.bot, "0903 000 002")
    listing = words(await get_text(w.bot, "/dashboard/directives"))
    assert "đã xác nhận 5/8 (63%, 1 nghỉ phép)" in listing
    assert "Nghỉ phép Hoàng Văn Em đến 10/12" in listing
    assert "Chưa xác nhận Bùi Thị Hoa, Ngô Thị Dung, Vũ Văn Sơn" in listing
    page = words(await get_text(w.bot, "/dashboard/directives/1"))
    assert "Thông báo TB1 đã xác nhận 5/8 (63%, 1 nghỉ phép)" in page
    assert "May Việt 2/2 (1 nghỉ phép)" in page
    assert "Hoàng Văn Em – nghỉ phép đến 10/12" in page
    week = words(await get_text(w.bot, f"/dashboard/?week={WEEK}"))
    assert "5/8 xác nhận 1 thông báo (63%, 1 nghỉ phép)" in week
    # The spreadsheet: the same denominator, the leave in its own column.
    xlsx = await w.cli(
        "digest", "--week", WEEK, "--at", at("Sun", "20:00").isoformat(), "--format", "xlsx"
    )
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    figures = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(values_only=True)}
    assert (figures["Đã xác nhận"], figures["Cần xác nhận"]) == (5, 8)
    assert figures["Nghỉ phép (không tính)"] == 1 and figures["Tỉ lệ xác nhận"] == 0.625
    [_h, drill] = book["Thông báo"].iter_rows(values_only=True)
    assert drill[2:5] == (5, 8, "Bùi Thị Hoa, Ngô Thị Dung, Vũ Văn Sơn")
    assert drill[6] == "Hoàng Văn Em (đến 10/12)"
    # The JSON the province and the scripts read.
    data = json.loads(
        await w.cli(
            "digest", "--week", WEEK, "--at", at("Sun", "20:00").isoformat(), "--format", "json"
        )
    )
    assert {k: data["totals"][k] for k in ("acks", "expected_acks", "acks_on_leave")} == {
        "acks": 5,
        "expected_acks": 8,
        "acks_on_leave": 1,
    }
    assert data["totals"]["ack_rate"] == 0.625


async def test_a_leave_ending_inside_the_window_counts_him_as_anyone(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """Leave until Monday 30/11 itself, back before the deadline and acknowledging on
    Tuesday morning: he was expected to answer, and did: 7/9, nobody apart."""
    w = await drill_week(
        make_bot, make_settings, db_url, zalo, tmp_path, "em nghi phep den 30/11 a"
    )
    await w.says("em", "da nhan a", at("Tue", "07:30"))
    await w.runs("ack_reminders", at("Tue", "08:15"))
    [tally] = w.received("quan")
    assert tally.startswith("📋 Thông báo TB1 đã hết hạn xác nhận: 7/9 người đã nhận (78%).\n")
    assert "Nghỉ phép" not in tally
