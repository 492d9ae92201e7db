"""Tasks reaching the right person, as a council lives them: /giaoviec by full name, given name,
id or phone, a numbered list when two people fit, several assignees, "e nhận việc", "xong"
with a note, late work, /huy. Through the real webhook, processor and sender (local platform),
a real database and a movable clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.clock import FixedClock
from handlers.texts import engagement as etexts
from handlers.texts import tasks as texts
from models.exports import rows
from models.roster import import_roster_csv
from models.tables import Ack, Directive, Incident, Outbox, Task
from tests.conftest import Bot, text_event

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MON = datetime(2026, 11, 30, 8, 0, tzinfo=VN)
COUNCIL = "gcouncil"
ROSTER = """member_id,name,phone,enterprise,role,groups
q1,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil
h1,Bùi Thị Hoa,0901000009,Ban quản lý KCN,admin,gcouncil
a1,Nguyễn Văn An,0901000002,May Việt,member,gcouncil
a2,Trần Văn An,0901000003,Hansol,member,gcouncil
l1,Lê Thị Lan,0901000004,May Việt,member,gcouncil
t1,Đỗ Văn Tuấn,0901000005,Điện Quang,member,gcouncil
"""
NAMES = {
    "q1": "Phạm Minh Quân",
    "h1": "Bùi Thị Hoa",
    "a1": "Nguyễn Văn An",
    "a2": "Trần Văn An",
    "l1": "Lê Thị Lan",
    "t1": "Đỗ Văn Tuấn",
}


def local(d: int, hh: int, mm: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, d, hh, mm, tzinfo=VN)


@pytest.fixture
async def council(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(
        db=db_url, groups=[{"chat_id": COUNCIL, "name": "Hội đồng ANTT KCN", "kind": "council"}]
    )
    bot: Bot = await make_bot(settings, clock=FixedClock(MON))
    async with bot.sessions() as s, s.begin():
        result = await import_roster_csv(s, ROSTER, MON)
    assert result.errors == [] and result.created == 6
    for member in NAMES:  # everyone has opened a private chat with the bot
        await say(bot, member, "có mặt")
    return bot


async def say(
    bot: Bot, member: str, text: str, *, group: bool = False, quote: str | None = None
) -> None:
    body = text_event(
        f"@Bot ANTT {text}" if group and quote is None else text,
        sender=member,
        name=NAMES[member],
        chat=COUNCIL if group else member,
        group=group,
        at=bot.clock.now(),
        quote=quote,
    )
    status, _ = await bot.deliver(body)
    assert status == 200
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


def notice_id(bot: Bot, chat: str, code: str) -> str:
    """The platform id of the bot's "you were given task CVn" message in `chat`."""
    return next(
        line.message_id
        for line in reversed(bot.store.bot_lines(chat))
        if f"được giao việc {code}:" in line.text
    )


async def tasks(bot: Bot) -> list[dict[str, Any]]:
    async with bot.sessions() as s:
        return [row async for row in rows(s, "tasks")]


async def count(bot: Bot, model: Any) -> int:
    async with bot.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_task_goes_by_full_name_given_name_id_or_phone(council: Bot) -> None:
    await say(council, "q1", "/giaoviec @Le Thi Lan kiem tra binh chua chay xuong 2 han 1/12 17h")
    await say(council, "q1", "/giaoviec @Tuấn rà soát camera cổng 3 han mai")
    await say(council, "q1", "/giaoviec @0901 000 004 trực cổng chính", group=True)
    await say(council, "q1", "/giaoviec @t1, thay bóng đèn nhà xe")
    assigned = [(t["assignee_id"], t["text"]) for t in await tasks(council)]
    assert assigned == [
        ("l1", "kiem tra binh chua chay xuong 2"),
        ("t1", "rà soát camera cổng 3"),
        ("l1", "trực cổng chính"),
        ("t1", "thay bóng đèn nhà xe"),
    ]
    assert said(council, "q1")[1] == etexts.TASK_CREATED.format(
        code="CV1",
        name="anh/chị Lê Thị Lan",
        text="kiem tra binh chua chay xuong 2",
        due=", hạn 17:00 01/12/2026",
    )
    assert said(council, "l1")[-1].startswith("📝 Anh/chị được giao việc CV3: ")


