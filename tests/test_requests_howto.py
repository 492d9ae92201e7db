"""Questions about using the bot are answered by the bot at once, with the one line of the help
that fits; they are not requests for a coordinator (docs/requests.md, "Not a request: how to
use the bot").

Anh Tài, a guard at May Việt, asks on Sunday evening how to report an incident: before, the
bot told him a coordinator would see the question on Monday at 07:00. Real questions for
people, and reports that happen to say "làm sao", still go where they went. Through the real
webhook, processor and sender to a fake Zalo server, on a movable clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from handlers.clock import FixedClock
from models.roster import import_roster_csv
from models.tables import Ack, CheckIn, Incident, MemberRequest, Outbox, Task
from tests.conftest import Bot, text_event
from tests.council_week_cast import HD, MONDAY, at
from tests.fake_zalo import FakeZalo
from tests.test_council_jobs import week_settings
from tests.test_council_week import Week, zalo
from tests.test_requests import COUNCIL, council, said

__all__ = ["council", "zalo"]  # fixtures: the fake Zalo server, the local-platform council

ROSTER = """member_id,name,phone,enterprise,role,groups,title,lead
quan,Phạm Minh Quân,0902000001,BQL KCN,coordinator,g-hoidong,anh,
tai,Nguyễn Văn Tài,0902000041,May Việt,member,g-hoidong,anh,
lan,Lê Thị Lan,0902000012,May Việt,member,g-hoidong,chị,
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}

MORE = " Anh gõ /huongdan để xem đủ hướng dẫn."
REPORT = (
    'Chào anh Tài! Báo sự việc: nhắn nội dung, vd "cháy ở xưởng 2" hoặc /baocao <nội dung>.'
    " Nếu có cháy, gọi ngay 114." + MORE
)
CHECK_IN = 'Chào anh Tài! Điểm danh: nhắn "có mặt" hoặc /diemdanh.' + MORE
ACK = 'Chào anh Tài! Xác nhận thông báo: trả lời "đã nhận" vào tin của bot hoặc /danhan.' + MORE
TASK = (
    'Chào anh Tài! Việc được giao: trả lời "nhận việc" vào tin giao việc; xong thì trả lời'
    ' "xong" kèm ghi chú, hoặc /xong <mã việc> <ghi chú>.' + MORE
)
ABOUT = (
    "Chào anh Tài! Bot giúp anh báo sự việc, điểm danh, xác nhận thông báo, nhận và báo xong"
    " việc được giao, và chuyển câu hỏi tới điều phối viên." + MORE
)


class Park(Week):
    """Anh Quân coordinates; anh Tài and chị Lan guard May Việt."""

    names: dict[str, str] = NAMES


async def park(make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp: Path) -> Park:
    """Monday 30/11/2026; anh Quân has written to the bot, so he can be reached privately."""
    bot: Bot = await make_bot(
        week_settings(make_settings, db_url, zalo), clock=FixedClock(at("Mon", "06:00"))
    )
    async with bot.sessions() as s, s.begin():
        assert (await import_roster_csv(s, ROSTER, MONDAY)).errors == []
    p = Park(bot, zalo, tmp, db_url)
    await p.says("quan", "có mặt", at("Mon", "07:00"))
    p.received("quan")
    return p


