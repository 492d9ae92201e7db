"""A day's absence reads as what it is, the same in every place that shows it.

The fire-safety cluster of tests/test_week_firesafety.py. On Tuesday 24/11 anh Em (May Việt)
said "em nghỉ phép đến 10/12 ạ"; on Sunday evening 29/11 chị Dung (Hansol) wrote "mai em xin
nghỉ" (with and without diacritics): Monday 30/11 only. Notices are due within 8 hours here,
so the drill notice anh Quân posts on Monday at 08:00 (TB1) is owed by 16:00, a window both
are away for. The tally anh Quân gets and the weekly digest (Zalo text, its
dashboard page, its spreadsheet) showed chị Dung as "nghỉ phép · đến 30/11", as if she had
taken leave until then; they now say "vắng 30/11", and keep "đến 10/12" for anh Em's leave.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

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
SUNDAY_BEFORE = at("Sun", "19:00") - timedelta(days=7)  # 29/11


async def the_week(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, text: str
) -> FireWeek:
    settings = cluster_settings(
        make_settings, db_url, zalo, engagement={"holidays": [], "directive_deadline_hours": 8}
    )
    bot: Bot = await make_bot(settings, clock=FixedClock(at("Mon", "08:00") - timedelta(days=7)))
    w = await start_week(bot, zalo, tmp_path, db_url)
    await w.says("em", "em nghỉ phép đến 10/12 ạ", at("Mon", "09:30") - timedelta(days=6))
    await w.says("dung", text, SUNDAY_BEFORE)
    assert w.received("dung") == [
        "Đã ghi nhận chị Dung báo vắng ngày mai (thứ Hai 30/11). Cảm ơn chị đã báo trước."
    ]
    await w.says("quan", "chào bot", at("Mon", "07:30"))
    await w.says("thao", "Chào bot", at("Mon", "07:35"))
    await w.says("quan", f"/thongbao {DRILL}", at("Mon", "08:00"))
    for who in ("tuan", "lan", "binh", "phuong", "cuong", "hoa"):
        await w.says(who, "đã nhận", at("Mon", "08:30"))
    return w


DAY_AWAY = ["mai em xin nghỉ", "mai e xin nghi nha"]


@pytest.mark.parametrize("text", DAY_AWAY)
async def test_the_notice_s_tally_says_vang_for_a_day(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, text: str
) -> None:
    w = await the_week(make_bot, make_settings, db_url, zalo, tmp_path, text)
    w.received("quan")
    # The notice's closing tally, after its deadline.
    await w.runs("ack_reminders", at("Mon", "16:30"))
    [tally] = [line for line in w.received("quan") if "TB1" in line]
    assert "🏖 Nghỉ phép: anh Em · đến 10/12, chị Dung · vắng 30/11." in tally.splitlines(), tally
    assert "đến 30/11" not in tally


@pytest.mark.parametrize("text", DAY_AWAY)
async def test_the_digest_text_page_and_spreadsheet_say_vang_for_a_day(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, text: str
) -> None:
    """Monday evening: chị Dung's day away is most of the week so far, so she is shown away
    ("vắng 30/11"), not quiet; anh Em's leave reads "đến 10/12"."""
    w = await the_week(make_bot, make_settings, db_url, zalo, tmp_path, text)
    await w.says("thao", "/thongke", at("Mon", "20:00"))
    [stats] = w.received("thao")[-1:]
    lines = stats.splitlines()
    assert (
        "🏖 Nghỉ phép (2): Ngô Thị Dung (Hansol) vắng 30/11, Hoàng Văn Em (May Việt) đến 10/12"
        in lines
    ), stats
    assert any(
        line.endswith("; nghỉ phép: Hoàng Văn Em đến 10/12, Ngô Thị Dung vắng 30/11")
        for line in lines
    ), stats
    assert "đến 30/11" not in stats

    w.bot.clock.set(at("Mon", "20:00"))
    await sign_in(w.bot, "0903 000 002")
    page = words(await get_text(w.bot, f"/dashboard/?week={WEEK}"))
    assert "Hoàng Văn Em May Việt đến 10/12" in page and "Ngô Thị Dung Hansol vắng 30/11" in page
    assert "nghỉ phép: Hoàng Văn Em đến 10/12, Ngô Thị Dung vắng 30/11" in page
    assert "đến 30/11" not in page

    xlsx = await w.cli(
        "digest", "--week", WEEK, "--at", at("Mon", "20:00").isoformat(), "--format", "xlsx"
    )
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    rows = list(book["Nghỉ phép"].iter_rows(values_only=True))
    assert rows[0] == ("Mã", "Tên", "Doanh nghiệp", "Đến ngày", "Nghỉ")
    assert sorted(rows[1:]) == [
        ("dung", "Ngô Thị Dung", "Hansol", datetime(2026, 11, 30, 23, 59), "vắng 30/11"),
        ("em", "Hoàng Văn Em", "May Việt", datetime(2026, 12, 10, 23, 59), "đến 10/12"),
    ]
    [_header, drill] = book["Thông báo"].iter_rows(values_only=True)
    assert drill[6] == "Hoàng Văn Em (đến 10/12), Ngô Thị Dung (vắng 30/11)"


async def test_the_notice_page_says_vang_for_a_day(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await the_week(make_bot, make_settings, db_url, zalo, tmp_path, DAY_AWAY[0])
    w.bot.clock.set(at("Mon", "12:00"))
    await sign_in(w.bot, "0903 000 002")
    page = words(await get_text(w.bot, "/dashboard/directives/1"))
    assert "Ngô Thị Dung – vắng 30/11" in page and "Hoàng Văn Em – nghỉ phép đến 10/12" in page


async def test_the_quiet_list_says_vang_for_a_day(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """/chuahoatdong on Tuesday noon: anh Sơn, silent since he said on Monday 23/11 "thứ 3
    tuần sau em xin nghỉ", is away that day only."""
    settings = cluster_settings(make_settings, db_url, zalo)
    bot: Bot = await make_bot(settings, clock=FixedClock(at("Mon", "08:00") - timedelta(days=7)))
    w = await start_week(bot, zalo, tmp_path, db_url)
    await w.says("son", "thứ 3 tuần sau em xin nghỉ", at("Mon", "08:05") - timedelta(days=7))
    assert w.received("son")[-1].startswith("Đã ghi nhận anh Sơn báo vắng")
    await w.says("quan", "chào bot", at("Mon", "07:30"))
    await w.says("quan", "/chuahoatdong", at("Tue", "12:00"))
    quiet = w.received("quan")[-1].splitlines()
    assert "• anh Sơn (Điện Quang) · vắng 01/12" in quiet, "\n".join(quiet)


@pytest.mark.parametrize("text", DAY_AWAY)
async def test_a_day_away_does_not_excuse_a_week_of_silence(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, text: str
) -> None:
    """Sunday evening: chị Dung was away on Monday only and has said nothing all week. The
    week's figures list her as quiet (a day away excuses a day, not a week); anh Em, on leave
    the whole week, stays apart."""
    w = await the_week(make_bot, make_settings, db_url, zalo, tmp_path, text)
    await w.says("thao", "/thongke", at("Sun", "20:00"))
    [stats] = w.received("thao")[-1:]
    lines = stats.splitlines()
    assert "🏖 Nghỉ phép (1): Hoàng Văn Em (May Việt) đến 10/12" in lines, stats
    [quiet] = [line for line in lines if line.startswith("💤")]
    assert "Ngô Thị Dung (Hansol)" in quiet, stats
