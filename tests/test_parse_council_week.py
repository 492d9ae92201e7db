"""Messages a council really typed in a week of the demo, misread before (parser round 8):
a worker who fainted and came to, a promise to report at the shift's end, an arrival stated
for later, a reminder to hand over, a theft told with last Wednesday, a store named with its
company. Read by `parse()` and lived through the webhook, with and without diacritics."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.parse import parse
from models.tables import CheckIn, Incident
from tests import test_tasks_people as council_chat
from tests.conftest import Bot
from tests.test_incidents import NIGHT, bot, last, rows, say
from tests.test_parse_alerts import alerts
from tests.test_tasks_people import council

__all__ = ["bot", "council"]  # the fixtures

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# Thursday 3 Dec 2026, 08:14: the day shift has begun.
THURSDAY_0814 = datetime(2026, 12, 3, 8, 14, tzinfo=VN)

# ------------------------------------------------------------- a worker fainted and came to


@pytest.mark.parametrize(
    "text",
    [
        "công nhân ngất xỉu ở xưởng may, đã tỉnh",
        "cong nhan ngat xiu o xuong may, da tinh lai roi",
        "Xưởng may có 1 chị công nhân bị ngất, giờ đã tỉnh lại rồi",
        "xuong may co 1 chi cong nhan bi ngat, gio tinh lai roi a",
    ],
)
def test_a_worker_who_fainted_and_came_to_is_medium(text: str) -> None:
    p = parse(text, THURSDAY_0814)
    assert (p.type, p.severity, p.reasons) == ("incident", "medium", ()), p.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "ngất xỉu, chảy máu đầu, đã tỉnh",
        "ngat xiu, chay mau dau, da tinh",
        "công nhân ngất xỉu ở xưởng may, đã tỉnh nhưng đã đưa đi cấp cứu",
    ],
)
def test_coming_to_leaves_a_bleeding_head_high(text: str) -> None:
    p = parse(text, THURSDAY_0814)
    assert (p.type, p.severity) == ("incident", "high"), p.to_dict()
    assert "injury" in p.reasons and "fainted" not in p.reasons, p.reasons


@pytest.mark.parametrize(
    "text",
    [
        "công nhân ngất xỉu ở xưởng may",
        "cong nhan ngat xiu o xuong may",
        "công nhân ngất xỉu ở xưởng may, chưa tỉnh",
        "cong nhan bat tinh o xuong may, van chua tinh lai",
    ],
)
def test_a_fainting_not_over_is_high_for_its_own_reason(text: str) -> None:
    p = parse(text, THURSDAY_0814)
    assert (p.type, p.severity, p.reasons) == ("incident", "high", ("fainted",)), p.to_dict()


async def test_the_worker_who_came_to_wakes_nobody_and_the_bleeding_one_does(bot: Bot) -> None:
    """At 02:00 Em reports, typed bare, a worker who fainted and came to: filed, medium, no
    alert. An then reports one who fainted with a bleeding head: Quân is woken."""
    bot.clock.set(NIGHT)
    await say(bot, "cong nhan ngat xiu o xuong may, da tinh lai roi", sender="u2")
    (incident,) = await rows(bot, Incident)
    assert (incident.severity, incident.urgent) == ("medium", False)
    assert alerts(bot, "c1") == []
    assert "xưởng may" in last(bot, "u2"), last(bot, "u2")
    await say(bot, "công nhân ngất xỉu ở kho 2, chảy máu đầu, đã tỉnh", sender="u1")
    bleeding = (await rows(bot, Incident))[-1]
    assert (bleeding.severity, bleeding.urgent) == ("high", True)
    (alert,) = alerts(bot, "c1")
    assert "kho 2" in alert, alert


# ------------------------------------------------ a promise to report at the shift's end


@pytest.mark.parametrize(
    "text",
    [
        "hết ca em báo anh nhé",
        "het ca e bao a nhe",
        "xong ca em gửi sổ trực cho anh",
        "xong ca e gui so truc cho a nha",
        "hết ca em sẽ báo cáo lại",
        "lúc hết ca em báo anh",
        "em trực đến hết ca",
    ],
)
def test_the_shifts_end_as_a_time_is_no_sign_off(text: str) -> None:
    assert parse(text, THURSDAY_0814).type == "other", parse(text, THURSDAY_0814).to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "hết ca rồi anh",
        "het ca r a",
        "xong ca",
        "em về đây, bàn giao cho anh Tùng",
        "hết ca rồi, em báo anh nhé",
        "hết ca em về nhé anh",
    ],
)
def test_a_sign_off_stays_a_shift_end(text: str) -> None:
    assert parse(text, THURSDAY_0814).type == "check_in", parse(text, THURSDAY_0814).to_dict()


async def test_tuans_promise_is_no_shift_end_and_his_sign_off_is(council: Bot) -> None:
    """At 21:40 Tuấn promises to report at the shift's end: nothing recorded, no "hết ca
    lúc". At 22:05 he signs off: that is his shift's end."""
    council.clock.set(council_chat.local(1, 21, 40))
    await council_chat.say(council, "t1", "het ca e bao a nhe")
    assert not any("hết ca lúc" in line for line in council_chat.said(council, "t1"))
    assert await rows(council, CheckIn, CheckIn.kind == "shift_end") == []
    council.clock.set(council_chat.local(1, 22, 5))
    await council_chat.say(council, "t1", "hết ca rồi anh")
    assert "hết ca lúc 22:05" in council_chat.said(council, "t1")[-1]
    ends = await rows(council, CheckIn, CheckIn.kind == "shift_end")
    assert [r.note for r in ends] == ["hết ca rồi anh"]