async def test_a_deadline_that_has_passed_gives_no_task(council: Bot) -> None:
    """Yesterday's date typed on Tuesday is a slip: no task due next year, none overdue now."""
    council.clock.set(local(1, 9))  # Tuesday 1/12
    await say(council, "q1", "/giaoviec @Lan kiểm tra bình chữa cháy han 30/11 17h")
    await say(council, "q1", "/giaoviec @Lan kiểm tra camera han 1/12/2026 8h")
    assert said(council, "q1")[-2:] == [
        etexts.TASK_DUE_PAST.format(due="17:00 30/11/2026", You="Anh/chị"),
        etexts.TASK_DUE_PAST.format(due="08:00 01/12/2026", You="Anh/chị"),
    ]
    assert await count(council, Task) == 0
    # A day and month that are near ahead across the new year are next year's.
    await say(council, "q1", "/giaoviec @Lan tổng kết năm han 5/1")
    assert [t["due_at"].astimezone(VN).date().isoformat() for t in await tasks(council)] == [
        "2027-01-05"
    ]


async def test_a_middle_name_or_a_prefix_is_nobody(council: Bot) -> None:
    for text in (
        "/giaoviec @Thị trực cổng",
        "/giaoviec @Ngu kiểm tra kho",
        "/giaoviec @Van Tuan tuần tra",
    ):
        await say(council, "q1", text)
    assert [t.split('"')[1] for t in said(council, "q1")[-3:]] == ["Thị", "Ngu", "Van"]
    assert all(t.startswith("Không tìm thấy thành viên") for t in said(council, "q1")[-3:])
    assert await count(council, Task) == 0


async def test_two_people_called_an_get_a_numbered_list(council: Bot) -> None:
    await say(council, "q1", "/giaoviec @An trực cổng 3 tối nay han 20h")
    assert said(council, "q1")[-1] == etexts.TASK_PICK.format(
        n=2,
        name="An",
        options="1) anh/chị Nguyễn Văn An (May Việt)\n2) anh/chị Trần Văn An (Hansol)",
    )
    assert await count(council, Task) == 0
    await say(council, "q1", "2")
    (task,) = await tasks(council)
    assert task["assignee_id"] == "a2" and task["due_at"] == local(30, 20, month=11)
    assert said(council, "a2")[-1].startswith("📝 Anh/chị được giao việc CV1: trực cổng 3 tối nay")
    assert not any("được giao việc" in t for t in said(council, "a1"))


async def test_a_number_off_the_list_is_asked_again_and_a_full_name_picks(council: Bot) -> None:
    """ "3" of two, or the name typed out instead of its number: never silence."""
    await say(council, "q1", "/giaoviec @An trực cổng 3 tối nay han 20h")
    await say(council, "q1", "3")
    assert said(council, "q1")[-1] == etexts.TASK_PICK_RANGE.format(n=2, you="anh/chị")
    assert await count(council, Task) == 0
    await say(council, "q1", "Tran Van An")
    assert [t["assignee_id"] for t in await tasks(council)] == ["a2"]


async def test_several_assignees_each_get_their_own_task(council: Bot) -> None:
    await say(council, "q1", "/giaoviec @Lan @Tuấn kiểm tra PCCC xưởng 2 han 2/12")
    assert said(council, "q1")[-1] == texts.TASK_CREATED_MANY.format(
        n=2,
        who="anh/chị Lê Thị Lan (CV1), anh/chị Đỗ Văn Tuấn (CV2)",
        text="kiểm tra PCCC xưởng 2",
        due=", hạn 23:59 02/12/2026",
    )
    # One of the names is two people: the bot asks about that one, then assigns both.
    await say(council, "q1", "/giaoviec @Lan @An tổng vệ sinh kho")
    assert "Trả lời số thứ tự" in said(council, "q1")[-1]
    await say(council, "q1", "1")
    assert [(t["id"], t["assignee_id"]) for t in await tasks(council)] == [
        (1, "l1"),
        (2, "t1"),
        (3, "l1"),
        (4, "a1"),
    ]
    assert said(council, "a1")[-1].startswith("📝 Anh/chị được giao việc CV4: tổng vệ sinh kho")


async def test_accepting_a_task_is_never_a_directive_ack(council: Bot) -> None:
    await say(council, "q1", "/thongbao Tăng cường tuần tra dịp lễ", group=True)
    council.clock.set(local(30, 9, month=11))
    await say(council, "q1", "/giaoviec @Lan kiểm tra camera cổng 2 han 1/12 17h")
    await say(council, "q1", "/giaoviec @Tuan thay bình chữa cháy xưởng 1")
    # A quote-reply to the task, with the everyday words of a member to a superior.
    await say(council, "l1", "ok a, e nhận việc", quote=notice_id(council, "l1", "CV1"))
    assert said(council, "l1")[-1] == texts.TASK_ACCEPTED.format(
        name="anh/chị Lan", code="CV1", you="anh/chị"
    )
    # Unquoted and without diacritics: the task came after the directive, so it is the task.
    await say(council, "t1", "vang a")
    assert said(council, "t1")[-1] == texts.TASK_ACCEPTED.format(
        name="anh/chị Tuấn", code="CV2", you="anh/chị"
    )
    assert await count(council, Ack) == 0
    exported = {t["id"]: t["accepted_at"] for t in await tasks(council)}
    assert exported == {1: local(30, 9, month=11), 2: local(30, 9, month=11)}
    # Now nothing waits to be accepted: "đã nhận" acknowledges the directive as always.
    await say(council, "l1", "đã nhận")
    assert await count(council, Ack) == 1


