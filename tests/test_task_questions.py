"""A member's words about his task, as the demo's week showed them (docs/people.md, "Asking
about a task"; docs/requests.md).

Anh Quân and chị Hà coordinate; anh Tài and anh Nam guard May Việt; Em (no title on the
roster) guards Hansol. Anh Quân gives anh Tài a watch at gate 2 tonight from 18h to 22h: it
ends at 22:00, its deadline. Anh Tài takes it, then quotes it again to ask for tomorrow
instead: the question goes to anh Quân, who gave it, naming CV1, and anh Quân answers it with
/traloi. Anh Tài typing /giaoviec gets his own tasks; naming someone, he is told the command
is a coordinator's, thanked as "anh". Through the real webhook, processor and sender to a
fake Zalo server, on a movable clock.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.clock import FixedClock
from handlers.deadlines import parse_deadline, split_deadline
from models.roster import import_roster_csv
from models.tables import MemberRequest, Task
from tests.conftest import Bot
from tests.council_week_cast import HD, MONDAY, VN, at
from tests.fake_zalo import FakeZalo
from tests.test_council_jobs import week_settings
from tests.test_council_week import Week, zalo

__all__ = ["zalo"]  # fixture: the fake Zalo server

ROSTER = """member_id,name,phone,enterprise,role,groups,title,lead
quan,Phạm Minh Quân,0902000001,BQL KCN,coordinator,g-hoidong,anh,
ha,Nguyễn Thu Hà,0902000002,BQL KCN,coordinator,g-hoidong,chị,
tai,Nguyễn Văn Tài,0902000041,May Việt,member,g-hoidong,anh,
nam,Trần Văn Nam,0902000042,May Việt,member,g-hoidong,anh,
em,Hoàng Văn Em,0902000023,Hansol,member,g-hoidong,,
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}

WATCH = "trực tăng cường cổng 2 tối nay từ 18h đến 22h"
WATCH_FOLDED = "truc tang cuong cong 2 toi nay tu 18h den 22h"
ASSIGNED = (
    "📝 Anh được giao việc CV1: {text}, hạn 22:00 30/11/2026.\n"
    'Trả lời "nhận việc" vào tin này để báo đã nhận; làm xong trả lời "xong" (kèm ghi chú '
    "nếu có) hoặc nhắn /xong CV1. Cảm ơn anh!"
)
ACCEPTED = "👍 Đã ghi nhận anh Tài nhận việc CV1. Cảm ơn anh!"
ASK = "anh ơi tối nay em có việc nhà, cho em đổi sang mai được không ạ"
ASK_FOLDED = "anh oi toi nay em co viec nha, cho em doi sang mai duoc khong a"
TOLD_TAI = (
    "Cảm ơn anh Tài! Bot đã chuyển câu hỏi (YC1) về việc CV1 tới anh Quân, người giao việc."
    " Khi có trả lời, bot sẽ báo lại ngay."
)
FORWARD = (
    "❓ YC1 về việc CV1 ({text}): anh Tài (May Việt, 0902000041) hỏi:\n"
    "“{ask}”\n"
    "Trả lời: bấm Trả lời vào tin này, hoặc gõ /traloi YC1 nội dung."
)
ANSWERED = (
    "💬 Trả lời cho câu hỏi YC1 của anh Tài:\n"
    "Được, mai em trực thay nhé\n— anh Quân, điều phối viên"
)


class Park(Week):
    names: dict[str, str] = NAMES


async def park(
    make_bot: Any,
    make_settings: Any,
    db_url: str,
    zalo: FakeZalo,
    tmp: Path,
    silent: tuple[str, ...] = (),
) -> Park:
    """Monday 30/11/2026 morning; everyone but `silent` has written to the bot privately."""
    bot: Bot = await make_bot(
        week_settings(make_settings, db_url, zalo), clock=FixedClock(at("Mon", "06:00"))
    )
    async with bot.sessions() as s, s.begin():
        assert (await import_roster_csv(s, ROSTER, MONDAY)).errors == []
    p = Park(bot, zalo, tmp, db_url)
    for who in NAMES:
        if who in silent:
            continue
        await p.says(who, "có mặt", at("Mon", "07:00"))
        p.received(who)
    return p


