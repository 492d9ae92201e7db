"""Council chat as members type it on their phones (with and without diacritics): reminders,
arrivals, acknowledgements, clock times, place codes, people trapped and laughter, read by
`parse()` and through the webhook."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.intents.checkins import scheduled
from handlers.parse import parse
from models.tables import Ack, CheckIn, Incident, Member
from tests import test_tasks_people as council_chat
from tests.conftest import Bot, text_event
from tests.test_incidents import GROUP, bot, last, rows, say
from tests.test_parse_alerts import alerts
from tests.test_tasks_people import council

__all__ = ["bot", "council"]  # the fixtures, shared with tests/test_incidents.py and
# tests/test_tasks_people.py

SENT = datetime.fromisoformat("2026-11-27T22:00:00+07:00")
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(text: str) -> str | None:
    when = parse(text, SENT).to_dict()["time"]
    return None if when is None else when.get("at")


# ------------------------------------------------------------------ reminders are not check-ins


@pytest.mark.parametrize(
    "text",
    [
        "nhớ có mặt đúng giờ nhé",
        "nho co mat dung gio nhe",
        "Nhớ điểm danh trước 7h nha",
        "các đồng chí có mặt lúc 7h",
        "cac dong chi co mat luc 7h nhe",
        "mọi người nhớ điểm danh",
        "moi nguoi nho diem danh nha",
        "Anh em có mặt đúng 6h sáng mai tại cổng chính",
        "ae nhớ vào ca đúng giờ",
        "Đề nghị các đồng chí có mặt lúc 7h30",
        "hãy có mặt trước 7h",
    ],
)
def test_a_reminder_to_others_is_not_the_senders_check_in(text: str) -> None:
    p = parse(text, SENT)
    assert p.type not in ("check_in", "incident", "absent", "ack"), p.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "có mặt",
        "co mat nha moi nguoi",
        "có mặt nha mọi người",
        "Em có mặt ạ 🙋‍♂️",
        "anh em cổng 2 có mặt đủ rồi",
        "ae có mặt đầy đủ",
        "Tổ 2 đã có mặt tại chốt cổng số 3",
        "mọi người ơi em có mặt rồi nhé",
        "em vao ca roi",
    ],
)
def test_a_check_in_stays_a_check_in(text: str) -> None:
    assert parse(text, SENT).type == "check_in"


async def test_a_coordinators_reminder_records_no_check_in(bot: Bot) -> None:
    await say(bot, "nhớ có mặt đúng giờ nhé", sender="c1")
    await say(bot, "nho co mat dung gio nhe", sender="u2")
    assert await rows(bot, CheckIn) == []
    await say(bot, "có mặt", sender="u1")
    (row,) = await rows(bot, CheckIn)
    assert row.note == "có mặt"


@pytest.mark.parametrize(
    "text",
    [
        "em trực ca 3 nhé anh",
        "e truc ca 3 nha a",
        "em đang trực ca đêm ạ",
        "e dang truc ca dem a",
        "tổ 2 trực ca 1 hôm nay",
    ],
)
def test_a_member_on_shift_checks_in(text: str) -> None:
    """ "em trực ca 3" says the member is on shift now, as "đã vào ca" does."""
    assert parse(text, SENT).type == "check_in", parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("hôm qua ai trực ca 3 vậy", "question"),
        ("em không trực ca 3 được, em xin nghỉ", "absent"),
        ("nhớ trực ca 3 đúng giờ nhé", "other"),
    ],
)
def test_shift_words_that_are_no_check_in(text: str, kind: str) -> None:
    assert parse(text, SENT).type == kind, parse(text, SENT).to_dict()


async def test_an_on_the_night_shift_is_checked_in(bot: Bot) -> None:
    """An types bare that he is on shift 3: he is told his shift start is recorded, once."""
    await say(bot, "e truc ca 3 nha a", sender="u1")
    assert "vào ca lúc" in last(bot, "u1"), last(bot, "u1")
    (row,) = await rows(bot, CheckIn)
    assert row.kind == "shift"


# ------------------------------------------------------------- a shift's roll call is a check-in


@pytest.mark.parametrize(
    "text",
    [
        "@Bot ANTT ca chiều tổ bảo vệ May Việt đủ 4 người, em trực cổng chính",
        "ca chieu to bao ve may viet du 4 nguoi, em truc cong chinh",
        "ca 3 đủ quân số",
        "ca 3 du quan so",
        "quân số đủ 5/5",
        "quan so du 5/5",
        "tổ 2 đủ 4/4",
        # short of people: still the shift reporting in, the shortage in the note
        "ca 3 thiếu 1 người",
        "ca 3 thieu 1 nguoi",
        "ca 3 thiếu quân số",
        "ca 3 thieu quan so",
        "ca 3 chưa đủ quân số",
        "ca 3 chua du quan so",
    ],
)
def test_a_shifts_roll_call_is_a_check_in(text: str) -> None:
    p = parse(text, SENT)
    assert (p.type, p.category, p.severity, p.time) == ("check_in", None, None, None), p.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        # answering "báo cáo số người trực mỗi ca": who is on duty, said as a count
        "@Bot ANTT ca đêm nay Hansol có 4 người trực",
        "ca dem nay hansol co 4 nguoi truc",
        "đêm nay bên em 3 người trực",
        "dem nay ben em 3 nguoi truc",
        "ca 3 hôm nay có 5 anh em trực",
        "ca 3 hom nay co 5 ae truc",
        "@Bot ANTT ca đêm nay 4 người",
        "@Bot ANTT ca dem nay 4 nguoi",
    ],
)
def test_a_head_count_on_duty_is_a_roll_call(text: str) -> None:
    p = parse(text, SENT)
    assert (p.type, p.category, p.severity) == ("check_in", None, None), p.to_dict()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ca 3 đủ 4 người chưa?", "question"),
        ("xe chở đủ 4 người", "other"),  # no team nor shift named
        ("đủ 4 người", "other"),
        ("ca đêm nay có 4 người trực không?", "question"),
        ("đêm qua có 2 người lạ vào kho", "incident"),  # no team, and no one on duty
        ("nhớ báo ca 3 có mấy người trực", "other"),
        ("công ty tổ chức làm thêm giờ cho 15 người", "other"),  # "tổ chức" is no team
    ],
)
def test_a_head_count_that_is_no_roll_call(text: str, kind: str) -> None:
    assert parse(text, SENT).type == kind, parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "@Bot ANTT ca chiều tổ bảo vệ May Việt đủ 4 người, em trực cổng chính",
        "ca chieu to bao ve may viet du 4 nguoi, em truc cong chinh",
    ],
)
async def test_an_calls_the_roll_of_his_shift_in_the_group(bot: Bot, text: str) -> None:
    """An reports his team complete in the group: his shift start is recorded with what he
    said, and he is answered there (before: silence, nothing recorded)."""
    await say(bot, text, sender="u1", chat=GROUP, group=True)
    assert last(bot, GROUP).startswith("✅ Đã ghi nhận"), last(bot, GROUP)
    assert "vào ca lúc" in last(bot, GROUP)
    (row,) = await rows(bot, CheckIn)
    assert (row.kind, row.note) == ("shift", text.removeprefix("@Bot ANTT "))
    assert await rows(bot, Incident) == []


@pytest.mark.parametrize(
    "text",
    ["@Bot ANTT ca đêm nay Hansol có 4 người trực", "@Bot ANTT ca dem nay hansol co 4 nguoi truc"],
)
async def test_a_head_count_on_duty_answers_the_directive(bot: Bot, text: str) -> None:
    """Asked for the number on duty each shift, An answers in the group in the day: tonight's
    strength is recorded with his words and said back, no shift started (before: `other`, and
    silence). Said again once the night shift has begun, it is his shift start."""
    bot.clock.set(datetime(2026, 11, 27, 10, 40, tzinfo=VN))
    await say(bot, text, sender="u1", chat=GROUP, group=True)
    assert last(bot, GROUP) == (
        "✅ Đã ghi nhận anh/chị An báo quân số trực lúc 10:40: 4 người. Cảm ơn anh/chị!"
    ), last(bot, GROUP)
    (row,) = await rows(bot, CheckIn)
    assert (row.kind, row.note) == ("roll_call", text.removeprefix("@Bot ANTT "))
    assert await rows(bot, Incident) == []
    bot.clock.set(datetime(2026, 11, 27, 22, 5, tzinfo=VN))
    await say(bot, text, sender="u1", chat=GROUP, group=True)
    assert "vào ca lúc 22:05" in last(bot, GROUP), last(bot, GROUP)
    assert sorted(r.kind for r in await rows(bot, CheckIn)) == ["roll_call", "shift"]


async def test_a_shift_short_of_people_is_recorded_as_said(bot: Bot) -> None:
    await say(bot, "ca 3 thiếu 1 người", sender="u2", chat=GROUP, group=True)
    (row,) = await rows(bot, CheckIn)
    assert (row.kind, row.note) == ("shift", "ca 3 thiếu 1 người")
    assert await rows(bot, Incident) == []
    assert alerts(bot, "c1") == []


# ------------------------------------------------- a request to verify people is no emergency


@pytest.mark.parametrize(
    "text",
    [
        "Thông báo khẩn\nCông an KCN cần hỗ trợ xác minh 2 công nhân tạm trú",
        "Thong bao khan\nCong an KCN can ho tro xac minh 2 cong nhan tam tru",
        "Công an KCN cần hỗ trợ xác minh 2 công nhân tạm trú",
        "cong an kcn can ho tro xac minh 2 cong nhan tam tru",
        "Thông báo khẩn: đề nghị các đơn vị phối hợp xác minh 2 đối tượng khả nghi",
        "thong bao khan: de nghi cac don vi phoi hop xac minh 2 doi tuong kha nghi",
    ],
)
def test_a_notice_asking_to_verify_people_is_no_urgent_incident(text: str) -> None:
    p = parse(text, SENT)
    assert (p.type, p.severity) == ("other", None), p.to_dict()


@pytest.mark.parametrize(
    ("text", "category", "reasons"),
    [
        ("khẩn: cháy kho 2", "fire", ("urgent",)),
        ("khan: chay kho 2", "fire", ("urgent",)),
        ("thông báo khẩn: cháy kho 2", "fire", ("urgent",)),
        ("thông báo khẩn: có 2 công nhân bị thương ở xưởng 3", "other", ("urgent", "injury")),
        ("thong bao khan: co 2 cong nhan bi thuong o xuong 3", "other", ("urgent", "injury")),
        ("cần hỗ trợ gấp ở cổng 2", "other", ("urgent",)),
    ],
)
def test_a_real_urgent_report_stays_urgent(
    text: str, category: str, reasons: tuple[str, ...]
) -> None:
    p = parse(text, SENT)
    assert (p.type, p.category, p.severity, p.reasons) == ("incident", category, "high", reasons)


# ------------------------------------------------ a weekday in an announcement is the coming one

# SENT is Friday 27/11 22:00: last Wednesday was 25/11, the coming one is 02/12.


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("TB: công an KCN kiểm tra PCCC các doanh nghiệp từ thứ 4", "2026-12-02"),
        ("TB: cong an KCN kiem tra PCCC cac doanh nghiep tu thu 4", "2026-12-02"),
        ("thứ 4 tới công an kiểm tra PCCC", "2026-12-02"),
        ("công an sẽ kiểm tra PCCC vào thứ 4", "2026-12-02"),
        ("cong an se kiem tra PCCC vao thu 4", "2026-12-02"),
        ("Kế hoạch: kiểm tra PCCC các doanh nghiệp từ thứ 4", "2026-12-02"),
        ("Lịch cúp điện khu B thứ 3", "2026-12-01"),
        ("thông báo: thứ 6 họp giao ban", "2026-12-04"),  # sent on a Friday: next week's
        # what happened keeps the last one
        ("mất điện từ thứ 4", "2026-11-25"),
        ("thứ 4 có trộm vào kho 2", "2026-11-25"),
        ("thu 4 toi co trom vao kho", "2026-11-25"),  # bare "toi": tối, the evening
        ("Thứ 4 cháy kho 2, em sẽ báo cáo sau", "2026-11-25"),
        ("TB: công an KCN đã kiểm tra PCCC các doanh nghiệp từ thứ 4", "2026-11-25"),
        ("TB: cong an KCN da kiem tra PCCC cac doanh nghiep tu thu 4", "2026-11-25"),
        ("thông báo: hôm thứ 4 có trộm vào kho 2", "2026-11-25"),
    ],
)
def test_a_weekday_in_an_announcement_is_the_coming_one(text: str, day: str) -> None:
    assert parse(text, SENT).to_dict()["time"] == {"date": day}, parse(text, SENT).to_dict()


def test_an_announced_hour_later_on_the_day_itself_is_today() -> None:
    friday_morning = datetime.fromisoformat("2026-11-27T08:00:00+07:00")
    p = parse("Thông báo: 14h thứ 6 họp giao ban", friday_morning)
    assert p.to_dict()["time"] == {"at": "2026-11-27T14:00"}, p.to_dict()


async def test_the_inspection_announced_for_wednesday_is_filed_for_the_coming_one(
    bot: Bot,
) -> None:
    """An relays the police's notice on Friday 27/11: the inspection is on 02/12, not the
    Wednesday gone (before: "Lúc: ngày 25/11/2026")."""
    await say(bot, "TB: công an KCN kiểm tra PCCC các doanh nghiệp từ thứ 4", sender="u1")
    assert "ngày 02/12/2026" in last(bot, "u1"), last(bot, "u1")
    assert "25/11" not in last(bot, "u1")


# ---------------------------------------------------------------------- arrivals are check-ins


@pytest.mark.parametrize(
    "text",
    [
        "em tới nơi rồi",
        "em den noi roi",
        "em đến nơi rồi",
        "e tới cổng 2 rồi",
        "e toi cong 2 r",
        "tới nơi rồi ạ",
        "toi noi roi a",
        "Em tới chốt rồi nha",
        "anh em tới nơi rồi",
        "em đã đến cổng chính",
        "em da den cong chinh",
        "Tổ 2 đã tới chốt",
        "to 2 da toi chot",
    ],
)
def test_a_member_saying_he_has_arrived_checks_in(text: str) -> None:
    assert parse(text, SENT).type == "check_in", parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "anh tới nơi chưa?",
        "anh toi noi chua",
        "xe cứu hỏa tới nơi rồi",
        "xe cuu hoa toi noi roi",
        "công an tới rồi",
        "cong an toi roi",
        "hàng tới rồi",
        "em chưa tới nơi",
        "em chua toi noi",
        "Đã đến giờ giao ca",
        "em tới cổng 2 thì thấy 2 thanh niên đánh nhau",
    ],
)
def test_a_question_or_someone_else_arriving_is_no_check_in(text: str) -> None:
    assert parse(text, SENT).type != "check_in", parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "xe cứu hỏa tới nơi rồi",
        "xe cuu hoa toi noi roi",
        "xe cuu hoa toi roi",
        "cứu hỏa đến rồi",
        "cảnh sát PCCC đã tới",
        "canh sat pccc da toi",
        "cảnh sát PCCC đã có mặt tại hiện trường",
        "đội PCCC đến rồi",
        "xe chữa cháy đã tới kho 3",
        "anh ơi xe cứu hỏa đang tới",
        "công an tới rồi",
        "công an KCN đã có mặt",
        "bên công an đến rồi ạ",
    ],
)
def test_the_fire_brigade_or_the_police_coming_is_no_report_nor_a_check_in(text: str) -> None:
    """News of an incident under way (the handler joins it to that incident), not a new fire,
    and not the sender's own arrival."""
    p = parse(text, SENT)
    assert (p.type, p.category, p.severity) == ("other", None, None), p.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "xe cứu hỏa bị cháy",
        "cháy xe cứu hỏa",
        "xe cuu hoa bi chay",
        "gọi cứu hỏa tới ngay",
        "cháy kho 3, xe cứu hỏa đang tới",
        "xe cứu hỏa tới nơi rồi, lửa vẫn cháy to",
    ],
)
def test_a_fire_said_with_the_fire_brigade_is_still_a_fire(text: str) -> None:
    p = parse(text, SENT)
    assert (p.type, p.category) == ("incident", "fire"), p.to_dict()