async def test_a_directive_newer_than_the_task_keeps_its_ack(council: Bot) -> None:
    await say(council, "q1", "/giaoviec @Lan kiểm tra camera cổng 2")
    council.clock.set(local(30, 10, month=11))
    await say(council, "q1", "/thongbao Họp giao ban 14h", group=True)
    await say(council, "l1", "Đã nhận")
    assert await count(council, Ack) == 1
    assert (await tasks(council))[0]["accepted_at"] is None
    await say(council, "l1", "e nhan viec CV1 roi a")  # "nhận việc" is always the task
    assert (await tasks(council))[0]["accepted_at"] is not None


async def test_done_with_a_note_tells_the_assigner_the_note(council: Bot) -> None:
    await say(council, "q1", "/giaoviec @Lan @Tuấn @An kiểm tra bình chữa cháy han 1/12 17h")
    await say(council, "q1", "2")  # Trần Văn An
    council.clock.set(local(1, 10))
    await say(
        council, "l1", "Đã xong: thay 2 bình bọt, xưởng 2 ổn", quote=notice_id(council, "l1", "CV1")
    )
    assert said(council, "q1")[-1] == texts.TASK_DONE_NOTIFY.format(
        name="Anh/chị Lê Thị Lan",
        code="CV1",
        text="kiểm tra bình chữa cháy",
        late="",
        note=texts.TASK_DONE_NOTIFY_NOTE.format(note="thay 2 bình bọt, xưởng 2 ổn"),
    )
    await say(council, "t1", "/xong CV2 da kiem tra, het han 1 binh o kho 3")
    assert said(council, "q1")[-1].endswith("\nGhi chú: da kiem tra, het han 1 binh o kho 3")
    await say(council, "a2", "xong rồi ạ", quote=notice_id(council, "a2", "CV3"))
    assert said(council, "a2")[-1] == etexts.TASK_DONE.format(code="CV3", name="anh/chị An")
    assert (
        said(council, "q1")[-1]
        == "✅ Anh/chị Trần Văn An đã hoàn thành việc CV3: kiểm tra bình chữa cháy."
    )
    notes = {t["id"]: (t["status"], t["note"]) for t in await tasks(council)}
    assert notes == {
        1: ("done", "thay 2 bình bọt, xưởng 2 ổn"),
        2: ("done", "da kiem tra, het han 1 binh o kho 3"),
        3: ("done", ""),
    }


def done_question(name: str, code: str, text: str, note: str = "") -> str:
    """The bot's "did you finish it?" to the member with one open task."""
    with_note = texts.TASK_DONE_ASK_NOTE.format(note=note) if note else ""
    return texts.TASK_DONE_ASK.format(Name=name, code=code, text=text, note=with_note)


async def test_xong_without_a_quote_with_one_task_asks_and_dung_closes_it(council: Bot) -> None:
    """ "xong rồi anh, đã thay camera mới" in private, not quoting, with one open task: the bot
    asks whether that task is done; "đúng" closes it with the note and tells the assigner."""
    await say(council, "q1", "/giaoviec @Tuấn kiểm tra camera cổng sau han thu 4")
    await say(council, "t1", "nhận việc", quote=notice_id(council, "t1", "CV1"))
    council.clock.set(local(1, 10))
    await say(council, "t1", "xong roi anh, da thay camera moi")
    assert said(council, "t1")[-1] == done_question(
        "Anh/chị Tuấn", "CV1", "kiểm tra camera cổng sau", "da thay camera moi"
    )
    assert (await tasks(council))[0]["status"] == "open"
    told = len(said(council, "q1"))
    await say(council, "t1", "đúng")
    assert said(council, "t1")[-1] == etexts.TASK_DONE.format(code="CV1", name="anh/chị Tuấn")
    assert said(council, "q1")[told:] == [
        texts.TASK_DONE_NOTIFY.format(
            name="Anh/chị Đỗ Văn Tuấn",
            code="CV1",
            text="kiểm tra camera cổng sau",
            late="",
            note=texts.TASK_DONE_NOTIFY_NOTE.format(note="da thay camera moi"),
        )
    ]
    (task,) = await tasks(council)
    assert (task["status"], task["note"], task["done_at"]) == (
        "done",
        "da thay camera moi",
        local(1, 10),
    )
    await say(council, "t1", "đúng")  # the question is answered: a second "đúng" closes nothing
    assert said(council, "q1")[told + 1 :] == []