# ------------------------------------------------------------- an arrival stated for later


@pytest.mark.parametrize(
    ("text", "sent", "at"),
    [
        ("7h tối em có mặt", THURSDAY_0814, "2026-12-03T19:00"),
        ("7h toi e co mat nha a", THURSDAY_0814, "2026-12-03T19:00"),
        ("14h em có mặt ở cổng 2", THURSDAY_0814, "2026-12-03T14:00"),
        ("7h em có mặt rồi", THURSDAY_0814.replace(hour=7, minute=5), "2026-12-03T07:00"),
        ("7h e co mat roi", THURSDAY_0814.replace(hour=7, minute=5), "2026-12-03T07:00"),
        ("7h em có mặt", THURSDAY_0814.replace(hour=7, minute=5), "2026-12-03T07:00"),
    ],
)
def test_the_hour_of_an_arrival_is_the_one_said(text: str, sent: datetime, at: str) -> None:
    """An hour stated with "có mặt" and nothing done is the coming one: later today, not
    last evening (an incident's bare hour still prefers the past)."""
    p = parse(text, sent).to_dict()
    assert (p["type"], p["time"]) == ("check_in", {"at": at}), p


def test_an_incidents_bare_hour_still_prefers_the_past() -> None:
    p = parse("7h tối có trộm vào kho 2", THURSDAY_0814).to_dict()
    assert p["time"] == {"at": "2026-12-02T19:00"}, p


async def test_lan_saying_she_comes_at_7pm_is_not_checked_in_at_0814(council: Bot) -> None:
    """Lan says at 08:14 she will be there at 7 p.m.: no attendance now, nor "có mặt lúc". At
    07:05 the next morning "7h em có mặt rồi" is her attendance, and so is "em có mặt"."""
    council.clock.set(THURSDAY_0814)
    await council_chat.say(council, "l1", "7h tối em có mặt")
    await council_chat.say(council, "t1", "7h toi e co mat nha a")
    for member in ("l1", "t1"):
        assert not any("có mặt lúc" in s for s in council_chat.said(council, member)[1:])
    today = await rows(council, CheckIn, CheckIn.at >= THURSDAY_0814)
    assert today == []
    council.clock.set(datetime(2026, 12, 4, 7, 5, tzinfo=VN))
    await council_chat.say(council, "l1", "7h em có mặt rồi")
    await council_chat.say(council, "t1", "em có mặt")
    for member in ("l1", "t1"):
        assert "có mặt lúc 07:05" in council_chat.said(council, member)[-1]
    friday = await rows(council, CheckIn, CheckIn.at >= datetime(2026, 12, 4, tzinfo=VN))
    assert sorted(r.note for r in friday) == ["7h em có mặt rồi", "em có mặt"]


# --------------------------------------------------------------- a reminder to hand over


@pytest.mark.parametrize(
    "text",
    [
        "nhớ bàn giao ca xong mới về",
        "nho ban giao ca xong moi ve",
        "mọi người nhớ giao ca xong rồi mới về nhé",
        "ae nho ban giao ca xong moi duoc ve",
    ],
)
def test_a_reminder_to_hand_over_is_no_check_in(text: str) -> None:
    assert parse(text, THURSDAY_0814).type == "other", parse(text, THURSDAY_0814).to_dict()


@pytest.mark.parametrize(
    "text", ["bàn giao ca xong", "ban giao ca xong roi a", "anh em cổng 2 có mặt đủ rồi"]
)
def test_a_handover_done_stays_a_check_in(text: str) -> None:
    assert parse(text, THURSDAY_0814).type == "check_in", parse(text, THURSDAY_0814).to_dict()


async def test_quans_reminder_to_hand_over_records_nobody(council: Bot) -> None:
    council.clock.set(council_chat.local(3, 21, 50))
    await council_chat.say(council, "q1", "nhớ bàn giao ca xong mới về", group=True)
    await council_chat.say(council, "l1", "nho ban giao ca xong moi ve")
    assert await rows(council, CheckIn, CheckIn.kind == "shift_end") == []
    assert not any("hết ca lúc" in s for s in council_chat.said(council, council_chat.COUNCIL))
    assert not any("hết ca lúc" in s for s in council_chat.said(council, "l1"))