async def requests(bot: Bot) -> list[tuple[str, str, str]]:
    """Each request: its text, status and where it was forwarded."""
    async with bot.sessions() as s:
        rows = await s.execute(
            select(MemberRequest.text, MemberRequest.status, MemberRequest.forwarded_to)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def the_task(bot: Bot) -> Task:
    async with bot.sessions() as s:
        return (await s.execute(select(Task))).scalar_one()


@pytest.mark.parametrize(("watch", "ask"), [(WATCH, ASK), (WATCH_FOLDED, ASK_FOLDED)])
async def test_a_question_quoting_the_task_goes_to_its_giver_naming_it(
    make_bot: Any,
    make_settings: Any,
    db_url: str,
    zalo: FakeZalo,
    tmp_path: Path,
    watch: str,
    ask: str,
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("quan", f"/giaoviec @Tài {watch}", at("Mon", "08:00"), group=HD)
    assert p.received("tai") == [ASSIGNED.format(text=watch)]
    task = await the_task(p.bot)
    assert task.text == watch  # the window stays in the task's words
    assert task.due_at == at("Mon", "22:00")
    notice = await p.message_id("tai", "được giao việc CV1")
    await p.says("tai", "nhận việc", at("Mon", "08:10"), quote=notice)
    assert p.received("tai") == [ACCEPTED]
    p.received("quan"), p.received("ha"), p.received(HD)

    await p.says("tai", ask, at("Mon", "09:00"), quote=notice)
    assert p.received("tai") == [TOLD_TAI]
    assert p.received("quan") == [FORWARD.format(text=watch, ask=ask)]
    assert p.received("ha") == []  # not hers: anh Quân gave the task
    assert p.received(HD) == []
    assert await requests(p.bot) == [(ask, "open", "private")]
    task = await the_task(p.bot)
    assert task.status == "open" and task.accepted_at is not None

    await p.says("quan", "/traloi YC1 Được, mai em trực thay nhé", at("Mon", "09:20"))
    assert p.received("tai") == [ANSWERED]
    assert await requests(p.bot) == [(ask, "answered", "private")]


@pytest.mark.parametrize(
    "change",
    ["cho em đổi sang mai nhé anh", "cho em doi sang mai nhe anh", "em xin lùi sang tối mai"],
)
async def test_asking_to_change_a_task_takes_nothing_and_reaches_its_giver(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, change: str
) -> None:
    """Before taking it: a request to move it is no "nhận việc"."""
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("quan", f"/giaoviec @Tài {WATCH}", at("Mon", "08:00"))
    p.received("tai"), p.received("quan")
    notice = await p.message_id("tai", "được giao việc CV1")
    await p.says("tai", change, at("Mon", "08:30"), quote=notice)
    assert p.received("tai") == [TOLD_TAI]
    assert p.received("quan") == [FORWARD.format(text=WATCH, ask=change)]
    assert p.received("ha") == []
    assert (await the_task(p.bot)).accepted_at is None
    assert await requests(p.bot) == [(change, "open", "private")]


async def test_asked_in_the_group_quoting_the_task_there_it_still_goes_to_its_giver(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("quan", f"/giaoviec @Tài {WATCH_FOLDED}", at("Mon", "08:00"), group=HD)
    p.received("tai"), p.received("quan"), p.received(HD)
    given = await p.message_id(HD, "Đã giao việc CV1")
    await p.says("tai", ASK_FOLDED, at("Mon", "09:00"), group=HD, quote=given)
    assert p.received(HD) == [TOLD_TAI]
    assert p.received("quan") == [
        FORWARD.format(text=WATCH_FOLDED, ask=ASK_FOLDED).replace(
            " hỏi:", " hỏi trong nhóm Hội đồng ANTT KCN:"
        )
    ]
    assert p.received("ha") == [] and p.received("tai") == []
    # His answer comes back where he asked: the group.
    await p.says("quan", "/traloi YC1 Được, mai em trực thay nhé", at("Mon", "09:20"))
    assert p.received(HD) == [ANSWERED]


async def test_asked_at_night_it_waits_for_the_morning_and_he_is_told_when(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("quan", "/giaoviec @Tài trực cổng 2 sáng mai 7h-11h", at("Mon", "17:00"))
    p.received("tai"), p.received("quan")
    notice = await p.message_id("tai", "được giao việc CV1")
    await p.says("tai", "mai em xin lui sang chieu duoc khong a", at("Mon", "22:30"), quote=notice)
    assert p.received("tai") == [
        "Cảm ơn anh Tài! Bot đã ghi nhận câu hỏi (YC1) về việc CV1 và sẽ chuyển tới anh Quân,"
        " người giao việc, lúc 07:00 thứ Ba 01/12. Khi có trả lời, bot sẽ báo lại ngay."
    ]
    assert p.received("quan") == []
    await p.wakes(at("Tue", "07:00"))
    (forward,) = p.received("quan")
    assert forward.startswith("❓ YC1 về việc CV1 (trực cổng 2 sáng mai 7h-11h): anh Tài")
    assert p.received("ha") == []


async def test_a_giver_the_bot_cannot_write_to_the_coordinators_get_it_naming_the_task(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """Chị Hà gave the task in the group and has never written to the bot privately."""
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path, silent=("ha",))
    await p.says("ha", f"/giaoviec @Tài {WATCH}", at("Mon", "08:00"), group=HD)
    p.received("tai"), p.received("quan"), p.received(HD)
    notice = await p.message_id("tai", "được giao việc CV1")
    await p.says("tai", ASK, at("Mon", "09:00"), quote=notice)
    assert p.received("tai") == [
        "Cảm ơn anh Tài! Bot đã chuyển câu hỏi (YC1) tới điều phối viên. "
        "Khi có trả lời, bot sẽ báo lại ngay."
    ]
    assert p.received("quan") == [FORWARD.format(text=WATCH, ask=ASK)]
    assert await requests(p.bot) == [(ASK, "open", "private")]


@pytest.mark.parametrize("command", ["/giaoviec", "/giaoviec "])
async def test_a_members_giaoviec_lists_his_own_tasks(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path, command: str
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says("quan", f"/giaoviec @Tài {WATCH}", at("Mon", "08:00"))
    await p.says("quan", "/giaoviec @Nam kiểm tra camera nhà xe han mai", at("Mon", "08:05"))
    p.received("tai"), p.received("quan"), p.received("nam")
    mine = (
        f"📌 Việc đang giao cho anh (1):\n• CV1 {WATCH}, hạn 22:00 hôm nay\n"
        "Anh gõ /cuatoi để xem cả tuần của mình (điểm danh, thông báo)."
    )
    await p.says("tai", command, at("Mon", "09:00"))
    assert p.received("tai") == [mine]
    # In the group: his list privately, a word in the group.
    await p.says("tai", command, at("Mon", "09:01"), group=HD)
    assert p.received("tai") == [mine]
    assert p.received(HD) == ["Bot đã nhắn riêng cho anh ạ."]
    await p.says("nam", "/giaoviec của em", at("Mon", "09:00"))
    assert p.received("nam")[0].startswith("📌 Việc đang giao cho anh (1):\n• CV2 kiểm tra camera")
    await p.says("em", "/giaoviec", at("Mon", "09:00"))
    assert p.received("em") == [
        "Hiện chưa có việc nào giao cho anh/chị."
        " Anh/chị gõ /cuatoi để xem cả tuần của mình (điểm danh, thông báo)."
    ]
    async with p.bot.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Task))).scalar_one() == 2


@pytest.mark.parametrize(
    ("who", "text", "said"),
    [
        (
            "tai",
            "/giaoviec @Nam trực cổng 3 tối nay",
            "Lệnh /giaoviec dành cho điều phối viên. Cảm ơn anh đã quan tâm!",
        ),
        (
            "tai",
            "/giaoviec @Nam truc cong 3 toi nay",
            "Lệnh /giaoviec dành cho điều phối viên. Cảm ơn anh đã quan tâm!",
        ),
        (
            "tai",
            "/thongbao Kiểm tra bình chữa cháy",
            "Lệnh /thongbao dành cho điều phối viên. Cảm ơn anh đã quan tâm!",
        ),
        (
            "tai",
            "/khen @Nam bắt trộm",
            "Lệnh /khen dành cho điều phối viên. Cảm ơn anh đã quan tâm!",
        ),
        ("tai", "/xacnhan", "Lệnh /xacnhan dành cho điều phối viên. Cảm ơn anh đã quan tâm!"),
        ("tai", "/thongke", "Lệnh /thongke dành cho điều phối viên. Cảm ơn anh đã quan tâm!"),
        (
            "tai",
            "/traloi YC1 được",
            "Lệnh /traloi dành cho điều phối viên. Cảm ơn anh đã quan tâm!",
        ),
        (
            "em",
            "/giaoviec @Nam trực cổng 3",
            "Lệnh /giaoviec dành cho điều phối viên. Cảm ơn anh/chị đã quan tâm!",
        ),
    ],
)
async def test_coordinators_commands_thank_a_member_by_his_title(
    make_bot: Any,
    make_settings: Any,
    db_url: str,
    zalo: FakeZalo,
    tmp_path: Path,
    who: str,
    text: str,
    said: str,
) -> None:
    p = await park(make_bot, make_settings, db_url, zalo, tmp_path)
    await p.says(who, text, at("Mon", "09:00"))
    assert p.received(who) == [said]
    async with p.bot.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Task))).scalar_one() == 0