async def test_tuan_arriving_at_gate_2_is_checked_in_and_the_fire_truck_is_not(bot: Bot) -> None:
    await say(bot, "xe cứu hỏa tới nơi rồi", sender="u3")
    await say(bot, "anh tới nơi chưa?", sender="u1")
    assert await rows(bot, CheckIn) == []
    await say(bot, "e tới cổng 2 rồi", sender="u1")
    (row,) = await rows(bot, CheckIn)
    assert row.note == "e tới cổng 2 rồi"
    assert "Đã ghi nhận" in last(bot, "u1") and "có mặt" in last(bot, "u1")


# -------------------------------------------------------- acknowledging is what the bot chases


@pytest.mark.parametrize(
    "text",
    [
        "đã có mặt, đã nhận thông báo",
        "da co mat, da nhan thong bao",
        "đã nhận thông báo, 7h em có mặt",
        "da nhan thong bao, 7h e co mat",
        "em nhận được thông báo rồi, em đang có mặt",
        "em nhan duoc thong bao roi, em dang co mat",
        "có mặt, đã nhận",
    ],
)
def test_saying_the_notice_was_received_is_an_acknowledgement(text: str) -> None:
    assert parse(text, SENT).type == "ack", parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    "text", ["đã nhận ca, có mặt đầy đủ", "ca 2 đã tiếp nhận vị trí, quân số đủ", "ok em có mặt"]
)
def test_a_shift_reporting_in_stays_a_check_in(text: str) -> None:
    assert parse(text, SENT).type == "check_in"


