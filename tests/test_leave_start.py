"""A leave asked for ahead starts when it says: before then the member is as anyone.

The council week's cast (tests/council_week_cast.py), Monday 30/11/2026. Chị Lan (May Việt)
writes the bot privately on Monday morning "em xin phép nghỉ từ thứ 4 đến thứ 6 tuần này để
về quê có việc", typed with and without diacritics. The leave was kept from Monday: her task
due Tuesday was not reminded, the notice posted Monday not chased, and she was told "nghỉ đến
04/12" as if from that day.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import test_council_week
from tests.council_week_cast import at
from tests.fake_zalo import FakeZalo
from tests.test_council_jobs import council_week, runs_every

zalo = test_council_week.zalo  # the fake Zalo server on a real port, as the week uses

WED_TO_FRI = [
    "em xin phép nghỉ từ thứ 4 đến thứ 6 tuần này để về quê có việc",
    "em xin phep nghi tu thu 4 den thu 6 tuan nay de ve que co viec",
]


@pytest.mark.parametrize("text", WED_TO_FRI)
async def test_a_leave_from_wednesday_leaves_monday_and_tuesday_as_any_day(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, text: str
) -> None:
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    for who in ("quan", "lan"):
        await w.says(who, "có mặt", at("Mon", "07:00"))
    await w.says(
        "quan", "/giaoviec @Lan rà soát bình chữa cháy kho 2 han thứ 3 17h", at("Mon", "08:00")
    )
    await w.says("quan", "/thongbao Kiểm tra đèn chiếu sáng hàng rào", at("Mon", "08:10"))
    for who in ("quan", "lan"):
        w.received(who)
    await w.says("lan", text, at("Mon", "09:00"))
    assert w.received("lan") == [
        "Đã ghi nhận chị Lan nghỉ từ 02/12 đến 04/12. Cảm ơn chị đã báo trước."
    ]
    # Monday 13:00: the notice's reminder round chases her, as anyone who owes it.
    await w.runs("ack_reminders", at("Mon", "13:00"))
    [chase] = w.received("lan")
    assert chase.startswith("⏰ Nhắc nhẹ: chị Lan chưa xác nhận thông báo TB1")
    # Her task: reminded Tuesday, told it is overdue Tuesday 17:00 (she is still here);
    # from Wednesday she is away, so anh Quân hears it at once and she is left alone.
    got = await runs_every(
        w, "task_reminders", at("Mon", "09:30"), at("Fri", "12:00"), ("quan", "lan")
    )
    assert got == [
        (at("Tue", "07:00"), "lan", (
            "⏰ Nhắc việc CV1: rà soát bình chữa cháy kho 2. Hạn 17:00 01/12. Chị Lan làm xong"
            " nhắn /xong CV1 giúp bot nhé!"
        )),
        (at("Tue", "17:00"), "lan", (
            "⚠️ Việc CV1 đã quá hạn (17:00 01/12): rà soát bình chữa cháy kho 2. Chị Lan làm"
            " xong nhắn /xong CV1 giúp bot nhé!"
        )),
        (at("Wed", "07:00"), "quan", (
            "⚠️ Việc CV1 giao cho chị Lê Thị Lan đã quá hạn từ 17:00 01/12: rà soát bình chữa"
            " cháy kho 2. Chị Lan đang nghỉ phép đến 04/12 nên bot không nhắc; anh cân nhắc"
            " giao lại cho người khác."
        )),
    ]  # fmt: skip


async def test_a_leave_next_week_does_not_excuse_this_weeks_silence(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """Lan asks on Monday 30/11 for 10/12 to 12/12, then says nothing. On Tuesday 8/12 she
    has been silent a week and is nudged as anyone; during her leave she is not."""
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    await w.says("lan", "e xin nghi phep tu ngay 10/12 den 12/12 a", at("Mon", "07:00"))
    assert w.received("lan") == [
        "Đã ghi nhận chị Lan nghỉ từ 10/12 đến 12/12. Cảm ơn chị đã báo trước."
    ]
    week = timedelta(days=7)
    await w.runs("nudges", at("Tue", "09:00") + week)  # 8/12, silent since 30/11
    assert "bot chưa thấy chị tương tác" in w.received("lan")[-1]
    # /chuahoatdong on 8/12 lists her as quiet, not as on leave (it has not begun).
    await w.says("quan", "/chuahoatdong", at("Tue", "09:30") + week)
    [quiet] = w.received("quan")
    assert "chị Lan" in quiet and "nghỉ phép" not in quiet, quiet


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("mai em xin nghỉ 3 ngày", "nghỉ từ 01/12 đến 03/12"),
        ("mai e xin nghi 3 ngay a", "nghỉ từ 01/12 đến 03/12"),
        ("thứ 5 em xin nghỉ 1 ngày", "báo vắng thứ Năm 03/12"),
        ("em xin nghỉ từ thứ 6 đến thứ 3 tuần sau", "nghỉ từ 04/12 đến 08/12"),
        ("em xin nghi tu ngay 10/12 den het 12/12", "nghỉ từ 10/12 đến 12/12"),
        ("em nghỉ phép đến 4/12 ạ", "nghỉ đến 04/12"),
    ],
)
async def test_the_leave_is_said_back_with_its_start_and_end(
    make_bot: Any,
    make_settings: Any,
    db_url: str,
    zalo: FakeZalo,
    tmp_path: Path,
    text: str,
    said: str,
) -> None:
    """Said on Monday 30/11: "mai ... 3 ngày" is Tuesday to Thursday (it ended on Tuesday)."""
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    await w.says("lan", text, at("Mon", "09:00"))
    assert w.received("lan") == [f"Đã ghi nhận chị Lan {said}. Cảm ơn chị đã báo trước."]


async def test_a_day_away_is_leave_that_day_only(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """ "mai em xin nghỉ" on Monday: her task due Wednesday is not reminded on Tuesday while
    she is away (anh Quân hears nothing yet: it is not overdue), and is on Wednesday."""
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    for who in ("quan", "lan"):
        await w.says(who, "có mặt", at("Mon", "07:00"))
    await w.says("quan", "/giaoviec @Lan kiểm tra sổ giao ca han thứ 4 17h", at("Mon", "08:00"))
    await w.says("lan", "mai em xin nghỉ", at("Mon", "09:00"))
    for who in ("quan", "lan"):
        w.received(who)
    got = await runs_every(
        w, "task_reminders", at("Mon", "09:30"), at("Wed", "12:00"), ("quan", "lan")
    )
    assert got == [
        (at("Wed", "07:00"), "lan", (
            "⏰ Nhắc việc CV1: kiểm tra sổ giao ca. Hạn 17:00 02/12. Chị Lan làm xong nhắn"
            " /xong CV1 giúp bot nhé!"
        )),
    ]  # fmt: skip