@pytest.mark.parametrize("yes", ["dung", "đúng rồi", "ừ", "vâng", "Đúng"])
async def test_each_way_of_saying_yes_closes_the_one_task(council: Bot, yes: str) -> None:
    await say(council, "q1", "/giaoviec @Lan kiểm tra camera cổng B han mai")
    await say(council, "l1", "xong")
    assert said(council, "l1")[-1] == done_question("Anh/chị Lan", "CV1", "kiểm tra camera cổng B")
    await say(council, "l1", yes)
    assert [(t["status"], t["note"]) for t in await tasks(council)] == [("done", "")]
    assert said(council, "q1")[-1].startswith("✅ Anh/chị Lê Thị Lan đã hoàn thành việc CV1")


@pytest.mark.parametrize("no", ["sai", "không", "khong"])
async def test_saying_no_leaves_the_task_open(council: Bot, no: str) -> None:
    await say(council, "q1", "/giaoviec @Lan kiểm tra camera cổng B han mai")
    await say(council, "l1", "xong rồi ạ")
    told = len(said(council, "q1"))
    await say(council, "l1", no)
    assert said(council, "l1")[-1] == texts.TASK_DONE_ASK_NO.format(code="CV1", you="anh/chị")
    assert [t["status"] for t in await tasks(council)] == ["open"]
    await say(council, "l1", "đúng")  # too late: that question was answered
    assert [t["status"] for t in await tasks(council)] == ["open"]
    assert said(council, "q1")[told:] == []


@pytest.mark.parametrize(
    "done", ["xong viec kiem tra binh chua chay roi a", "xong việc kiểm tra bình chữa cháy rồi ạ"]
)
async def test_xong_naming_the_tasks_work_is_the_task_not_an_inspection(
    council: Bot, done: str
) -> None:
    """The words after "xong" read as an inspection report; they name CV1's work, so the bot
    asks about CV1 and opens no incident. Naming other work, it stays a report."""
    await say(council, "q1", "/giaoviec @Lan kiểm tra lại bình chữa cháy xưởng 3 han mai")
    await say(council, "l1", done)
    assert said(council, "l1")[-1] == done_question(
        "Anh/chị Lan", "CV1", "kiểm tra lại bình chữa cháy xưởng 3", done.split(maxsplit=2)[2]
    )
    await say(council, "l1", "đúng")
    assert [t["status"] for t in await tasks(council)] == ["done"]
    assert await count(council, Incident) == 0


async def test_xong_naming_other_work_is_no_task(council: Bot) -> None:
    await say(council, "q1", "/giaoviec @Lan kiểm tra camera cổng B han mai")
    await say(council, "l1", "xong viec kiem tra binh chua chay roi a")
    assert [t["status"] for t in await tasks(council)] == ["open"]
    assert "phải không" not in said(council, "l1")[-1]


async def test_xong_without_a_quote_with_two_tasks_lists_the_codes(council: Bot) -> None:
    """With two open tasks "xong" names no task: the codes are listed, nothing is asked, and
    a question about the first one asked minutes before no longer stands."""
    await say(council, "q1", "/giaoviec @Lan kiểm tra camera cổng B han mai")
    await say(council, "l1", "xong")
    await say(council, "q1", "/giaoviec @Lan trực cổng 3 han mai")
    await say(council, "l1", "em làm xong rồi ạ")
    assert said(council, "l1")[-1] == texts.TASK_DONE_WHICH.format(codes="CV1, CV2", You="Anh/chị")
    await say(council, "l1", "đúng")
    assert [t["status"] for t in await tasks(council)] == ["open", "open"]


async def test_a_task_finished_late_is_done_not_overdue_for_ever(council: Bot) -> None:
    await say(council, "q1", "/giaoviec @Tuấn rà soát camera cổng 3 han 1/12 12h")
    council.clock.set(local(2, 8))
    await council.runtime.run_job("task_reminders")
    await council.drain()
    assert sum("đã quá hạn" in t for t in said(council, "t1")) == 1
    await say(
        council, "t1", "xong rồi, camera cổng 3 đã chạy lại", quote=notice_id(council, "t1", "CV1")
    )
    assert said(council, "t1")[-1] == texts.TASK_DONE_LATE.format(
        code="CV1", due="12:00 01/12/2026", name="anh/chị Tuấn"
    )
    assert "Trễ hạn (12:00 01/12/2026)" in said(council, "q1")[-1]
    council.clock.set(local(3, 8))
    await council.runtime.run_job("task_reminders")
    await council.drain()
    assert sum("đã quá hạn" in t for t in said(council, "t1")) == 1  # no more overdue notices
    (task,) = await tasks(council)
    assert task["status"] == "done" and task["done_at"] == local(2, 8)
    await say(council, "q1", "/giaoviec")
    assert said(council, "q1")[-1] == etexts.TASK_STATUS_NONE