async def test_lan_present_and_acknowledging_is_not_chased(council: Bot) -> None:
    """Lan answers the notice with her presence first: the notice TB1 is acknowledged."""
    await council_chat.say(council, "q1", "/thongbao Tập trung tại cổng chính lúc 7h sáng mai")
    await council_chat.say(council, "l1", "đã có mặt, đã nhận thông báo")
    assert council_chat.said(council, "l1")[-1] == (
        "👍 Đã ghi nhận anh/chị Lan xác nhận thông báo TB1. Cảm ơn anh/chị!"
    )
    assert await council_chat.count(council, Ack) == 1


# ------------------------------------------------------------------------------ people trapped


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("có 1 người bị kẹt trong thang máy", "equipment"),
        ("co 1 nguoi bi ket trong thang may", "equipment"),
        ("có người mắc kẹt trong thang máy tòa B", "equipment"),
        ("có người bị kẹt trong kho", "other"),
        ("co nguoi bi ket trong kho", "other"),
        ("2 công nhân bị nhốt trong kho lạnh", "other"),
        ("thang máy tòa B bị kẹt, có 2 người bên trong", "equipment"),
        ("thang may toa B bi ket, co 2 nguoi ben trong", "equipment"),
        ("thang máy xưởng 2 kẹt giữa tầng, 3 công nhân ở trong", "equipment"),
        ("thang máy nhà B bị kẹt, bên trong có 2 người", "equipment"),
        ("thang may nha B bi ket, ben trong co 2 nguoi", "equipment"),
        ("thang máy bị kẹt giữa tầng 3, ở trong vẫn còn 1 chị", "equipment"),
    ],
)
def test_someone_trapped_is_high(text: str, category: str) -> None:
    p = parse(text, SENT)
    got = (p.type, p.category, p.severity, p.reasons)
    assert got == ("incident", category, "high", ("trapped",)), p.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "thẻ bị kẹt trong máy chấm công",
        "the bi ket trong may cham cong",
        "cửa cuốn bị kẹt lại",
        "thang máy tòa B bị kẹt, không có ai bên trong",
        "thang máy tòa B bị kẹt, bên trong không có ai",
        "thang may toa B bi ket, ben trong khong co ai",
    ],
)
def test_a_thing_stuck_is_a_fault(text: str) -> None:
    p = parse(text, SENT)
    assert (p.type, p.category, p.severity) == ("incident", "equipment", "medium"), p.to_dict()


async def test_someone_trapped_alerts_the_coordinators_at_once(bot: Bot) -> None:
    await say(bot, "thẻ bị kẹt trong máy chấm công", sender="u3")
    assert alerts(bot, "c1") == []  # a fault wakes nobody
    await say(bot, "có 1 người bị kẹt trong thang máy", sender="u2")
    (alert,) = alerts(bot, "c1")
    assert '"có 1 người bị kẹt trong thang máy"' in alert


async def test_people_inside_a_stuck_lift_alert_at_once(bot: Bot) -> None:
    await say(bot, "thang máy tòa B bị kẹt, không có ai bên trong", sender="u3")
    assert alerts(bot, "c1") == []  # an empty lift stuck is a fault
    await say(bot, "thang may toa C bi ket, co 2 nguoi ben trong", sender="u2")
    (alert,) = alerts(bot, "c1")
    assert "co 2 nguoi ben trong" in alert


# ----------------------------------------------------------------------- warnings and reminders


@pytest.mark.parametrize(
    "text",
    [
        "anh em nhớ khóa cửa kho kẻo mất trộm",
        "anh em nho khoa cua kho keo mat trom",
        "nhớ đóng cửa kẻo trộm vào",
        "mọi người nhớ tắt điện kẻo cháy",
        "moi nguoi nho tat dien keo chay",
        "khóa xe cẩn thận tránh mất trộm",
    ],
)
def test_a_warning_lest_something_happens_is_no_report(text: str) -> None:
    assert parse(text, SENT).type == "other", parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("2 thanh nien cam keo dam nhau o cong 3", "fight"),
        ("xe container lat tren duong D2, ket xe keo dai", "traffic"),
        ("cháy kho 3 rồi, nhớ gọi 114 kẻo lan", "fire"),
    ],
)
def test_keo_that_is_no_warning(text: str, category: str) -> None:
    p = parse(text, SENT)
    assert (p.type, p.category) == ("incident", category), p.to_dict()


async def test_a_reminder_against_theft_raises_no_incident(bot: Bot) -> None:
    await say(bot, "anh em nhớ khóa cửa kho kẻo mất trộm", sender="c1")
    await say(bot, "anh em nho khoa cua kho keo mat trom", sender="u2")
    assert await rows(bot, Incident) == []
    assert alerts(bot, "c1") == []


