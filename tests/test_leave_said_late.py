"""A leave said after its first weekday has begun runs from the day it is said.

The council week's cast (tests/council_week_cast.py), Monday 30/11/2026. On Thursday 03/12
at 07:30 chị Lan writes the bot privately "em xin nghỉ từ thứ 4 đến thứ 6" (with and without
diacritics): Wednesday is past, Friday ahead. It was read as next Wednesday to this Friday,
an end before its start, so no leave at all: a plain absence ("Đã ghi nhận chị Lan báo
vắng"), and the notice anh Quân posts at 08:00 chased her on Thursday afternoon.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers.deadlines import leave_span
from tests import test_council_week
from tests.council_week_cast import at
from tests.fake_zalo import FakeZalo
from tests.test_council_jobs import council_week

zalo = test_council_week.zalo  # the fake Zalo server on a real port, as the week uses
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    "text",
    ["em xin nghỉ từ thứ 4 đến thứ 6", "e xin nghi tu thu 4 den thu 6 a"],
)
async def test_a_leave_from_wednesday_said_on_thursday_runs_from_thursday_to_friday(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, text: str
) -> None:
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    for who in ("quan", "lan"):
        await w.says(who, "có mặt", at("Thu", "07:00"))
        w.received(who)
    await w.says("lan", text, at("Thu", "07:30"))
    assert w.received("lan") == ["Đã ghi nhận chị Lan nghỉ đến 04/12. Cảm ơn chị đã báo trước."]

    # The notice posted while she is away does not chase her; anh Quân sees her on leave.
    await w.says("quan", "/thongbao Kiểm tra bình chữa cháy các kho", at("Thu", "08:00"))
    w.received("lan")
    await w.runs("ack_reminders", at("Thu", "13:00"))
    assert w.received("lan") == []
    await w.says("quan", "/thongbao", at("Thu", "13:30"))
    status = w.received("quan")[-1]
    assert status.startswith("• TB1 (08:00 03/12): 0/10 đã nhận (1 nghỉ phép)")
    assert status.endswith("; nghỉ phép: chị Lan"), status


def test_the_span_as_read_on_each_day_of_the_week() -> None:
    """Said Thursday: from now to Friday's end. Said Monday: Wednesday to Friday, as before.
    Said Saturday: next week's Wednesday to Friday. Said Thursday with the end past: none."""
    thursday = datetime(2026, 12, 3, 0, 30, tzinfo=UTC)  # 07:30 in Hanoi
    start, end, said = leave_span("em xin nghỉ từ thứ 4 đến thứ 6", thursday, HANOI) or (
        None,
        None,
        None,
    )
    assert start == thursday and said
    assert end is not None and f"{end.astimezone(HANOI):%d/%m %H:%M}" == "04/12 23:59"
    monday = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    span = leave_span("em xin nghỉ từ thứ 4 đến thứ 6", monday, HANOI)
    assert span is not None and f"{span[0].astimezone(HANOI):%d/%m}" == "02/12"
    saturday = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    span = leave_span("em xin nghi tu thu 4 den thu 6", saturday, HANOI)
    assert span is not None
    assert [f"{t.astimezone(HANOI):%d/%m}" for t in span[:2]] == ["09/12", "11/12"]
    span = leave_span("em xin nghỉ từ thứ 2 đến thứ 3", thursday, HANOI)  # both past: next week
    assert span is not None
    assert [f"{t.astimezone(HANOI):%d/%m}" for t in span[:2]] == ["07/12", "08/12"]
    span = leave_span("em xin nghỉ từ thứ 5 đến thứ 7", thursday, HANOI)  # from today
    assert span is not None and span[0] == thursday


@pytest.mark.parametrize(
    "text", ["tuần này em đi công tác", "tuan nay em di cong tac", "cả tuần này em nghỉ phép"]
)
def test_this_week_named_is_the_whole_week(text: str) -> None:
    """Said on Thursday 10/12: away since Monday 7/12 through Sunday 13/12, under way."""
    thursday = datetime(2026, 12, 10, 9, 0, tzinfo=HANOI)
    start, end, said = leave_span(text, thursday, HANOI) or (None, None, None)
    assert start == datetime(2026, 12, 7, 0, 0, tzinfo=HANOI)
    assert end == datetime(2026, 12, 13, 23, 59, tzinfo=HANOI)
    assert said is True


def test_next_week_named_is_next_week() -> None:
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=HANOI)
    start, end, _said = leave_span("tuần sau em đi công tác", monday, HANOI) or (None, None, None)
    assert start == datetime(2026, 12, 14, 0, 0, tzinfo=HANOI)
    assert end == datetime(2026, 12, 20, 23, 59, tzinfo=HANOI)


def test_a_day_of_this_week_is_that_day() -> None:
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=HANOI)
    span = leave_span("tuần này thứ 5 em xin nghỉ", monday, HANOI)
    assert span is not None and span[1] == datetime(2026, 12, 10, 23, 59, tzinfo=HANOI)
