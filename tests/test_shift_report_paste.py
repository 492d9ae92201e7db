"""A shift report pasted into the group (parse17): at 06:05 on Saturday 12 Dec anh Tùng, of
Hansol's guards, pastes the night shift's report into his team's group. Found in the demo:
its burnt bulb raised "🚨 KHẨN: cháy/nổ tại cổng phụ" to the coordinators, and "Quân số: 4/4"
was 4 April. Now the report is the shift's report, recorded as his check-in with the bulb in
its note (docs/parser.md, "A shift report pasted into the group"); nobody is alerted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.clock import FixedClock
from handlers.intents.checkins import names_shift_report, report_note
from models.roster import import_roster_csv
from models.tables import CheckIn, Incident
from tests.conftest import Bot, text_event

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DAWN = datetime(2026, 12, 12, 6, 5, tzinfo=VN)
COUNCIL, HANSOL = "g-council", "g-hansol"
ROSTER = """member_id,name,phone,enterprise,role,groups,title
quan,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,g-council;g-hansol,anh
tung,Nguyễn Văn Tùng,0901000002,Hansol,member,g-hansol,anh
phuong,Đỗ Thị Phương,0901000003,Hansol,member,g-hansol,chị
"""
NAMES = {"quan": "Phạm Minh Quân", "tung": "Nguyễn Văn Tùng", "phuong": "Đỗ Thị Phương"}

REPORT = (
    "BÁO CÁO CA TRỰC 11/12. Ca: 3 (22h-6h). Quân số: 4/4. Tình hình ANTT: ổn định. "
    "Tuần tra: 3 lượt, không phát hiện bất thường. "
    "Ghi chú: đèn cổng phụ bị cháy bóng, đã báo bảo trì."
)
REPORT_BARE = (
    "BAO CAO CA TRUC 11/12. Ca: 3 (22h-6h). Quan so: 4/4. Tinh hinh ANTT: on dinh. "
    "Tuan tra: 3 luot, khong phat hien bat thuong. "
    "Ghi chu: den cong phu bi chay bong, da bao bao tri."
)


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(
        db=db_url,
        groups=[
            {"chat_id": COUNCIL, "name": "Hội đồng ANTT KCN", "kind": "council"},
            {
                "chat_id": HANSOL,
                "name": "Tổ bảo vệ Hansol",
                "kind": "enterprise",
                "enterprise": "Hansol",
            },
        ],
    )
    b: Bot = await make_bot(settings, clock=FixedClock(DAWN))
    async with b.sessions() as s, s.begin():
        assert (await import_roster_csv(s, ROSTER, DAWN)).errors == []
    return b


async def say(bot: Bot, who: str, text: str) -> None:
    """`who` writes `text` to @Bot ANTT in Hansol's group, at the clock's time."""
    body = text_event(
        f"@Bot ANTT {text}",
        sender=who,
        name=NAMES[who],
        chat=HANSOL,
        group=True,
        at=bot.clock.now(),
    )
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def recorded(bot: Bot) -> tuple[int, list[tuple[str, str]]]:
    """The incidents filed, and the check-ins (kind, note)."""
    async with bot.sessions() as s:
        incidents = int((await s.execute(select(func.count()).select_from(Incident))).scalar_one())
        rows = (await s.execute(select(CheckIn.kind, CheckIn.note))).all()
    return incidents, [(kind, note or "") for kind, note in rows]


@pytest.mark.parametrize(
    ("text", "note"),
    [
        (REPORT, "đèn cổng phụ bị cháy bóng, đã báo bảo trì"),
        (REPORT_BARE, "den cong phu bi chay bong, da bao bao tri"),
    ],
)
async def test_a_pasted_shift_report_is_his_check_in_with_the_bulb_in_its_note(
    bot: Bot, text: str, note: str
) -> None:
    await say(bot, "tung", text)

    assert said(bot, HANSOL) == [
        f"✅ Đã ghi nhận báo cáo ca trực của anh Tùng lúc 06:05, kèm ghi chú: {note}. Cảm ơn anh!"
    ]
    # No fire: nothing to the coordinator, nothing in the council's group.
    assert said(bot, "quan") == []
    assert said(bot, COUNCIL) == []
    incidents, checkins = await recorded(bot)
    assert incidents == 0
    assert len(checkins) == 1
    kind, kept = checkins[0]
    assert kind == "patrol"  # the shift's report counts as its patrol (honour board)
    assert note in kept


@pytest.mark.parametrize(
    "text", ["bc ca 1: qs 5, tt binh thuong", "BC ca 1: QS 5, tình hình bình thường"]
)
async def test_a_short_shift_report_is_the_shift_report(bot: Bot, text: str) -> None:
    await say(bot, "phuong", text)

    assert said(bot, HANSOL) == [
        "✅ Đã ghi nhận báo cáo ca trực của chị Phương lúc 06:05. Cảm ơn chị!"
    ]
    assert said(bot, "quan") == []
    assert await recorded(bot) == (0, [("patrol", text)])


@pytest.mark.parametrize("text", ["bóng đèn hành lang bị cháy", "bong den hanh lang bi chay"])
async def test_a_burnt_bulb_told_alone_is_no_fire(bot: Bot, text: str) -> None:
    await say(bot, "tung", text)

    (receipt,) = said(bot, HANSOL)
    assert "• Loại: hỏng thiết bị/camera" in receipt
    lines = said(bot, HANSOL) + said(bot, "quan") + said(bot, COUNCIL)
    assert not any("KHẨN" in line or "cháy/nổ" in line or "114" in line for line in lines)
    async with bot.sessions() as s:
        row = (await s.execute(select(Incident.category, Incident.severity))).one()
    assert tuple(row) == ("equipment", "low")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("BÁO CÁO CA TRỰC 11/12", True),
        ("bc ca 1: qs 5", True),
        ("Báo cáo ca đêm 07/12: quân số 4/4", True),
        ("báo cáo kết quả ca trực đêm 11/12", True),
        ("bao cao ket qua ca 3", True),
        ("báo cáo trực ca 3: bình thường", True),
        ("báo cáo cả ngày hôm nay", False),  # cả: the whole day
        ("ca 3 đã tuần tra, bình thường", False),
    ],
)
def test_what_names_a_shift_report(text: str, named: bool) -> None:
    assert names_shift_report(text) is named


def test_the_note_said_back_is_the_labelled_one() -> None:
    assert report_note("… Ghi chú: đèn cổng phụ bị cháy bóng, đã báo bảo trì.") == (
        "đèn cổng phụ bị cháy bóng, đã báo bảo trì"
    )
    assert report_note("LƯU Ý: cổng 2 khóa lúc 22h") == "cổng 2 khóa lúc 22h"
    assert report_note("tuần tra bình thường") == ""
    assert len(report_note("ghi chú: " + "rất dài " * 60)) == 160