# ------------------------------------------------------------------------------- clock times


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("xô xát ở cổng 2 lúc 9 rưỡi", "2026-11-27T09:30"),
        ("danh nhau o cong 2 luc 9 ruoi", "2026-11-27T09:30"),
        ("9 rưỡi", "2026-11-27T09:30"),
        ("9h rưỡi", "2026-11-27T09:30"),
        ("cháy kho lúc chín giờ rưỡi", "2026-11-27T09:30"),
        ("chay kho luc chin gio ruoi", "2026-11-27T09:30"),
        ("xô xát ở cổng 2 lúc tám giờ sáng", "2026-11-27T08:00"),
        ("xô xát ở cổng 2 lúc 9 rưỡi tối", "2026-11-27T21:30"),
        ("xô xát ở cổng 2 lúc 2 rưỡi sáng", "2026-11-27T02:30"),
        ("xô xát ở cổng 2 lúc 9h kém 15", "2026-11-27T08:45"),
        ("xô xát ở cổng 2 lúc 9 giờ kém 15 phút", "2026-11-27T08:45"),
        ("xo xat o cong 2 luc 9h kem 10 toi", "2026-11-27T20:50"),
        ("xô xát ở cổng 2 lúc 9g30", "2026-11-27T09:30"),
        ("xô xát ở cổng 2 lúc 21h", "2026-11-27T21:00"),
        ("xô xát ở cổng 2 lúc 21g15", "2026-11-27T21:15"),
        ("xô xát ở cổng 2 lúc 0h30", "2026-11-27T00:30"),
    ],
)
def test_clock_times_members_type(text: str, expected: str) -> None:
    assert at(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "kẹt xe mất 1 tiếng rưỡi",
        "cháy 2 tiếng rưỡi mới dập",
        "mua 2 triệu rưỡi",
        "chín giờ",  # a bare "N giờ" is a duration as often as a time
        "9 ruồi",
    ],
)
def test_not_clock_times(text: str) -> None:
    assert at(text) is None


async def test_half_past_reaches_the_receipt(bot: Bot) -> None:
    await say(bot, "xô xát ở cổng 2 lúc 9 rưỡi", sender="u1")
    assert "Lúc: 09:30" in last(bot, "u1")


# ------------------------------------------------------------------------------- place codes


@pytest.mark.parametrize(
    ("text", "kind", "code"),
    [
        ("cháy kho B-3", "warehouse", "B3"),
        ("chay kho B-3", "warehouse", "B3"),
        ("cháy kho b-3", "warehouse", "B3"),
        ("cháy kho B3", "warehouse", "B3"),
        ("cháy xưởng A2", "workshop", "A2"),
        ("cháy nhà xưởng C-12", "workshop", "C12"),
        ("trộm ở lô CN-5", "lot", "CN5"),
        ("trom o lo CN-5", "lot", "CN5"),
        ("trộm ở lô CN5", "lot", "CN5"),
        ("cháy kho B", "warehouse", "B"),
        ("cháy kho số 3", "warehouse", "3"),
    ],
)
def test_place_codes_with_a_dash(text: str, kind: str, code: str) -> None:
    places = [(p.kind, p.code) for p in parse(text, SENT).places]
    assert places[:1] == [(kind, code)]


async def test_a_dashed_code_is_one_place_in_the_receipt(bot: Bot) -> None:
    await say(bot, "cháy kho B-3", sender="u1")
    assert "Nơi: kho B3" in last(bot, "u1")
    await say(bot, "kho B3 đang cháy to", sender="u3")
    assert len(await rows(bot, Incident)) == 1  # the same kho, one incident


# ------------------------------------------------------------------------ laughter and slang


@pytest.mark.parametrize(
    "text",
    [
        "haha cháy quá 🔥🔥",
        "hihi cháy máy rồi",
        "kkk cháy thật",
        "cháy quá =))",
        "cháy quá :))",
        "chay qua =))",
        "hahaha con này cháy thật sự",
        "cháy rồi haha",
        "hehe cháy phết 🔥",
        "thằng Dung nổ quá trời 😂",
        "thang Dung no qua troi 😂",
        "thằng Dung nổ quá trời 🤣",
        "thằng Dung nổ quá trời =))",
        "thằng Dung nổ quá trời :))",
        "thằng Dung nổ quá trời :v",
        "haha thằng Dung nổ quá trời",
        "hihi thang Dung no qua troi",
        "thằng Dung nổ quá trời kkk",
    ],
)
def test_laughter_with_slang_is_not_a_fire(text: str) -> None:
    p = parse(text, SENT)
    assert p.category != "fire" and p.type != "incident", p.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "cháy kho 3 🔥🔥",
        "🔥🔥 cháy xưởng 2 rồi",
        "cháy quá",
        "haha cháy kho 3 thật rồi, gọi 114 gấp",
        "cháy xưởng 2 rồi ae ơi 😭",
        "chay kho 3 roi :((",
        "nổ bình gas ở bếp ăn xưởng 2 😱",
        "no binh gas o bep an xuong 2 😱",
        "haha nổ bình gas ở xưởng 2 rồi",
        "nổ lớn quá trời 😂 có người bị thương",
    ],
)
def test_a_real_fire_with_emoji_stays_a_fire(text: str) -> None:
    p = parse(text, SENT)
    assert (p.type, p.category) == ("incident", "fire"), p.to_dict()


async def test_a_joke_wakes_nobody_and_a_fire_with_emoji_does(bot: Bot) -> None:
    await say(bot, "haha cháy quá 🔥🔥", sender="u2")
    await say(bot, "hihi cháy máy rồi", sender="u3")
    await say(bot, "thằng Dung nổ quá trời 😂", sender="u3")
    assert alerts(bot, "c1") == []
    assert await rows(bot, Incident) == []
    await say(bot, "cháy kho 3 🔥🔥", sender="u1")
    (alert,) = alerts(bot, "c1")
    assert "kho 3" in alert


# ------------------------------------------------------------------- late notes and places


@pytest.mark.parametrize(
    "text",
    [
        "kẹt xe, em đến muộn chút",
        "kẹt xe mất 1 tiếng, em đến muộn",
        "kẹt xe quá em tới trễ 20p",
        "e di tre 30p nha a",
        "em vào ca trễ 30p",
        "em bị kẹt xe",
        "e bi ket xe",
        "em đang kẹt xe ở cầu Đồng Nai",
    ],
)
def test_a_late_note_is_an_absence_not_a_traffic_report(text: str) -> None:
    assert parse(text, SENT).type == "absent"


async def test_a_late_note_raises_no_incident(bot: Bot) -> None:
    await say(bot, "kẹt xe, em đến muộn chút", sender="u2")
    await say(bot, "em bị kẹt xe", sender="u1")
    assert await rows(bot, Incident) == []
    assert alerts(bot, "c1") == []


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("cháy kho sau xưởng 2", [("warehouse", None), ("workshop", "2")]),
        ("trộm ở xưởng trước cổng 3", [("workshop", None), ("gate", "3")]),
        ("cháy ở cổng sau", [("gate", "sau")]),
        ("cong chinh co xo xat", [("gate", "chính")]),
        ("có người lạ ở kho phụ", [("warehouse", "phụ")]),
    ],
)
def test_sau_and_truoc_name_gates_only(text: str, places: list[tuple[str, str | None]]) -> None:
    assert [(p.kind, p.code) for p in parse(text, SENT).places] == places


async def test_the_kho_behind_a_workshop_is_not_kho_sau(bot: Bot) -> None:
    await say(bot, "cháy kho sau xưởng 2", sender="u1")
    assert "Nơi: kho, xưởng 2" in last(bot, "u1")