NOW = datetime(2026, 11, 30, 8, 0, tzinfo=VN)  # Monday morning


@pytest.mark.parametrize(
    ("typed", "due"),
    [
        (WATCH, datetime(2026, 11, 30, 22, 0, tzinfo=VN)),
        (WATCH_FOLDED, datetime(2026, 11, 30, 22, 0, tzinfo=VN)),
        ("trực cổng chính sáng mai 7h-11h", datetime(2026, 12, 1, 11, 0, tzinfo=VN)),
        ("truc cong chinh sang mai 7h-11h", datetime(2026, 12, 1, 11, 0, tzinfo=VN)),
        ("tuần tra nhà xe từ 14h tới 17h chiều nay", datetime(2026, 11, 30, 17, 0, tzinfo=VN)),
        ("tuan tra nha xe tu 14h toi 17h chieu nay", datetime(2026, 11, 30, 17, 0, tzinfo=VN)),
        ("trực cổng 3 từ 7 đến 10h tối mai", datetime(2026, 12, 1, 22, 0, tzinfo=VN)),
        ("trực đêm nay từ 22h đến 6h", datetime(2026, 12, 1, 6, 0, tzinfo=VN)),
        ("trực cổng 2 từ 18:00 đến 22:30 thứ 4", datetime(2026, 12, 2, 22, 30, tzinfo=VN)),
    ],
)
def test_a_tasks_time_window_ends_at_its_deadline(typed: str, due: datetime) -> None:
    body, due_text = split_deadline(typed)
    assert body == typed  # the task keeps its words
    assert due_text is not None and parse_deadline(due_text, NOW, VN) == due


