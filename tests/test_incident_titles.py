"""Incident replies speak to people by their title, as a council lives it.

Chị Phương (May Việt's guard) and anh Hải report in their enterprise's group, @mentioning the
bot; đồng chí Thảo (fire police, coordinator) has written to the bot privately and handles
what is reported. Cường is on the roster with no title: he keeps "anh/chị". Everything goes
through the real webhook, processor and sender (local platform).
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from bot.cli import main
from handlers.clock import FixedClock
from models.roster import import_roster_csv
from models.tables import CheckIn, Incident, IncidentEvent
from tests.conftest import Bot, member_says
from tests.engagement_helpers import GROUPS, MAY

# 14:20 Friday 27 Nov 2026 in Hanoi; 23:00 the night before (a stranger at night is urgent).
AFTERNOON = datetime(2026, 11, 27, 7, 20, tzinfo=UTC)
NIGHT = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Nguyễn Thị Thảo,0903000002,Cảnh sát PCCC,coordinator,gcouncil;gmayviet,đồng chí
u2,Trần Thị Phương,0901000002,May Việt,member,gcouncil;gmayviet,chị
u3,Lê Văn Cường,0901000003,May Việt,member,gmayviet,
u4,Nguyễn Văn Hải,0901000004,May Việt,member,gmayviet,anh
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
MENTION = "@Bot ANTT "


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(db=db_url, groups=GROUPS)
    b: Bot = await make_bot(settings, clock=FixedClock(AFTERNOON))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, AFTERNOON)).errors == []
    return b


async def say(bot: Bot, who: str, text: str, group: str | None = None, quote: str = "") -> None:
    """`who` writes `text` in `group` (or privately), at the clock's time."""
    await member_says(bot, who, NAMES[who], text, group, quote)


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def events(bot: Bot, number: int) -> list[str]:
    async with bot.sessions() as s:
        stmt = (
            select(IncidentEvent.kind)
            .where(IncidentEvent.incident_pk == number)
            .order_by(IncidentEvent.id)
        )
        return list((await s.execute(stmt)).scalars())


async def test_a_fire_reported_and_closed_thanks_chi_phuong_and_dong_chi_thao(bot: Bot) -> None:
    await say(bot, "u1", "Chào bot")  # Thảo is reachable in private
    await say(bot, "u2", MENTION + "Cháy kho số 3, anh em đang dùng bình dập", group=MAY)
    receipt = said(bot, MAY)[-1]
    assert receipt.startswith("Cảm ơn chị! Bot đã ghi nhận báo cáo số 1 (sự việc SV1)")
    assert "Bot đã báo khẩn cho đồng chí Thảo." in receipt

    bot.clock.advance(timedelta(minutes=10))
    await say(bot, "u1", "/xong SV1 đã dập tắt")
    assert said(bot, "u1")[-1] == "Đã đóng sự việc SV1: xử lý xong. Cảm ơn đồng chí!"
    assert said(bot, MAY)[-1] == ("Sự việc SV1 (cháy/nổ) chị báo đã được xử lý xong. Cảm ơn chị!")
    assert not [t for t in said(bot, MAY) + said(bot, "u1") if "anh/chị" in t]


async def test_the_doubt_question_and_its_answer_use_the_reporters_title(bot: Bot) -> None:
    # Unaccented and unsure: the bot asks Hải in the group, in his title, and thanks him so.
    await say(bot, "u4", MENTION + "chay o xuong 2", group=MAY)
    question = said(bot, MAY)[-1]
    assert question.startswith("Anh báo CHÁY/NỔ ở xưởng 2 phải không?")
    assert "(Trong nhóm, anh bấm Trả lời vào tin này hoặc nhắn @Bot để trả lời.)" in question
    await say(bot, "u4", MENTION + "khong, chay ra xuong 2 thoi", group=MAY)
    assert said(bot, MAY)[-1] == "Cảm ơn anh đã cho biết! Bot đã hủy báo cáo số 1."
    assert not [t for t in said(bot, MAY) if "anh/chị" in t]