@pytest.mark.parametrize(
    "text",
    [
        "anh oi xe cho hang vao cong sau bi ket barie",
        "anh ơi xe chở hàng vào cổng sau bị kẹt barie",
    ],
)
async def test_the_receipt_names_the_back_gate_as_people_do(bot: Bot, text: str) -> None:
    await say(bot, text, sender="u1")
    assert "Nơi: cổng sau" in last(bot, "u1")
    assert "SAU" not in last(bot, "u1")


async def test_a_worker_who_fainted_wakes_the_coordinators(bot: Bot) -> None:
    await say(bot, "bao cao: xuong 3 co 1 cong nhan bi ngat, da dua len phong y te", sender="u2")
    (incident,) = await rows(bot, Incident)
    assert (incident.severity, incident.urgent) == ("high", True)
    (alert,) = alerts(bot, "c1")
    assert "xưởng 3" in alert


async def test_a_worker_scratched_is_recorded_without_waking_anyone(bot: Bot) -> None:
    await say(bot, "chi co 1 cong nhan bi xay xat nhe", sender="u2")
    (incident,) = await rows(bot, Incident)
    assert (incident.severity, incident.urgent) == ("low", False)
    assert alerts(bot, "c1") == []


# ------------------------------------------------------------- notices, drills over, questions


@pytest.mark.parametrize(
    "text",
    [
        "Thông báo: 14h thứ Năm 3/12 diễn tập PCCC tại xưởng 2 Cty Hansol",
        "Thong bao: 14h thu Nam 3/12 dien tap PCCC tai xuong 2 cty Hansol",
        "Thông báo: 15h chiều mai kiểm tra đột xuất công tác PCCC tại lô B",
        "thong bao 8h sang mai dien tap chay no o kho 3",
    ],
)
def test_a_notice_of_a_drill_to_come_is_no_report(text: str) -> None:
    assert parse(text, SENT).type == "other", parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "diễn tập xong rồi, an toàn",
        "dien tap xong roi, an toan",
        "Diễn tập PCCC kết thúc, mọi người an toàn",
        "dien tap xong r, moi nguoi an toan het",
    ],
)
def test_a_drill_over_with_all_well_is_an_all_clear(text: str) -> None:
    assert parse(text, SENT).type == "all_clear", parse(text, SENT).to_dict()


@pytest.mark.parametrize("text", ["không sao à", "ko sao à", "không sao à?", "ko sao à?"])
def test_asking_whether_all_is_well_is_a_question(text: str) -> None:
    assert parse(text, SENT).type == "question", parse(text, SENT).to_dict()


@pytest.mark.parametrize("text", ["không sao ạ", "khong sao a", "ko sao đâu", "không sao anh ạ"])
def test_saying_all_is_well_stays_an_all_clear(text: str) -> None:
    assert parse(text, SENT).type == "all_clear", parse(text, SENT).to_dict()


# Who was on duty, who holds a key: a question word after a time or a place ("hôm qua ai trực"),
# or before a closing "vậy"/"thế", asks. Read as "other", it got the generic hint and no one
# answered it.
@pytest.mark.parametrize(
    "text",
    [
        "hôm qua ai trực ca 3 cổng sau vậy",
        "hom qua ai truc ca 3 cong sau vay",
        "kho 2 chìa khóa ai giữ thế",
        "kho 2 chia khoa ai giu the",
        "tối nay ai trực cổng chính",
        "toi nay ai truc cong chinh",
        "ca đêm qua ai đi tuần vậy anh",
        "ca dem qua ai di tuan vay anh",
        "sáng nay cổng nào mở trước",
        "sang nay cong nao mo truoc",
        "chìa khóa tủ điện em để đâu thế ạ",
        "xe bồn chiều nay đỗ chỗ nào vậy chị",
    ],
)
def test_who_or_which_after_a_time_or_a_place_is_a_question(text: str) -> None:
    assert parse(text, SENT).type == "question", parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("không ai bị thương", "other"),
        ("khong ai bi thuong", "other"),
        ("chưa thấy ai", "other"),
        ("chua thay ai", "other"),
        ("không có gì bất thường", "all_clear"),
        ("khong co gi bat thuong", "all_clear"),
        ("tình hình như vậy", "other"),
        ("tinh hinh nhu vay", "other"),
        ("vậy thì mai họp", "other"),
        ("vay thi mai hop", "other"),
        ("ai cũng có mặt đủ", "check_in"),
        ("ai cung co mat du", "check_in"),
        ("có gì báo ngay nhé", "other"),
        ("co gi bao ngay nhe", "other"),
        ("đi đâu cũng phải báo", "other"),
        ("di dau cung phai bao", "other"),
        ("hôm qua ai đó để quên xe ở cổng sau", "other"),  # ai đó: someone
        ("hôm nay chẳng gặp ai", "other"),
        # whoever: a rule for anyone, not a question
        ("kho 2 ai vào cũng phải ghi sổ", "other"),
        ("kho 2 ai vao cung phai ghi so", "other"),
        ("tối nay ai trực thì nhớ khóa cổng sau", "other"),
        ("toi nay ai truc thi nho khoa cong sau", "other"),
        ("chan bi dau the", "other"),  # đau, not đâu
        # not understanding which store: what the bot chases is the not understanding
        ("em không hiểu kho nào nhận hàng vậy anh", "not_ack"),
        ("em khong hieu kho nao nhan hang vay anh", "not_ack"),
    ],
)
def test_no_one_anywhere_and_so_are_no_questions(text: str, kind: str) -> None:
    assert parse(text, SENT).type == kind, parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    "text", ["cháy kho 2 rồi ai gọi 114 chưa", "chay kho 2 roi ai goi 114 chua"]
)
def test_a_fire_reported_before_asking_who_called_is_a_report(text: str) -> None:
    got = parse(text, SENT)
    assert (got.type, got.category) == ("incident", "fire"), got.to_dict()


# ------------------------------------------------------------------ the company of the place


