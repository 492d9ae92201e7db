"""The bot's answers about tasks and quiet members speak to each person in their own register
(docs/people.md): anh Quân, chị Lan, đồng chí Đức, never "anh/chị" to someone with a title.
The council week's cast (tests/council_week_cast.py) through the real webhook and fake Zalo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.council_week_cast import HD, at
from tests.fake_zalo import FakeZalo
from tests.test_council_jobs import council_week
from tests.test_council_week import zalo

__all__ = ["zalo"]  # the fake Zalo server fixture, shared with the council week


async def test_task_and_quiet_answers_use_each_persons_title(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    for who in ("quan", "lan"):
        await w.says(who, "có mặt", at("Mon", "07:00"))
        w.received(who)

    # Anh Quân gives a task to "Tuấn": two people fit; he answers 3 to a list of two.
    await w.says("quan", "/giaoviec @Tuấn thay pin bộ đàm han thứ 6", at("Tue", "09:00"))
    await w.says("quan", "3", at("Tue", "09:01"))
    assert w.received("quan")[-1] == (
        "Danh sách chỉ có 2 người: anh trả lời một số từ 1 đến 2 giúp bot nhé."
    )
    # A deadline already past (yesterday's date typed on Tuesday).
    await w.says("quan", "/giaoviec @Lan kiểm tra bình chữa cháy han 30/11 17h", at("Tue", "09:05"))
    assert w.received("quan") == [
        "Hạn 17:00 30/11/2026 đã qua. Anh gõ lại lệnh với hạn mới giúp bot nhé."
    ]

    # Chị Lan says "xong rồi" without quoting her one task: she is asked, as "chị".
    await w.says("quan", "/giaoviec @Lan kiểm tra camera cổng B han thứ 6", at("Tue", "09:10"))
    w.received("lan")
    await w.says("lan", "xong rồi", at("Tue", "10:00"))
    assert w.received("lan") == [
        'Chị Lan xong việc CV1 (kiểm tra camera cổng B) rồi phải không? Trả lời "đúng" để bot'
        " ghi nhận."
    ]
    await w.says("quan", "/giaoviec @Lan trực cổng 3 han thứ 6", at("Tue", "10:05"))
    w.received("lan")
    await w.says("lan", "em làm xong rồi ạ", at("Tue", "11:00"))
    assert w.received("lan") == [
        "Chị đang có các việc CV1, CV2. Việc nào đã xong, nhắn /xong CV<số> kèm ghi chú."
    ]

    # Đồng chí Đức asks in the council group, but has no private chat with the bot yet.
    await w.says("duc", "/chuahoatdong", at("Wed", "09:00"), group=HD)
    (answer,) = w.received(HD)
    assert answer.startswith("Có ") and answer.endswith(
        " thành viên chưa hoạt động trong 7 ngày qua. Đồng chí nhắn riêng cho bot lệnh"
        " /chuahoatdong để xem danh sách nhé."
    )
