"""What members answer under a directive, and what the coordinator who posted it reads.

The fire-safety cluster of tests/test_week_firesafety.py: đồng chí Thảo and anh Quân
coordinate; the drill notice of Monday 30/11 asks each enterprise for two people.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from handlers.clock import FixedClock
from tests import test_council_week
from tests.conftest import Bot
from tests.fake_zalo import FakeZalo
from tests.test_week_firesafety import PCCC, FireWeek, at, cluster_settings, start_week

zalo = test_council_week.zalo  # the fake Zalo server on a real port, as the council week uses


async def cluster(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> FireWeek:
    settings = cluster_settings(make_settings, db_url, zalo)
    bot: Bot = await make_bot(settings, clock=FixedClock(at("Mon", "08:00") - timedelta(days=7)))
    w = await start_week(bot, zalo, tmp_path, db_url)
    await w.says("quan", "chào bot", at("Mon", "07:30"))
    await w.says("thao", "Chào bot", at("Mon", "07:35"))
    w.received("quan"), w.received("thao")
    return w


async def test_a_notice_without_its_text_is_asked_for_by_the_coordinators_title(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await cluster(make_bot, make_settings, db_url, zalo, tmp_path)
    await w.says("thao", "/thongbao [Cum an toan PCCC]", at("Mon", "07:50"))
    assert w.received("thao") == [
        "Đồng chí nhập nội dung sau lệnh, vd: /thongbao Tăng cường tuần tra dịp lễ."
    ]
    await w.says("quan", "/thongbao [Cụm an toàn PCCC số 2]  ", at("Mon", "07:51"))
    assert w.received("quan") == [
        "Anh nhập nội dung sau lệnh, vd: /thongbao Tăng cường tuần tra dịp lễ."
    ]
    assert w.received(PCCC) == []