async def test_cancel_a_task_author_or_admin_only(council: Bot) -> None:
    await say(council, "q1", "/giaoviec @Lan kiểm tra kho 3 han 1/12 8h")
    await say(council, "t1", "/huy CV1")
    assert said(council, "t1")[-1] == texts.CANCEL_NOT_ALLOWED.format(code="CV1")
    await say(council, "q1", "/huy cv1")
    assert said(council, "q1")[-1] == texts.TASK_CANCEL_DONE.format(
        code="CV1", name="anh/chị Lê Thị Lan"
    )
    assert said(council, "l1")[-1] == (
        "Việc CV1 (kiểm tra kho 3) đã được hủy. Anh/chị Lan không cần làm nữa. Cảm ơn anh/chị!"
    )
    council.clock.set(local(1, 9))
    await council.runtime.run_job("task_reminders")
    await council.drain()
    assert not any("CV1" in t and ("Nhắc" in t or "quá hạn" in t) for t in said(council, "l1"))
    await say(council, "q1", "/giaoviec @An trực đêm")
    await say(council, "q1", "1")
    await say(council, "h1", "/huy CV2")  # the admin may cancel anyone's task
    assert said(council, "a1")[-1] == texts.TASK_CANCEL_NOTICE.format(
        code="CV2", text="trực đêm", Name="Anh/chị An", you="anh/chị"
    )
    assert [t["status"] for t in await tasks(council)] == ["cancelled", "cancelled"]


async def test_cancel_a_directive_tells_its_groups_and_stops_reminders(council: Bot) -> None:
    await say(council, "q1", "/thongbao Kiểm tra hệ thống báo cháy trước 17h", group=True)
    await say(council, "l1", "/huy TB1")
    assert said(council, "l1")[-1] == texts.CANCEL_NOT_ALLOWED.format(code="TB1")
    await say(council, "q1", "/huy TB1")
    assert said(council, COUNCIL)[-1] == texts.DIRECTIVE_CANCEL_POST.format(code="TB1")
    assert said(council, "q1")[-1] == texts.DIRECTIVE_CANCEL_DONE.format(
        code="TB1", groups="Hội đồng ANTT KCN"
    )
    council.clock.set(local(30, 20, month=11))
    before = len(council.store.bot_lines())
    await council.runtime.run_job("ack_reminders")
    await council.drain()
    assert council.store.bot_lines()[before:] == []
    async with council.sessions() as s:
        assert (await s.execute(select(Directive.status))).scalar_one() == "cancelled"


async def test_the_tasks_export_has_the_spec_columns(council: Bot) -> None:
    await say(council, "q1", "/giaoviec @Lan kiểm tra kho 3")
    (row,) = await tasks(council)
    spec = [
        "id",
        "assignee_id",
        "text",
        "due_at",
        "status",
        "created_at",
        "accepted_at",
        "done_at",
        "note",
    ]
    assert [k for k in row if k in spec] == spec


TITLED = """member_id,name,phone,enterprise,role,groups,title
q1,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil,anh
l1,Lê Thị Lan,0901000004,May Việt,member,gcouncil,chị
t1,Đỗ Văn Tuấn,0901000005,Điện Quang,member,gcouncil,Đồng chí
a1,Nguyễn Văn An,0901000002,May Việt,member,gcouncil,
a2,Trần Văn An,0901000003,Hansol,member,gcouncil,ông bà anh chị em cô dì chú bác cậu mợ
"""


async def test_people_are_addressed_by_title_and_given_name(council: Bot) -> None:
    async with council.sessions() as s, s.begin():
        result = await import_roster_csv(s, TITLED, MON)
    assert result.errors == [
        "line 6: title 'ông bà anh chị em cô dì chú bác cậu mợ' is longer than 30; kept empty"
    ]
    # The afternoon shift: the fixture's "có mặt" this morning is answered once a shift.
    council.clock.advance(timedelta(hours=6))
    await say(council, "l1", "co mat")
    assert said(council, "l1")[-1].startswith("✅ Đã ghi nhận chị Lan có mặt lúc")
    await say(council, "a1", "có mặt")
    assert said(council, "a1")[-1].startswith("✅ Đã ghi nhận anh/chị An có mặt lúc")
    await say(council, "q1", "/giaoviec @Tuấn thay bình chữa cháy kho 1")
    assert said(council, "q1")[-1].startswith("📝 Đã giao việc CV1 cho đồng chí Đỗ Văn Tuấn:")
    await say(council, "t1", "vâng ạ")
    assert said(council, "t1")[-1] == texts.TASK_ACCEPTED.format(
        name="đồng chí Tuấn", code="CV1", you="đồng chí"
    )
    await say(council, "t1", "nhận việc", quote=notice_id(council, "t1", "CV1"))
    assert said(council, "t1")[-1] == "Đồng chí đã nhận việc CV1 rồi. Cảm ơn đồng chí!"
    await say(council, "q1", "/thongbao Kiểm tra bình chữa cháy các xưởng")
    await say(council, "t1", "đã nhận")
    await say(council, "t1", "/danhan TB1")
    assert said(council, "t1")[-1] == "Đồng chí đã xác nhận thông báo TB1 rồi. Cảm ơn đồng chí!"
    await say(council, "q1", "/huy TB1")
    await say(council, "t1", "đã nhận")  # no directive is open
    assert said(council, "t1")[-1] == (
        "Hiện không có thông báo nào cần đồng chí xác nhận. Cảm ơn đồng chí!"
    )
    await say(council, "t1", "/xong CV1 đã thay")
    assert said(council, "t1")[-1] == etexts.TASK_DONE.format(code="CV1", name="đồng chí Tuấn")
    assert said(council, "q1")[-1].startswith("✅ Đồng chí Đỗ Văn Tuấn đã hoàn thành việc CV1")


