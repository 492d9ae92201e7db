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
from tests.test_week_firesafety import DRILL, PCCC, FireWeek, at, cluster_settings, start_week

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


async def drill(w: FireWeek) -> str:
    """Anh Quân posts the drill notice (TB1); the group's copy, to quote."""
    await w.says("quan", f"/thongbao {DRILL}", at("Mon", "08:00"))
    w.received("quan"), w.received(PCCC)
    return await w.message_id(PCCC, "THÔNG BÁO TB1")


async def test_a_reply_with_something_to_say_acknowledges_and_reaches_the_author(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await cluster(make_bot, make_settings, db_url, zalo, tmp_path)
    tb1 = await drill(w)
    # Anh Em cannot come; chị Hoa's enterprise can send only one (no diacritics).
    await w.says("em", "em không đi được vì trực ca", at("Mon", "08:20"), group=PCCC, quote=tb1)
    await w.says(
        "hoa", "ben em chi cu duoc 1 nguoi thoi a", at("Mon", "08:25"), group=PCCC, quote=tb1
    )
    assert w.received(PCCC) == [
        "👍 Đã ghi nhận anh Em xác nhận thông báo TB1 và đã chuyển lời của anh tới anh Quân."
        " Cảm ơn anh!",
        "👍 Đã ghi nhận chị Hoa xác nhận thông báo TB1 và đã chuyển lời của chị tới anh Quân."
        " Cảm ơn chị!",
    ]
    # The author reads each word for word, with who it is and how to call them.
    assert w.received("quan") == [
        "💬 anh Em (May Việt, 0903000013) trả lời thông báo TB1 trong nhóm Cụm an toàn PCCC"
        " số 2:\n“em không đi được vì trực ca”",
        "💬 chị Hoa (Điện Quang, 0903000032) trả lời thông báo TB1 trong nhóm Cụm an toàn"
        " PCCC số 2:\n“ben em chi cu duoc 1 nguoi thoi a”",
    ]
    assert w.received("thao") == []  # the notice is anh Quân's
    assert {a["member_id"] for a in await w.export("acks")} == {"em", "hoa"}
    # Chị Hoa adds a name later: passed on again, acknowledged once.
    await w.says("hoa", "bên em cử chị Hoa đi ạ", at("Mon", "09:00"), group=PCCC, quote=tb1)
    assert w.received(PCCC) == [
        "Bot đã chuyển lời của chị về thông báo TB1 tới anh Quân. Cảm ơn chị!"
    ]
    assert w.received("quan") == [
        "💬 chị Hoa (Điện Quang, 0903000032) trả lời thông báo TB1 trong nhóm Cụm an toàn"
        " PCCC số 2:\n“bên em cử chị Hoa đi ạ”"
    ]


async def test_a_bare_acknowledgement_under_a_notice_is_not_passed_on(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await cluster(make_bot, make_settings, db_url, zalo, tmp_path)
    tb1 = await drill(w)
    for who, text in (("tuan", "ok"), ("lan", "dạ em biết rồi ạ"), ("binh", "vâng ạ")):
        await w.says(who, text, at("Mon", "08:20"), group=PCCC, quote=tb1)
    assert [t.split(".")[0] for t in w.received(PCCC)] == [
        "👍 Đã ghi nhận anh Tuấn xác nhận thông báo TB1",
        "👍 Đã ghi nhận chị Lan xác nhận thông báo TB1",
        "👍 Đã ghi nhận anh Bình xác nhận thông báo TB1",
    ]
    assert w.received("quan") == []


async def test_a_reply_late_at_night_reaches_the_author_in_the_morning(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await cluster(make_bot, make_settings, db_url, zalo, tmp_path)
    tb1 = await drill(w)
    await w.says(
        "son",
        "mai em phải trực ca đêm nên không đi được",
        at("Mon", "23:10"),
        group=PCCC,
        quote=tb1,
    )
    assert w.received(PCCC)[0].startswith("👍 Đã ghi nhận anh Sơn xác nhận thông báo TB1")
    assert w.received("quan") == []
    await w.wakes(at("Tue", "07:15"))
    [passed] = w.received("quan")
    assert passed.endswith("“mai em phải trực ca đêm nên không đi được”")