@pytest.mark.parametrize(
    "typed",
    [
        "kiểm tra 2-3 bình chữa cháy xưởng 2",
        "thay bóng đèn 1-2 cổng phụ",
        "rà soát camera khu 5-6",
    ],
)
def test_numbers_that_are_no_hours_give_no_deadline(typed: str) -> None:
    assert split_deadline(typed) == (typed, None)


@pytest.mark.parametrize(
    ("typed", "due"),
    [
        ("kiểm tra cổng 2 han 8h tối nay", datetime(2026, 11, 30, 20, 0, tzinfo=VN)),
        ("kiem tra cong 2 han 8h toi nay", datetime(2026, 11, 30, 20, 0, tzinfo=VN)),
        ("nộp báo cáo trước 5h chiều nay", datetime(2026, 11, 30, 17, 0, tzinfo=VN)),
        ("nop bao cao truoc 5h chieu mai", datetime(2026, 12, 1, 17, 0, tzinfo=VN)),
        ("kiểm tra camera han 9h sáng mai", datetime(2026, 12, 1, 9, 0, tzinfo=VN)),
    ],
)
def test_an_hour_in_the_evening_is_after_noon(typed: str, due: datetime) -> None:
    """Before, "hạn 8h tối nay" said in the morning was 08:00 tomorrow."""
    _body, due_text = split_deadline(typed)
    assert due_text is not None and parse_deadline(due_text, NOW, VN) == due


def test_an_explicit_deadline_still_wins_over_a_window() -> None:
    body, due_text = split_deadline("trực cổng 2 từ 18h đến 22h han 5/12")
    assert body == "trực cổng 2 từ 18h đến 22h" and due_text == "5/12"