async def test_taking_an_incident_is_not_accepting_a_task(council: Bot) -> None:
    await say(council, "h1", "/giaoviec @Quân rà soát phương án PCCC")
    await say(council, "l1", "Cháy kho 3 công ty May Việt, khói nhiều")
    await say(council, "q1", "nhận xử lý")
    async with council.sessions() as s:
        handler = (await s.execute(select(Incident.handler_pk))).scalar_one()
    assert handler is not None
    assert (await tasks(council))[0]["accepted_at"] is None


async def test_taking_an_incident_is_never_a_directive_ack(council: Bot) -> None:
    """ "nhận xử lý" quoting the bot's receipt of a report in the group takes the incident
    (for whoever may), and from anyone is no acknowledgement of the open directive."""
    await say(council, "q1", "/thongbao Kiểm tra bình chữa cháy các xưởng")
    await say(council, "l1", "Cháy kho 3 công ty May Việt, khói nhiều", group=True)
    receipt = next(
        line.message_id
        for line in reversed(council.store.bot_lines(COUNCIL))
        if "sự việc SV1" in line.text
    )
    await say(council, "t1", "nhận xử lý", group=True, quote=receipt)  # a member: not his
    await say(council, "t1", "nhận xử lý SV1")
    assert said(council, "t1")[-1] == "Việc cập nhật sự việc dành cho điều phối viên. " + (
        "Cảm ơn anh/chị đã quan tâm!"
    )
    assert await count(council, Ack) == 0
    await say(council, "h1", "nhận xử lý", group=True, quote=receipt)  # an admin: hers
    async with council.sessions() as s:
        status, handler = (await s.execute(select(Incident.status, Incident.handler_pk))).one()
    assert status == "acknowledged" and handler is not None
    assert "nhận xử lý sự việc SV1" in said(council, COUNCIL)[-1]
    assert await count(council, Ack) == 0


async def test_a_number_answers_only_the_latest_question(council: Bot) -> None:
    await say(council, "q1", "/giaoviec @An trực cổng 3")
    await say(council, "q1", "/giaoviec @An trực cổng 5")
    await say(council, "q1", "1")
    await say(council, "q1", "1")  # no question is open any more: assigns nothing
    assert [(t["assignee_id"], t["text"]) for t in await tasks(council)] == [("a1", "trực cổng 5")]


async def test_acknowledging_a_notice_and_promising_to_be_there_is_an_acknowledgement(
    council: Bot,
) -> None:
    """ "đã nhận thông báo, 7h em có mặt" answers the directive: it is acknowledged, and the
    bot does not record Lan as present at 08:00 when she says she will be there at 7."""
    await say(council, "q1", "/thongbao Tập trung tại cổng chính lúc 7h sáng mai để diễn tập PCCC")
    await say(council, "l1", "đã nhận thông báo, 7h em có mặt")
    assert said(council, "l1")[-1] == (
        "👍 Đã ghi nhận anh/chị Lan xác nhận thông báo TB1. Cảm ơn anh/chị!"
    )
    assert await count(council, Ack) == 1