async def test_without_a_title_on_the_roster_the_reply_keeps_anh_chi(bot: Bot) -> None:
    await say(bot, "u3", MENTION + "Mất trộm 2 cuộn dây điện ở kho 5", group=MAY)
    assert said(bot, MAY)[-1].startswith("Cảm ơn anh/chị! Bot đã ghi nhận báo cáo số 1")
    await say(bot, "u3", "/baocao")
    assert said(bot, "u3")[-1].startswith("Để báo sự việc, anh/chị nhắn nội dung")
    await say(bot, "u2", "/baocao")
    assert said(bot, "u2")[-1].startswith("Để báo sự việc, chị nhắn nội dung")


async def test_arrived_from_others_in_the_group_is_their_check_in_not_a_detail(
    bot: Bot,
) -> None:
    """Phương reports a fire in the group; minutes later Thảo and Hải, who did not report
    it, say they have arrived, with and without diacritics: nothing joins SV1."""
    await say(bot, "u1", "Chào bot")
    await say(bot, "u2", MENTION + "Cháy kho số 3", group=MAY)
    bot.clock.advance(timedelta(minutes=3))
    await say(bot, "u1", MENTION + "tới nơi rồi", group=MAY)
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u4", MENTION + "em tới nơi rồi", group=MAY)
    await say(bot, "u4", MENTION + "em toi noi roi, o kho so 3", group=MAY)
    assert "detail" not in await events(bot, 1)
    assert not [t for t in said(bot, MAY) if t.startswith("Đã bổ sung")]
    async with bot.sessions() as s:
        fire = await s.get(Incident, 1)
        assert fire is not None and fire.status == "reported" and fire.severity != "high"
        checkins = (await s.execute(select(CheckIn))).scalars().all()
    assert checkins  # Hải's arrival is recorded as his check-in


async def test_the_weeks_sheet_names_no_handler_for_an_alarm_its_reporter_called_off(
    bot: Bot, db_url: str, tmp_path: Path
) -> None:
    """Thursday night anh Hải's smoke was a forklift ("báo nhầm") and chị Phương's stranger
    left ("không sao"): nobody handled either. Đồng chí Thảo took and put out the fire in
    kho 3. In the week's spreadsheet, "Người xử lý" names only her."""
    bot.clock.set(NIGHT)
    await say(bot, "u1", "Chào bot")
    await say(bot, "u4", "Có khói bốc lên ở kho 2")
    bot.clock.advance(timedelta(minutes=6))
    await say(bot, "u4", "báo nhầm, khói từ xe nâng chạy dầu thôi")
    assert said(bot, "u4")[-1] == "Đã đánh dấu sự việc SV1 là báo nhầm."
    await say(bot, "u2", MENTION + "Có người lạ trèo tường vào kho 5", group=MAY)
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u2", MENTION + "Ho da bo di roi, khong sao", group=MAY)
    await say(bot, "u3", MENTION + "Cháy kho số 3", group=MAY)
    await say(bot, "u1", "/xuly SV3")
    bot.clock.advance(timedelta(minutes=30))
    await say(bot, "u1", "/xong SV3 đã dập tắt")
    assert [(await status(bot, n)) for n in (1, 2, 3)] == ["false_alarm", "settled", "resolved"]

    config = tmp_path / "hoi-dong.yaml"
    config.write_text(f"database:\n  url: {db_url}\n", encoding="utf-8")
    out = tmp_path / "w48.xlsx"
    argv = ["digest", "--week", "2026-W48", "--format", "xlsx", "-c", str(config), "-o", str(out)]
    assert await asyncio.to_thread(main, argv) == 0
    sheet = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))["Sự việc"]
    header, *rows = sheet.iter_rows(values_only=True)
    handler = header.index("Người xử lý")
    assert [(row[0], row[3], row[handler]) for row in rows] == [
        ("SV1", "báo nhầm", None),
        ("SV2", "đã ổn", None),
        ("SV3", "đã xử lý xong", "Nguyễn Thị Thảo"),
    ]


async def status(bot: Bot, number: int) -> str:
    async with bot.sessions() as s:
        row = await s.get(Incident, number)
        assert row is not None
        return row.status


async def test_a_member_taking_an_incident_on_in_private_is_thanked_by_his_title(bot: Bot) -> None:
    """Anh Hải writes "nhận xử lý" to the bot: that is for the coordinators, said to him as anh."""
    await say(bot, "u4", "nhận xử lý")
    assert said(bot, "u4")[-1] == (
        "Việc cập nhật sự việc dành cho điều phối viên. Cảm ơn anh đã quan tâm!"
    )