@pytest.mark.parametrize(
    ("text", "places"),
    [
        (
            "Cháy nhỏ ở kho vải xưởng 3 Hansol",
            [("warehouse", None), ("workshop", "3"), ("company", "Hansol")],
        ),
        (
            "Chay nho o kho vai xuong 3 Hansol, anh em dang dung binh dap",
            # a bare "kho" is no place (khó), a bare "kho vai" is the fabric store
            [("warehouse", None), ("workshop", "3"), ("company", "Hansol")],
        ),
        ("Chay nho o kho xuong 3 Hansol", [("workshop", "3"), ("company", "Hansol")]),
        ("trộm ở kho B2 Samsung Vina tối qua", [("warehouse", "B2"), ("company", "Samsung Vina")]),
        ("cháy xưởng 3 cty ABC", [("workshop", "3"), ("company", "ABC")]),
        ("cháy xưởng 3 công ty May Việt", [("workshop", "3"), ("company", "May Việt")]),
        ("Cháy kho 3 Anh em ra hỗ trợ", [("warehouse", "3")]),
        ("CHÁY KHO 3 HANSOL", [("warehouse", "3")]),
        ("đánh nhau trước cổng số 1 KCN", [("gate", "1")]),
        ("xưởng 2 CN bỏ về", [("workshop", "2")]),
    ],
)
def test_the_company_typed_after_a_place_is_part_of_it(
    text: str, places: list[tuple[str, str | None]]
) -> None:
    assert [(p.kind, p.code) for p in parse(text, SENT).places] == places


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("có trộm vào kho thành phẩm cty may việt, mất 5 cuộn vải", "kho thành phẩm"),
        ("co trom vao kho thanh pham cty may viet, mat 5 cuon vai", "kho thành phẩm"),
        ("cháy kho hóa chất cty Hansol", "kho hóa chất"),
        ("chay kho hoa chat cty Hansol", "kho hóa chất"),
        ("kho nguyên liệu có người lạ lảng vảng", "kho nguyên liệu"),
        ("kho nguyen lieu co nguoi la lang vang", "kho nguyên liệu"),
        ("mất trộm 3 cây vải ở kho vải", "kho vải"),
        ("mat trom 3 cay vai o kho vai", "kho vải"),
        ("kho phế liệu bốc khói", "kho phế liệu"),
        ("kho phe lieu boc khoi", "kho phế liệu"),
    ],
)
def test_what_a_store_holds_is_part_of_its_name(text: str, shown: str) -> None:
    assert [p.text for p in parse(text, SENT).places][:1] == [shown]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("cháy kho vải số 3", "vải 3"),
        ("chay kho vai so 3", "vải 3"),
        ("kho thành phẩm 2 có người lạ lảng vảng", "thành phẩm 2"),
        ("kho thanh pham 2 co nguoi la lang vang", "thành phẩm 2"),
        ("mất trộm ở kho hóa chất số 1", "hóa chất 1"),
        ("mat trom o kho hoa chat so 1", "hóa chất 1"),
        ("cháy kho số 3", "3"),
        ("cháy kho hàng số 3", "3"),  # "kho hàng" is any store: no kind of its own
    ],
)
def test_a_numbered_store_keeps_what_it_holds(text: str, code: str) -> None:
    """ "kho vải số 3" is not "kho 3": the fabric store 3 is shown and merged as such."""
    (place,) = parse(text, SENT).places
    assert (place.kind, place.code) == ("warehouse", code), place


LODGINGS = ("place", "thôn 3", "khu nhà trọ công nhân thôn 3")


@pytest.mark.parametrize(
    ("text", "place"),
    [
        (
            "@Bot ANTT BÁO CÁO: KHU NHÀ TRỌ CÔNG NHÂN THÔN 3 CÓ TỤ TẬP ĐÁNH BẠC, KHOẢNG 8 NGƯỜI",
            LODGINGS,
        ),
        ("khu nhà trọ công nhân thôn 3 có tụ tập đánh bạc, khoảng 8 người", LODGINGS),
        ("khu nha tro cong nhan thon 3 co tu tap danh bac, khoang 8 nguoi", LODGINGS),
        ("đánh nhau ở nhà trọ", ("place", None, "nhà trọ")),
        ("danh nhau o xom tro ap 2", ("place", "ấp 2", "xóm trọ ấp 2")),
    ],
)
def test_workers_lodgings_keep_their_village(text: str, place: tuple[str, str | None, str]) -> None:
    """ "khu nhà trọ công nhân thôn 3" is one place, shown whole: "khu" alone needs a code,
    and the message lost its place."""
    got = [(p.kind, p.code, p.text) for p in parse(text, SENT).places]
    assert got == [place], got


async def test_the_fire_alert_names_the_fabric_store_with_its_number(bot: Bot) -> None:
    """An's receipt and Quân's alert name the fabric store 3; Em's report of it typed bare
    is heard as the same store (and no "kho 3" is left anywhere)."""
    await say(bot, "cháy kho vải số 3", sender="u1")
    assert "Nơi: kho vải 3" in last(bot, "u1"), last(bot, "u1")
    (alert,) = alerts(bot, "c1")
    assert "kho vải 3" in alert and "kho 3" not in alert, alert
    await say(bot, "chay kho vai so 3", sender="u2")
    assert "cháy/nổ ở kho vải 3" in last(bot, "u2"), last(bot, "u2")


async def test_the_theft_reply_names_the_store_and_the_company(bot: Bot) -> None:
    await say(bot, "có trộm vào kho thành phẩm cty may việt, mất 5 cuộn vải", sender="u1")
    assert "Nơi: kho thành phẩm, Cty May Việt" in last(bot, "u1"), last(bot, "u1")


async def test_the_fire_alert_names_the_company_after_the_workshop(bot: Bot) -> None:
    await say(bot, "Cháy nhỏ ở kho vải xưởng 3 Hansol", sender="u1")
    (alert,) = alerts(bot, "c1")
    assert "xưởng 3, Cty Hansol" in alert.splitlines()[0], alert


# ------------------------------------------------- a negation clears only what it negates


# Chị Mai, the chemical store of workshop B at Hansol: black smoke, no flame seen yet.
MAI_SMOKE = "chị ơi kho hóa chất xưởng B cty Hansol bốc khói đen, chưa thấy lửa"
MAI_SMOKE_BARE = "chi oi kho hoa chat xuong B cty hansol boc khoi den, chua thay lua"


@pytest.mark.parametrize(
    ("text", "without"),
    [
        (MAI_SMOKE, "chị ơi kho hóa chất xưởng B cty Hansol bốc khói đen"),
        (MAI_SMOKE_BARE, "chi oi kho hoa chat xuong B cty hansol boc khoi den"),
        ("xưởng B bốc khói, chưa thấy lửa", "xưởng B bốc khói"),
        ("xuong B boc khoi, chua thay lua", "xuong B boc khoi"),
        ("có mùi khét ở kho 2, chưa thấy cháy", "có mùi khét ở kho 2"),
        ("co mui khet o kho 2, chua thay chay", "co mui khet o kho 2"),
        ("kho 3 có khói, không thấy lửa", "kho 3 có khói"),
        ("kho 3 co khoi, ko thay lua", "kho 3 co khoi"),
        ("tủ điện xưởng 2 bốc khói, chưa có lửa", "tủ điện xưởng 2 bốc khói"),
        ("tu dien xuong 2 boc khoi, chua co lua", "tu dien xuong 2 boc khoi"),
        ("có mùi khét nhưng không thấy khói", "có mùi khét"),
    ],
)
def test_smoke_with_no_flame_yet_is_still_a_fire(text: str, without: str) -> None:
    """Smoke or a burning smell stays a sign of fire when the flame is said unseen: the
    message reads as the same text without the negation, never as all clear."""
    p, plain = parse(text, SENT), parse(without, SENT)
    assert (p.type, p.category) == ("incident", "fire"), p.to_dict()
    assert (p.type, p.category, p.severity) == (plain.type, plain.category, plain.severity)
    assert p.ambiguous == plain.ambiguous  # alerted the same way: at once, or asked first


@pytest.mark.parametrize(
    "text",
    [
        "tuần tra kho B, chưa thấy gì bất thường",
        "tuan tra kho B, chua thay gi bat thuong",
        "kiểm tra rồi, không thấy khói",
        "kiem tra roi, khong thay khoi",
        "không có cháy, báo nhầm",
        "khong co chay, bao nham",
        "đã dập tắt, 3 công nhân ra ngoài an toàn",
        "da dap tat, 3 cong nhan ra ngoai an toan",
        "khói là do đốt rác, không sao",
        "khoi la do dot rac, khong sao",
        "Khói ở lô C9 là xe bồn phun sương dập bụi, không có cháy gì đâu",
        "khoi o lo C9 la xe bon phun suong dap bui, khong co chay gi dau",
        "vụ khói ở xưởng D là đốt thử lò, không phải cháy",
        "vu khoi o xuong D la dot thu lo, khong phai chay",
        "có mùi khét, kiểm tra rồi, chưa thấy cháy, không sao",
        "co mui khet, kiem tra roi, chua thay chay, khong sao",
        "khói là do đốt rác, chưa thấy lửa",  # the cause explains the smoke away
        "khoi la do dot rac, chua thay lua",
    ],
)
def test_an_all_clear_with_nothing_left_stays_an_all_clear(text: str) -> None:
    assert parse(text, SENT).type == "all_clear", parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "có mùi khét ở kho 2, không biết do đâu",
        "co mui khet o kho 2, ko biet do dau",
        "có mùi khét ở kho 2, do đâu chưa rõ",
        "có mùi khét ở kho 2 do chập điện, chưa thấy lửa",
        "co mui khet o kho 2 do chap dien, chua thay lua",
    ],
)
def test_a_cause_unknown_or_alarming_explains_no_smell_away(text: str) -> None:
    p = parse(text, SENT)
    assert (p.type, p.category) == ("incident", "fire"), p.to_dict()