async def test_nhan_viec_in_the_group_accepts_the_task_given_there(council: Bot) -> None:
    """Quân gives the task in the council group; Tuấn answers there, unquoted, as members
    do ("@Bot ANTT nhan viec"): it is accepted, not met with silence. A question about who
    takes a task, or someone without one, accepts nothing."""
    await say(council, "q1", "/giaoviec @Tuấn kiểm tra camera cổng 2 han 2/12 17h", group=True)
    await say(council, "q1", "/giaoviec @Lan trực cổng 3", group=True)
    await say(council, "a1", "ai nhận việc kiểm tra camera vậy?", group=True)
    await say(council, "h1", "nhận việc", group=True)  # Hoa has no task: not hers to take
    assert [t["accepted_at"] for t in await tasks(council)] == [None, None]
    council.clock.set(local(30, 8, 20, month=11))
    await say(council, "t1", "nhan viec", group=True)
    assert said(council, COUNCIL)[-1] == texts.TASK_ACCEPTED.format(
        name="anh/chị Tuấn", code="CV1", you="anh/chị"
    )
    await say(council, "l1", "e nhận việc CV2 ạ", group=True)
    assert said(council, COUNCIL)[-1] == texts.TASK_ACCEPTED.format(
        name="anh/chị Lan", code="CV2", you="anh/chị"
    )
    accepted = [t["accepted_at"] for t in await tasks(council)]
    assert accepted == [local(30, 8, 20, month=11)] * 2
    assert await count(council, Ack) == 0


GIVEN = "được giao việc CV1:"


async def outbox_rows(bot: Bot, chat: str) -> list[tuple[str, str, str | None]]:
    """(status, text, why) of every message queued for `chat`, oldest first."""
    async with bot.sessions() as s:
        found = await s.execute(
            select(Outbox.status, Outbox.text, Outbox.last_error)
            .where(Outbox.chat_id == chat)
            .order_by(Outbox.id)
        )
        return [(status, text, why) for status, text, why in found.all()]


async def test_a_task_accepted_at_night_is_not_asked_for_again_in_the_morning(
    council: Bot,
) -> None:
    """Sunday 22:55 the task to Tuấn waits for the morning; told by phone, he accepts that
    night. At 07:55 he must not be asked to accept what he has accepted."""
    council.clock.set(local(6, 22, 55))  # Sunday, quiet hours
    await say(council, "q1", "/giaoviec @Tuấn kiểm tra camera cổng sau han thu 4")
    assert not any("được giao việc" in t for t in said(council, "t1"))  # held for the morning
    council.clock.set(local(6, 23, 5))
    await say(council, "t1", "nhan viec")
    # What the withdrawn notice would have said, with how to close it: quoted, "xong" closes.
    assert said(council, "t1")[-1] == texts.TASK_ACCEPTED_UNSENT.format(
        name="anh/chị Tuấn",
        code="CV1",
        text="kiểm tra camera cổng sau",
        due=", hạn 23:59 09/12/2026",
        you="anh/chị",
    )
    council.clock.set(local(7, 7, 55))
    await council.drain()
    assert not any("được giao việc" in t for t in said(council, "t1"))
    notices = [
        (status, why) for status, text, why in await outbox_rows(council, "t1") if GIVEN in text
    ]
    assert notices == [("cancelled", "task accepted before it was sent")]
    (task,) = await tasks(council)
    assert task["accepted_at"] == local(6, 23, 5) and task["status"] == "open"
    accepted = council.store.bot_lines("t1")[-1].message_id
    await say(council, "t1", "xong rồi, đã thay camera", quote=accepted)
    assert (await tasks(council))[0]["status"] == "done"


async def test_a_task_closed_or_cancelled_at_night_never_reaches_its_assignee(
    council: Bot,
) -> None:
    council.clock.set(local(6, 22, 55))
    await say(council, "q1", "/giaoviec @Tuấn kiểm tra camera cổng sau han thu 4")
    await say(council, "q1", "/giaoviec @Lan trực cổng 3 han thu 4")
    council.clock.set(local(6, 23, 10))
    await say(council, "t1", "/xong CV1 da thay camera moi")
    await say(council, "q1", "/huy CV2")
    council.clock.set(local(7, 7, 55))
    await council.drain()
    assert not any("được giao việc" in t for t in said(council, "t1") + said(council, "l1"))
    assert [t["status"] for t in await tasks(council)] == ["done", "cancelled"]
    # Chị Lan never heard of CV2: no notice that it is cancelled either; Quân is told why.
    assert not any("CV2" in t for t in said(council, "l1"))
    assert any(
        t.startswith("Đã hủy việc CV2") and "Tin giao việc chưa gửi đi" in t
        for t in said(council, "q1")
    )


