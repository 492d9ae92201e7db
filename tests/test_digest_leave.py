"""Who is on leave, in the week's digest, its dashboard page and its spreadsheet alike.

The fire-safety cluster of tests/test_week_firesafety.py: anh Em (May Việt) said on Tuesday
24/11 "em nghỉ phép đến 10/12 ạ"; the drill notice of Monday 30/11 (TB1) was acknowledged
by six of nine; on Sunday evening the coordinators read the week.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl

from handlers.clock import FixedClock
from tests import test_council_week
from tests.conftest import Bot
from tests.fake_zalo import FakeZalo
from tests.test_week_firesafety import (
    DRILL,
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


async def read_week(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> FireWeek:
    settings = cluster_settings(make_settings, db_url, zalo)
    bot: Bot = await make_bot(settings, clock=FixedClock(at("Mon", "08:00") - timedelta(days=7)))
    w = await start_week(bot, zalo, tmp_path, db_url)
    await w.says("em", "em nghỉ phép đến 10/12 ạ", at("Mon", "09:30") - timedelta(days=6))
    await w.says("quan", "chào bot", at("Mon", "07:30"))
    await w.says("thao", "Chào bot", at("Mon", "07:35"))
    await w.says("quan", f"/thongbao {DRILL}", at("Mon", "08:00"))
    for who in ("tuan", "lan", "binh", "phuong", "cuong", "hoa"):
        await w.says(who, "đã nhận", at("Mon", "08:30"))
    await w.runs("ack_reminders", at("Tue", "08:15"))
    w.received("thao")
    return w


PENDING = (
    "📌 Thông báo “Thông báo: 14h thứ Năm 3/12 diễn tập…” còn 2 người chưa xác nhận:"
    " Ngô Thị Dung, Vũ Văn Sơn; nghỉ phép: Hoàng Văn Em đến 10/12"
)


async def test_the_zalo_digest_shows_the_notice_owed_apart_from_the_leave(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await read_week(make_bot, make_settings, db_url, zalo, tmp_path)
    await w.says("thao", "/thongke", at("Sun", "20:00"))
    [stats] = w.received("thao")
    assert PENDING in stats.splitlines()
    assert "🏖 Nghỉ phép (1): Hoàng Văn Em (May Việt) đến 10/12" in stats.splitlines()


async def test_the_dashboard_digest_page_lists_who_is_on_leave(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await read_week(make_bot, make_settings, db_url, zalo, tmp_path)
    w.bot.clock.set(at("Sun", "20:00"))
    await sign_in(w.bot, "0903 000 002")
    page = words(await get_text(w.bot, f"/dashboard/?week={WEEK}"))
    assert "🏖 Đang nghỉ phép (1) Tên Doanh nghiệp Nghỉ Hoàng Văn Em May Việt đến 10/12" in page
    assert "(6/8): chưa xác nhận Ngô Thị Dung, Vũ Văn Sơn; nghỉ phép: Hoàng Văn Em đến 10/12" in (
        page
    )


async def test_the_spreadsheet_lists_who_is_on_leave(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await read_week(make_bot, make_settings, db_url, zalo, tmp_path)
    xlsx = await w.cli(
        "digest", "--week", WEEK, "--at", at("Sun", "20:00").isoformat(), "--format", "xlsx"
    )
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert list(book["Nghỉ phép"].iter_rows(values_only=True)) == [
        ("Mã", "Tên", "Doanh nghiệp", "Đến ngày", "Nghỉ"),
        ("em", "Hoàng Văn Em", "May Việt", datetime(2026, 12, 10, 23, 59), "đến 10/12"),
    ]
    [header, drill] = book["Thông báo"].iter_rows(values_only=True)
    assert (header[3], header[4], header[6]) == (
        "Cần xác nhận",
        "Chưa xác nhận",
        "Nghỉ phép (không tính)",
    )
    assert (drill[3], drill[4], drill[6]) == (
        8,
        "Ngô Thị Dung, Vũ Văn Sơn",
        "Hoàng Văn Em (đến 10/12)",
    )