async def rows(bot: Bot, model: Any) -> int:
    async with bot.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_sunday_evening_how_to_report_is_answered_at_once_and_not_forwarded(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("tai", "bot oi lam sao de bao su co", at("Sun", "20:00"))
    assert p.received("tai") == [REPORT]
    # Asked how to report a fire: told how, and no fire is opened from the question.
    for text in ("báo sự việc thế nào", "muốn báo cháy thì nhắn gì", "ad ơi làm sao để báo cháy"):
        await p.says("tai", text, at("Sun", "20:05"))
        assert p.received("tai") == [REPORT], text
    await p.wakes(at("Mon", "07:30"))  # nothing was held for the morning either
    assert p.received("quan") == []
    assert await rows(p.bot, MemberRequest) == 0
    assert await rows(p.bot, Incident) == 0


async def test_each_how_to_gets_its_own_line_with_and_without_diacritics(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    asked = [
        ("điểm danh kiểu gì", CHECK_IN),
        ("cach diem danh", CHECK_IN),
        ("cho em hỏi cách điểm danh", CHECK_IN),
        ("xác nhận thông báo sao vậy", ACK),
        ("da nhan thi nhan o dau", ACK),
        ("nhận việc thế nào", TASK),
        ("xong viec thi bao sao", TASK),
        ("bot làm được gì", ABOUT),
        ("bot nay dung sao", ABOUT),
        ("Bot ơi, cho em hỏi báo sự cố như thế nào ạ?", REPORT),
    ]
    for text, line in asked:
        await p.says("tai", text, at("Tue", "09:00"))
        assert p.received("tai") == [line], text
    assert p.received("quan") == []
    for model in (MemberRequest, Incident, Ack):
        assert await rows(p.bot, model) == 0, model.__name__
    assert await rows(p.bot, CheckIn) == 1  # anh Quân's "có mặt"; asking how is none
    async with p.bot.sessions() as s:
        kinds = set((await s.execute(select(Outbox.kind).where(Outbox.chat_id == "tai"))).scalars())
    assert "request" not in kinds


async def test_asking_how_takes_no_task_and_acknowledges_no_directive(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """With a task and a directive waiting, "nhận việc thế nào" and "đã nhận thì nhắn ở đâu"
    are still questions: taking the task or acknowledging would be a claim he never made."""
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("tai", "có mặt", at("Mon", "07:05"))
    await p.says(
        "quan", "/giaoviec @Tài kiểm tra bình chữa cháy xưởng 2 han thứ 6", at("Tue", "08:00")
    )
    await p.says("quan", "/thongbao Kiểm tra hệ thống camera các cổng", at("Tue", "08:05"))
    p.received("tai")
    await p.says("tai", "nhận việc thế nào", at("Tue", "08:30"))
    assert p.received("tai") == [TASK]
    await p.says("tai", "đã nhận thì nhắn ở đâu", at("Tue", "08:31"))
    assert p.received("tai") == [ACK]
    async with p.bot.sessions() as s:
        assert (await s.execute(select(Task.accepted_at))).scalar_one() is None
    assert await rows(p.bot, Ack) == 0
    # Quoting the directive in the group: still a question, answered there.
    post = await p.message_id(HD, "TB1")
    p.received(HD)
    await p.says("tai", "xác nhận thông báo sao vậy", at("Tue", "08:33"), group=HD, quote=post)
    assert p.received(HD) == [ACK]
    assert await rows(p.bot, Ack) == 0 and await rows(p.bot, MemberRequest) == 0
    await p.says("tai", "nhận việc", at("Tue", "08:34"))  # the words themselves still take it
    async with p.bot.sessions() as s:
        assert (await s.execute(select(Task.accepted_at))).scalar_one() is not None


async def test_in_the_group_to_the_bot_the_answer_is_given_there(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("lan", "cho em hỏi cách điểm danh", at("Tue", "09:00"), group=HD)
    assert p.received(HD) == [
        'Chào chị Lan! Điểm danh: nhắn "có mặt" hoặc /diemdanh.'
        " Chị gõ /huongdan để xem đủ hướng dẫn."
    ]
    assert await rows(p.bot, MemberRequest) == 0
    assert await rows(p.bot, CheckIn) == 1  # anh Quân's "có mặt" only


async def test_real_questions_and_reports_with_lam_sao_go_where_they_went(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    for n, text in enumerate(("mai họp mấy giờ", "ai trực cổng 3 tối nay", "xưởng 2 ở đâu"), 1):
        await p.says("tai", text, at("Tue", "09:00"))
        (reply,) = p.received("tai")
        assert f"Bot đã chuyển câu hỏi (YC{n}) tới điều phối viên" in reply, text
        (forward,) = p.received("quan")
        assert (
            forward.startswith(f"❓ YC{n}: anh Tài (May Việt, 0902000041) hỏi") and text in forward
        )
    # Something happening, asked about with "làm sao": a report (urgent first), never the help.
    await p.says("tai", "cháy xưởng 2 rồi, làm sao đây", at("Tue", "09:10"))
    (receipt,) = p.received("tai")
    assert receipt.startswith("Cảm ơn anh! Bot đã ghi nhận báo cáo số 1 (sự việc SV1)")
    assert "Bot đã báo khẩn cho anh Quân." in receipt
    assert any("SV1" in t for t in p.received("quan"))
    await p.says("tai", "có trộm, báo trộm thế nào", at("Tue", "09:12"))
    assert p.received("tai")[0].startswith("Cảm ơn anh! Bot đã ghi nhận báo cáo số 2 (sự việc SV2)")
    assert await p.incidents() == {1: ("fire", "reported", True), 2: ("theft", "reported", False)}
    # "Gấp ... làm sao đây" says a fire is happening: a report, joined to the fire under way
    # (docs/parser.md, "what now"); the fire alarm ("chuông báo cháy") is a question for people.
    await p.says("tai", "báo cháy gấp làm sao đây", at("Tue", "09:20"))
    assert "(SV1); bot đã ghép báo cáo số 3 vào" in p.received("tai")[0]
    text = "chuông báo cháy xưởng 3 kêu liên tục thì làm sao"
    await p.says("tai", text, at("Tue", "09:21"))
    assert "(YC4) tới điều phối viên" in p.received("tai")[0], text


async def test_a_group_how_to_not_said_to_the_bot_is_left_alone(council: Bot) -> None:
    """An OA sees every group message: members asking each other get no answer from the bot."""
    body = text_event("làm sao để báo sự cố vậy mọi người", sender="u2", chat=COUNCIL, group=True)
    assert (await council.deliver(body))[0] == 200
    await council.drain()
    assert said(council, COUNCIL) == []
    assert await rows(council, MemberRequest) == 0