@pytest.mark.parametrize(
    ("typed", "text", "due"),
    [
        ("kiểm tra camera cổng sau trước 16h hôm nay", "kiểm tra camera cổng sau", "16:00 30/11"),
        ("kiem tra camera cong sau truoc 16h30 hom nay", "kiem tra camera cong sau", "16:30 30/11"),
        ("nộp danh sách tạm trú trước thứ 6", "nộp danh sách tạm trú", "23:59 04/12"),
        ("nop danh sach tam tru truoc 17h thu 6 nhe", "nop danh sach tam tru", "17:00 04/12"),
        ("báo cáo tổng kết trước 5/12", "báo cáo tổng kết", "23:59 05/12"),
        ("thay bóng đèn nhà xe trong hôm nay", "thay bóng đèn nhà xe", "23:59 30/11"),
        ("trực cổng trước khi công nhân vào ca", "trực cổng trước khi công nhân vào ca", None),
        ("kiểm tra khu vực trước cổng 3", "kiểm tra khu vực trước cổng 3", None),
    ],
)
async def test_a_deadline_typed_as_people_say_it_is_the_deadline(
    council: Bot, typed: str, text: str, due: str | None
) -> None:
    """Coordinators write "trước 16h hôm nay", "trước thứ 6", "trong hôm nay" more often than
    "hạn ...": that is the deadline, reminded and chased; "trước khi ...", "trước cổng 3"
    are part of the work."""
    await say(council, "q1", f"/giaoviec @Lan {typed}")
    [task] = await tasks(council)
    assert task["text"] == text
    got = task["due_at"].astimezone(VN).strftime("%H:%M %d/%m") if task["due_at"] else None
    assert got == due
    confirm = said(council, "q1")[-1]
    assert confirm.startswith(f"📝 Đã giao việc CV1 cho anh/chị Lê Thị Lan: {text}")
    assert (", hạn " in confirm) == (due is not None)


async def test_a_task_given_at_night_tells_the_coordinator_when_it_reaches_the_member(
    council: Bot,
) -> None:
    """At 23:10 the task's message waits for the morning (no messages at night): the
    coordinator is told when it will go, so that he phones if it cannot wait."""
    council.clock.set(local(30, 23, 10, month=11))
    await say(council, "q1", "/giaoviec @Lan kiểm tra camera cổng sau han mai 10h")
    confirm = said(council, "q1")[-1]
    assert confirm == etexts.TASK_CREATED.format(
        code="CV1",
        name="anh/chị Lê Thị Lan",
        text="kiểm tra camera cổng sau",
        due=", hạn 10:00 01/12/2026",
    ) + texts.TASK_HELD_FOR_MORNING.format(at="07:10 01/12", you="anh/chị")
    assert not any("CV1" in line for line in said(council, "l1"))
    council.clock.set(local(1, 7, 11))
    await council.drain()
    assert said(council, "l1")[-1].startswith("📝 Anh/chị được giao việc CV1: ")
    # By day nothing is added.
    await say(council, "q1", "/giaoviec @Tuấn thay bóng đèn nhà xe han 17h")
    assert "🌙" not in said(council, "q1")[-1]


@pytest.mark.parametrize(
    "report",
    [
        "kiem tra xong 12 binh, 2 binh het han can thay",
        "kiểm tra xong 12 bình, 2 bình hết hạn cần thay",
    ],
)
async def test_work_said_done_with_its_findings_closes_the_task(council: Bot, report: str) -> None:
    """Quân gives Tuấn the extinguishers to check in the group; Tuấn takes it, then reports
    "kiểm tra xong 12 bình, 2 bình hết hạn cần thay" there, unquoted. It is CV1's end, with
    his words as its result, and Quân reads them (before: "báo cáo tuần tra ... tình hình bình
    thường", the task left open). Nothing is called normal, and no second report is filed."""
    work = "kiểm tra lại bình chữa cháy khu kho trước thứ 6"
    await say(council, "q1", f"/giaoviec @Tuấn {work}", group=True)
    await say(council, "t1", "em nhan viec roi a", group=True)
    council.clock.set(local(1, 10, 40))
    await say(council, "t1", report, group=True)
    assert said(council, COUNCIL)[-1] == etexts.TASK_DONE.format(code="CV1", name="anh/chị Tuấn")
    assert not any("bình thường" in line for line in said(council, COUNCIL))
    (task,) = await tasks(council)
    assert (task["status"], task["note"]) == ("done", report)
    assert said(council, "q1")[-1] == texts.TASK_DONE_NOTIFY.format(
        name="Anh/chị Đỗ Văn Tuấn",
        code="CV1",
        text=task["text"],
        late="",
        note=texts.TASK_DONE_NOTIFY_NOTE.format(note=report),
    )
    assert await count(council, Incident) == 0


async def test_work_said_done_that_is_not_the_tasks_stays_a_report(council: Bot) -> None:
    """Tuấn's open task is the cameras: "kiểm tra xong 12 bình, ..." is not its end; it is a
    report of faulty fire gear, never an all-clear."""
    await say(council, "q1", "/giaoviec @Tuấn kiểm tra camera cổng B han mai", group=True)
    await say(council, "t1", "kiểm tra xong 12 bình, 2 bình hết hạn cần thay", group=True)
    assert [t["status"] for t in await tasks(council)] == ["open"]
    assert not any("bình thường" in line for line in said(council, COUNCIL))
    assert await count(council, Incident) == 1