# ----------------------------------------------------- a theft told with a bare weekday


@pytest.mark.parametrize(
    ("text", "sent", "day"),
    [
        ("Thông báo: thứ 4 có trộm vào kho 2", THURSDAY_0814, date(2026, 12, 2)),
        ("Thong bao: thu 4 co trom vao kho 2", THURSDAY_0814, date(2026, 12, 2)),
        ("TB: thứ 4 mất trộm 2 cuộn cáp ở kho 2", THURSDAY_0814, date(2026, 12, 2)),
        # Wednesday itself: today's
        (
            "Thông báo: thứ 4 có trộm vào kho 2",
            datetime(2026, 12, 2, 16, 0, tzinfo=VN),
            date(2026, 12, 2),
        ),
        # Tuesday: last week's Wednesday, never tomorrow
        (
            "Thong bao: thu 4 co trom vao kho 2",
            datetime(2026, 12, 1, 9, 0, tzinfo=VN),
            date(2026, 11, 25),
        ),
        # what will happen keeps the coming one
        ("Thông báo: thứ 4 họp giao ban", THURSDAY_0814, date(2026, 12, 9)),
        ("TB: thu 4 hop giao ban", THURSDAY_0814, date(2026, 12, 9)),
        ("Thông báo: thứ 4 diễn tập PCCC tại kho 2", THURSDAY_0814, date(2026, 12, 9)),
        ("Thông báo: thứ 4 công an KCN kiểm tra PCCC", THURSDAY_0814, date(2026, 12, 9)),
    ],
)
def test_a_bare_weekday_is_the_last_for_what_happened(text: str, sent: datetime, day: date) -> None:
    p = parse(text, sent)
    assert p.time == day, p.to_dict()


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("Thông báo: 22h thứ 4 có trộm vào kho 2", "2026-12-02T22:00"),
        ("Thông báo: 22h thứ 5 có trộm vào kho 2", "2026-11-26T22:00"),  # before now: last week
    ],
)
def test_a_weekday_and_hour_of_a_theft_are_before_now(text: str, at: str) -> None:
    assert parse(text, THURSDAY_0814).to_dict()["time"] == {"at": at}


async def test_the_theft_reported_on_thursday_is_filed_on_wednesday(bot: Bot) -> None:
    bot.clock.set(THURSDAY_0814)
    await say(bot, "Thông báo: thứ 4 có trộm vào kho 2", sender="u2")
    (incident,) = await rows(bot, Incident)
    assert incident.category == "theft"
    assert "02/12" in last(bot, "u2") and "09/12" not in last(bot, "u2"), last(bot, "u2")


# ------------------------------------------------------- a store named with its company


HANSOLS_STORE = [("warehouse", "kho nguyên liệu"), ("company", "Hansol")]


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("kho nguyên liệu Hansol", HANSOLS_STORE),
        ("mất trộm ở kho nguyên liệu Hansol", HANSOLS_STORE),
        ("mat trom o kho nguyen lieu Hansol", HANSOLS_STORE),
        ("cháy xưởng may Samsung Vina", [("workshop", "xưởng may"), ("company", "Samsung Vina")]),
        ("chay xuong may Samsung Vina", [("workshop", "xưởng may"), ("company", "Samsung Vina")]),
        ("cháy kho Hansol", [("warehouse", "kho"), ("company", "Hansol")]),
        # no company: Vietnamese words in capitals, teen code, all lower or all caps
        ("kho nguyên liệu Anh em ra hỗ trợ", [("warehouse", "kho nguyên liệu")]),
        ("mat trom o kho nguyen lieu hansol", [("warehouse", "kho nguyên liệu")]),
        ("KHO NGUYÊN LIỆU HANSOL", [("warehouse", "KHO NGUYÊN LIỆU")]),
        ("cháy kho nguyên liệu KCN Quế Võ", [("warehouse", "kho nguyên liệu")]),
    ],
)
def test_a_place_keeps_the_company_typed_after_it(text: str, places: list[tuple[str, str]]) -> None:
    got = [(p.kind, p.text) for p in parse(text, THURSDAY_0814).places]
    assert got[: len(places)] == places and len(got) == len(places), got


async def test_the_theft_receipt_names_the_store_and_its_company(bot: Bot) -> None:
    """An's receipt names Hansol's store; Em, typing bare, is asked about the same store."""
    await say(bot, "mất trộm ở kho nguyên liệu Hansol", sender="u1")
    assert "Nơi: kho nguyên liệu, Cty Hansol" in last(bot, "u1"), last(bot, "u1")
    await say(bot, "mat trom o kho nguyen lieu Hansol", sender="u2")
    assert "ở kho nguyên liệu, Cty Hansol" in last(bot, "u2"), last(bot, "u2")