async def add_mai(bot: Bot) -> None:
    """Chị Mai, Hansol's guard, on the roster with a private chat."""
    async with bot.sessions() as s, s.begin():
        s.add(
            Member(
                member_id="m1",
                name="Nguyễn Thị Mai",
                name_folded="nguyen thi mai",
                display_name="Mai",
                title="chị",
                role="member",
                status="member",
                private_chat_id="m1",
                created_at=SENT,
                expected_since=SENT,
            )
        )


async def mai_says(bot: Bot, text: str) -> None:
    event = text_event(text, sender="m1", name="Nguyễn Thị Mai", at=bot.clock.now())
    assert (await bot.deliver(event))[0] == 200
    await bot.drain()


async def test_mais_smoke_in_private_alerts_quan_and_her_reply_says_no_all_clear(
    bot: Bot,
) -> None:
    """Chị Mai writes to the bot in private: black smoke at the chemical store, no flame yet.
    Anh Quân is alerted at once; Mai is told it was reported, not that all is normal."""
    await add_mai(bot)
    await mai_says(bot, MAI_SMOKE)
    (alert,) = alerts(bot, "c1")
    assert "cháy/nổ" in alert and "xưởng B, Cty Hansol" in alert.splitlines()[0], alert
    assert "chị Nguyễn Thị Mai" in alert and "chưa thấy lửa" in alert
    reply = last(bot, "m1")
    assert "Loại: cháy/nổ" in reply and "Bot đã báo khẩn cho anh/chị Quân" in reply, reply
    assert "bình thường" not in reply and "tuần tra" not in reply, reply
    (incident,) = await rows(bot, Incident)
    assert incident.category == "fire"
    assert await rows(bot, CheckIn) == []


async def test_mais_smoke_typed_bare_is_confirmed_then_alerts_quan(bot: Bot) -> None:
    """Typed bare ("khoi" may be khỏi), Mai's smoke is handled as the same words without "chua
    thay lua" would be: she is asked first, then Quân is alerted on her "đúng"."""
    await add_mai(bot)
    await mai_says(bot, MAI_SMOKE_BARE)
    question = last(bot, "m1")
    assert "phải không?" in question and "xưởng B" in question, question
    assert "bình thường" not in question and "tuần tra" not in question
    assert alerts(bot, "c1") == []
    await mai_says(bot, "đúng")
    (alert,) = alerts(bot, "c1")
    assert "cháy/nổ" in alert and "chua thay lua" in alert, alert
    assert await rows(bot, CheckIn) == []


async def test_an_all_clear_without_a_patrol_is_not_called_a_patrol_report(bot: Bot) -> None:
    """An all-clear that says nothing of a round ("anh ơi kho B bình thường") is not called a
    patrol report; one that names the patrol keeps the patrol wording."""
    await say(bot, "anh ơi kho B bình thường", sender="u1")
    reply = last(bot, "u1")
    assert "tuần tra" not in reply and "bình thường" in reply, reply
    assert reply.startswith("✅ Đã ghi nhận anh/chị An báo lúc 10:00: bình thường."), reply
    await say(bot, "tuần tra kho B, chưa thấy gì bất thường", sender="u2")
    assert "báo cáo tuần tra" in last(bot, "u2")


# ------------------------------------------------------------------------ the end of a shift


@pytest.mark.parametrize(
    "text",
    [
        "hết ca rồi anh",
        "het ca r a",
        "xong ca",
        "xong ca roi a",
        "em về đây, bàn giao cho anh Tùng",
        "em ve day, ban giao cho a Tung",
        "bàn giao ca xong",
        "ban giao ca xong",
        "đã bàn giao ca cho ca sau",
    ],
)
def test_the_end_of_a_shift_is_a_check_in(text: str) -> None:
    assert parse(text, SENT).type == "check_in", parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("em chưa hết ca", "other"),  # still on shift: no absence
        ("e chua het ca", "other"),
        ("sắp hết ca rồi", "other"),
        ("mấy giờ hết ca vậy", "question"),
        ("đã đến giờ giao ca", "other"),
        ("giờ tan ca", "other"),  # the workers' shift
        ("xong cả rồi anh", "other"),  # all done, not the shift
        # a suspect handed over: the finding, not the sender going home
        ("bắt được đối tượng, bàn giao cho anh công an phường", "incident"),
        ("bat duoc doi tuong, ban giao cho anh em cong an", "incident"),
        ("bàn giao ca, tình hình bình thường", "all_clear"),
        ("ban giao ca, tinh hinh binh thuong", "all_clear"),
    ],
)
def test_shift_end_words_that_sign_nobody_off(text: str, kind: str) -> None:
    assert parse(text, SENT).type == kind, parse(text, SENT).to_dict()


async def test_tuan_signing_off_is_recorded_as_his_shift_end(council: Bot) -> None:
    """Tuấn ends his shift at 22:05 in private: told it is recorded, a shift end is kept (not
    an attendance nor a shift start), and saying it again is answered, not kept twice."""
    council.clock.set(council_chat.local(1, 22, 5))
    await council_chat.say(council, "t1", "hết ca rồi anh")
    assert council_chat.said(council, "t1")[-1] == (
        "✅ Đã ghi nhận anh/chị Tuấn hết ca lúc 22:05. Cảm ơn anh/chị!"
    )
    council.clock.set(council_chat.local(1, 22, 9))
    await council_chat.say(council, "t1", "het ca r a")
    assert council_chat.said(council, "t1")[1:] == [
        "✅ Đã ghi nhận anh/chị Tuấn hết ca lúc 22:05. Cảm ơn anh/chị!",
        "Bot đã ghi nhận anh/chị Tuấn hết ca lúc 22:05 rồi. Cảm ơn anh/chị!",
    ]  # "có mặt" on Monday, then the end, then that it is already kept
    ends = await rows(council, CheckIn, CheckIn.kind == "shift_end")
    assert [r.note for r in ends] == ["hết ca rồi anh"]


async def test_a_handover_to_a_colleague_ends_the_shift(council: Bot) -> None:
    council.clock.set(council_chat.local(1, 6, 2))
    await council_chat.say(council, "a1", "em về đây, bàn giao cho anh Tùng")
    assert "hết ca lúc 06:02" in council_chat.said(council, "a1")[-1]
    await council_chat.say(council, "l1", "bàn giao ca, tình hình bình thường")
    assert "bình thường" in council_chat.said(council, "l1")[-1]
    kinds = {(r.note, r.kind) for r in await rows(council, CheckIn, CheckIn.kind != "attendance")}
    assert kinds == {
        ("em về đây, bàn giao cho anh Tùng", "shift_end"),
        ("bàn giao ca, tình hình bình thường", "patrol"),
    }


