"""Two yes-or-no questions open at once: "đúng" answers the one the bot asked last.

Anh Tài, a guard at May Việt, has a task from anh Quân (CV1: lock the store of workshop 2).
In his private chat with the bot he types a fire without diacritics ("chay o kho xuong 2": the
bot asks whether it is a fire, and holds the alert 3 minutes) and "xong roi anh, kho da khoa"
(the bot asks whether CV1 is done). He answers what he read last, so his "đúng" answers that
question, whichever it is; the other stays open, and a second "đúng" answers it. Through the
real webhook, processor, jobs and sender (cast of tests/test_requests_howto.py), on a movable
clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models.tables import Report, Task
from tests.council_week_cast import at
from tests.fake_zalo import FakeZalo
from tests.test_council_week import zalo
from tests.test_requests_howto import Park, park

__all__ = ["zalo"]  # fixture: the fake Zalo server

FIRE = "chay o kho xuong 2"
DONE = "xong roi anh, kho da khoa"
FIRE_ASKED = (
    'Anh báo CHÁY/NỔ ở xưởng 2 phải không? Trả lời "đúng" để bot báo ngay điều phối viên,'
    ' "không" nếu bot hiểu nhầm.\nSau 3 phút chưa có trả lời, bot vẫn sẽ báo điều phối viên.'
)
DONE_ASKED = (
    'Anh Tài xong việc CV1 (kiểm tra khóa kho xưởng 2) rồi phải không? Trả lời "đúng" để bot'
    ' ghi nhận, kèm ghi chú: "kho da khoa".'
)
TASK_CLOSED = "✅ Việc CV1 đã hoàn thành. Cảm ơn anh Tài!"
TOLD_DONE = (
    "✅ Anh Nguyễn Văn Tài đã hoàn thành việc CV1: kiểm tra khóa kho xưởng 2.\nGhi chú: kho da khoa"
)
FIRE_RECORDED = (
    "Cảm ơn anh! Bot đã ghi nhận báo cáo số 1 (sự việc SV1):\n• Loại: cháy/nổ\n• Nơi: xưởng 2\n"
    "Bot đã báo khẩn cho anh Quân.\nNếu đám cháy chưa được dập, gọi ngay 114."
)
ALERT = "🚨 KHẨN: cháy/nổ tại xưởng 2 (SV1)"


async def given_a_task(
    make_bot: Any, make_settings: Any, db_url: str, zalo: Any, tmp: Path
) -> Park:
    """Monday morning: anh Tài has written to the bot, and anh Quân gives him CV1."""
    p = await park(make_bot, make_settings, db_url, zalo, tmp)
    await p.says("tai", "có mặt", at("Mon", "07:05"))
    await p.says("quan", "/giaoviec @Tài kiểm tra khóa kho xưởng 2", at("Mon", "08:00"))
    p.received("tai"), p.received("quan")
    return p


async def task_and_report(p: Park) -> tuple[str, str]:
    """CV1's status and the fire report's."""
    async with p.bot.sessions() as s:
        task = (await s.execute(select(Task.status))).scalar_one()
        report = (await s.execute(select(Report.status))).scalar_one()
    return task, report


@pytest.mark.parametrize("yes", ["đúng", "dung"])
async def test_the_task_asked_last_is_the_one_dung_closes_and_the_fire_question_stays(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, yes: str
) -> None:
    p = await given_a_task(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("tai", FIRE, at("Mon", "09:00"))
    assert p.received("tai") == [FIRE_ASKED]
    await p.says("tai", DONE, at("Mon", "09:01"))
    assert p.received("tai") == [DONE_ASKED]
    await p.says("tai", yes, at("Mon", "09:01"))
    # The task closes; the fire is neither confirmed nor alerted as confirmed.
    assert p.received("tai") == [TASK_CLOSED]
    assert p.received("quan") == [TOLD_DONE]
    assert await task_and_report(p) == ("done", "pending")
    # The fire question stays open: the hold ends as it does today, alert marked unconfirmed.
    await p.runs("incident_escalation", at("Mon", "09:03"))
    (alert,) = p.received("quan")
    assert alert.startswith(ALERT) and "(chưa xác nhận: bot đang hỏi lại người báo)" in alert
    # ... and a second "đúng" answers it.
    await p.says("tai", yes, at("Mon", "09:04"))
    assert p.received("tai") == [FIRE_RECORDED]
    assert p.received("quan") == [
        "Sự việc SV1: người báo đã xác nhận (cháy/nổ). Cần người nhận xử lý!"
    ]
    assert await task_and_report(p) == ("done", "confirmed")


async def test_no_to_the_task_asked_last_leaves_it_open_and_the_fire_is_still_asked(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await given_a_task(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("tai", FIRE, at("Mon", "09:00"))
    await p.says("tai", DONE, at("Mon", "09:01"))
    p.received("tai")
    await p.says("tai", "khong", at("Mon", "09:01"))
    # "không" was about the task: the fire is not withdrawn.
    assert p.received("tai") == [
        "Việc CV1 vẫn để mở. Khi xong, anh nhắn /xong CV1 kèm ghi chú nhé."
    ]
    assert p.received("quan") == []
    assert await task_and_report(p) == ("open", "pending")
    await p.says("tai", "đúng", at("Mon", "09:02"))
    assert p.received("tai") == [FIRE_RECORDED]
    (alert,) = p.received("quan")
    assert alert.startswith(ALERT) and "chưa xác nhận" not in alert
    assert await task_and_report(p) == ("open", "confirmed")


@pytest.mark.parametrize("yes", ["đúng", "dung"])
async def test_the_fire_asked_last_is_the_one_dung_confirms_and_the_task_question_stays(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, yes: str
) -> None:
    p = await given_a_task(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("tai", DONE, at("Mon", "09:00"))
    assert p.received("tai") == [DONE_ASKED]
    await p.says("tai", FIRE, at("Mon", "09:01"))
    assert p.received("tai") == [FIRE_ASKED]
    await p.says("tai", yes, at("Mon", "09:01"))
    assert p.received("tai") == [FIRE_RECORDED]
    (alert,) = p.received("quan")
    assert alert.startswith(ALERT) and "chưa xác nhận" not in alert
    assert await task_and_report(p) == ("open", "confirmed")
    # The task question is still open (30 minutes): a second "đúng" closes CV1.
    await p.says("tai", yes, at("Mon", "09:10"))
    assert p.received("tai") == [TASK_CLOSED]
    assert p.received("quan") == [TOLD_DONE]
    assert await task_and_report(p) == ("done", "confirmed")


async def test_an_unanswered_task_question_still_expires_after_half_an_hour(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await given_a_task(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("tai", DONE, at("Mon", "09:00"))
    await p.says("tai", FIRE, at("Mon", "09:01"))
    await p.says("tai", "đúng", at("Mon", "09:01"))
    p.received("tai"), p.received("quan")
    await p.says("tai", "đúng", at("Mon", "09:40"))  # too late for the task question
    assert p.received("quan") == []
    assert await task_and_report(p) == ("open", "confirmed")