async def test_xong_ca_never_closes_a_task(council: Bot) -> None:
    """Lan has a task open; "xong ca roi a" is her shift's end, and the task stays open."""
    await council_chat.say(council, "q1", "/giaoviec @Lan kiểm tra bình chữa cháy xưởng 2")
    council.clock.set(council_chat.local(30, 22, 1, month=11))
    await council_chat.say(council, "l1", "xong ca roi a")
    assert [t["status"] for t in await council_chat.tasks(council)] == ["open"]
    assert "hết ca lúc 22:01" in council_chat.said(council, "l1")[-1]
    assert len(await rows(council, CheckIn, CheckIn.kind == "shift_end")) == 1


# ------------------------------------------------------ a shift announced for later is no check-in

TUESDAY_0814 = datetime.fromisoformat("2026-12-01T08:14:00+07:00")


@pytest.mark.parametrize(
    "text",
    [
        "tuần này em trực ca đêm cả tuần",
        "tuan nay e truc ca dem ca tuan",
        "tuần sau em trực ca 3",
        "tuan sau e truc ca 3 nha",
        "từ mai em vào ca 2",
        "tu mai e vao ca 2",
        "tối nay em trực ca 3",
        "toi nay e truc ca 3 a",
    ],
)
def test_a_shift_for_later_is_a_schedule(text: str) -> None:
    """Read at 08:14: a week, a day or an evening to come is no shift starting now."""
    assert scheduled(text, TUESDAY_0814, VN), text


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("em trực ca 3 nhé anh", TUESDAY_0814),
        ("e vao ca roi", TUESDAY_0814),
        ("em vào ca tuần tra", TUESDAY_0814),  # a patrol shift, not the whole week
        ("tối nay em trực ca 3", TUESDAY_0814.replace(hour=17, minute=45)),  # it begins now
        ("đêm nay em trực ca 3", TUESDAY_0814.replace(hour=1)),  # the night under way
    ],
)
def test_a_shift_now_is_no_schedule(text: str, at: datetime) -> None:
    assert not scheduled(text, at, VN), text


async def test_tuan_announcing_his_week_of_nights_is_not_checked_in_at_0814(council: Bot) -> None:
    """Tuấn says at 08:14 he is on the night shift all week, privately and in the group: no
    shift start is recorded and nobody is told "vào ca lúc 08:14"."""
    council.clock.set(TUESDAY_0814)
    await council_chat.say(council, "t1", "tuần này em trực ca đêm cả tuần")
    await council_chat.say(council, "a1", "toi nay e truc ca 3 a", group=True)
    await council_chat.say(council, "l1", "từ mai em vào ca 2")
    lines = [
        line for c in ("t1", "l1", council_chat.COUNCIL) for line in council_chat.said(council, c)
    ]
    assert not any("vào ca lúc" in line for line in lines), lines
    assert await rows(council, CheckIn, CheckIn.kind == "shift") == []
    await council_chat.say(council, "t1", "em trực ca 1 nhé anh")  # now: a shift start
    assert "vào ca lúc 08:14" in council_chat.said(council, "t1")[-1]


async def test_acknowledging_and_announcing_the_weeks_shift_records_no_check_in(
    council: Bot,
) -> None:
    await council_chat.say(council, "q1", "/thongbao Tăng cường tuần tra ban đêm tuần này")
    council.clock.set(TUESDAY_0814)
    await council_chat.say(council, "l1", "đã nhận thông báo, tuần này em trực ca đêm cả tuần")
    assert await council_chat.count(council, Ack) == 1
    assert await rows(council, CheckIn, CheckIn.kind == "shift") == []
    assert not any("vào ca" in line for line in council_chat.said(council, "l1"))


# ---------------------------------------------------------------- a reminder is no roll call


@pytest.mark.parametrize(
    "text",
    [
        "nhớ báo ca 3 đủ 4 người",
        "nho bao ca 3 du 4 nguoi",
        "nhắc ca 3 đủ 4 người nhé",
        "nhac ca 3 du 4 nguoi nhe",
        "đề nghị ca 3 đủ 4 người",
        "de nghi ca 3 du 4 nguoi",
        "mọi người nhớ điểm danh đủ quân số",
    ],
)
def test_a_reminder_of_a_head_count_is_no_roll_call(text: str) -> None:
    """ "đủ 4 người" counts heads: it does not make the reminder a report."""
    assert parse(text, SENT).type == "other", parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    "text",
    ["ca 3 đủ 4 người", "ca 3 du 4 nguoi", "anh em cổng 2 có mặt đủ rồi", "ae có mặt đầy đủ"],
)
def test_a_head_count_said_as_done_stays_a_check_in(text: str) -> None:
    assert parse(text, SENT).type == "check_in", parse(text, SENT).to_dict()


async def test_quans_reminder_of_shift_3s_head_count_checks_nobody_in(council: Bot) -> None:
    """Quân reminds the group, An forwards it privately: nobody is told they checked in and
    no check-in is recorded; the shift's own roll call still is one."""
    council.clock.set(TUESDAY_0814)
    await council_chat.say(council, "q1", "nhớ báo ca 3 đủ 4 người", group=True)
    await council_chat.say(council, "a1", "nho bao ca 3 du 4 nguoi")
    lines = council_chat.said(council, council_chat.COUNCIL) + council_chat.said(council, "a1")
    assert not any("vào ca lúc" in line for line in lines), lines
    assert await rows(council, CheckIn, CheckIn.kind == "shift") == []
    await council_chat.say(council, "t1", "ca 3 đủ 4 người", group=True)
    assert len(await rows(council, CheckIn, CheckIn.kind == "shift")) == 1


@pytest.mark.parametrize(
    "text",
    [
        "kiểm tra xong 12 bình, 2 bình hết hạn cần thay",
        "kiem tra xong 12 binh, 2 binh het han can thay",
        "@Bot ANTT kiem tra xong 12 binh, 2 binh het han can thay",
        "2 bình hết hạn cần thay",
        "2 binh het han can thay",
    ],
)
def test_extinguishers_found_expired_are_an_equipment_report(text: str) -> None:
    """Fire gear found expired is a fault to put right, low: never an all-clear (before, typed
    bare, "Đã ghi nhận báo cáo tuần tra ...: tình hình bình thường"), nor traffic ("cán")."""
    p = parse(text, SENT)
    assert (p.type, p.category, p.severity) == ("incident", "equipment", "low"), p.to_dict()


# --------------------------------------------- an @mention the bot does not understand


async def test_what_an_at_mention_in_a_group_gets(bot: Bot) -> None:
    """An writes to the bot in the group: a question goes to the coordinators, a head count
    is a roll call (before: silence); what the bot cannot read gets silence, as every unread
    message in a group does (tests/test_dispatch.py: the hint is for private chats)."""
    bot.clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=VN))
    await say(bot, "@Bot ANTT tối nay mấy giờ họp", sender="u1", chat=GROUP, group=True)
    assert "YC1" in last(bot, GROUP), last(bot, GROUP)
    await say(bot, "@Bot ANTT ca dem nay 4 nguoi", sender="u1", chat=GROUP, group=True)
    assert "báo quân số trực lúc 10:00: 4 người" in last(bot, GROUP), last(bot, GROUP)
    told = len(bot.store.bot_lines(GROUP))
    await say(bot, "@Bot ANTT hôm nay trời đẹp quá", sender="u1", chat=GROUP, group=True)
    await say(bot, "@Bot ANTT hom nay troi dep qua", sender="u1", chat=GROUP, group=True)
    assert len(bot.store.bot_lines(GROUP)) == told
