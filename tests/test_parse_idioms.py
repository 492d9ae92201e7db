"""Fire words in everyday Vietnamese that name no fire: a bot that wakes coordinators at 2 am
for "anh em cháy hết mình nhé" loses their trust. Found chatting as a council does."""

from __future__ import annotations

import pytest

from handlers.parse import parse
from handlers.texts.incidents import place_text
from tests.conftest import Bot
from tests.test_incidents import bot, last, say
from tests.test_parse_alerts import alerts
from tests.test_parse_chat import SENT

__all__ = ["bot"]  # the fixture, shared with tests/test_incidents.py


@pytest.mark.parametrize(
    "text",
    [
        "trời nắng cháy da luôn anh em ơi",
        "anh em cháy hết mình nhé, tất niên vui vẻ",
        "tối qua đội bóng xưởng 2 chơi cháy quá",
        "điện thoại nổ liên tục vì tin nhắn",
        "khói thuốc lá nhiều quá ở nhà xe",
        "anh Tuấn đang hút thuốc ở khu cấm lửa",
        "máy phát điện nổ không lên",
        "máy phát nổ không được",
        "may phat no khong duoc",
    ],
)
def test_an_idiom_with_a_fire_word_is_no_report(text: str) -> None:
    got = parse(text, SENT)
    assert got.type != "incident", got.to_dict()


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("cháy ở khu cấm lửa", "fire"),
        ("tủ điện khu cấm lửa bốc khói", "fire"),
        ("điện thoại nổ pin, cháy bàn làm việc", "fire"),
        ("máy phát điện phát nổ, cháy lan", "fire"),
        ("máy phát nổ lớn ở xưởng 3", "fire"),
        ("máy phát nổ không được, mất điện cả xưởng", "equipment"),
    ],
)
def test_the_same_places_and_things_on_fire_are_still_fires(text: str, category: str) -> None:
    got = parse(text, SENT)
    assert (got.type, got.category) == ("incident", category), got.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "cn bị cháy da tay do hóa chất",
        "cong nhan bi chay da do axit",
        "cháy da tay do hóa chất, đang đưa đi viện",
        "có 1 cn ngất, đang chở đi viện",
    ],
)
def test_a_burn_or_someone_taken_to_hospital_is_an_injury(text: str) -> None:
    got = parse(text, SENT)
    assert (got.type, got.severity) == ("incident", "high"), got.to_dict()
    assert "injury" in got.reasons


@pytest.mark.parametrize(
    "text",
    ["em xin nghỉ chiều nay đưa con đi viện", "e xin phep nghi, dua me di vien kham"],
)
def test_taking_family_to_hospital_is_an_absence(text: str) -> None:
    assert parse(text, SENT).type == "absent"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("2 cn danh nhau o nha an ca 2", "nhà ăn"),
        ("danh nhau o cang tin", "căng tin"),
        ("trom o Nha Xe", "nhà xe"),
        ("chay o KTX", "KTX"),
        ("danh nhau o nhà ăn", "nhà ăn"),
    ],
)
def test_a_place_typed_without_marks_is_shown_as_written(text: str, written: str) -> None:
    """The receipt and the alert say "Nơi: nhà ăn", not "nha an"."""
    assert [p.text for p in parse(text, SENT).places] == [written]


@pytest.mark.parametrize("text", ["tuân lệnh", "tuan lenh", "Tuân lệnh đồng chí!"])
def test_tuan_lenh_acknowledges_an_order(text: str) -> None:
    """The answer to a superior's order, in the police's and the guards' register."""
    assert parse(text, SENT).type == "ack"


# ------------------------------------------------ a person who faints, a worker scratched


@pytest.mark.parametrize(
    "text",
    [
        "bao cao: xuong 3 co 1 cong nhan bi ngat, da dua len phong y te",
        "báo cáo: xưởng 3 có 1 công nhân bị ngất, đã đưa lên phòng y tế",
        "bao cao: chi bao ve cong 2 bi ngat",
        "báo cáo: chị bảo vệ cổng 2 bị ngất",
        "bao cao nguoi bi ngat o nha an",
        "báo cáo người bị ngất ở nhà ăn",
        "bao cao: 1 nhan vien vua bi ngat trong kho",
        "báo cáo: 1 nhân viên vừa bị ngất trong kho",
        "bao cao: em Lan ngat xiu o xuong 2",
        "báo cáo: em Lan ngất xỉu ở xưởng 2",
    ],
)
def test_a_person_who_faints_is_an_injury(text: str) -> None:
    """ "ngat" after a person is ngất (fainted) or ngạt (suffocated): someone hurt either way,
    even in a report that opens with "bao cao" (báo, a word that goes with ngắt điện). A
    fainting has its reason of its own (tests/test_parse_council_week.py)."""
    got = parse(text, SENT)
    assert (got.type, got.severity) == ("incident", "high"), got.to_dict()
    assert {"injury", "fainted"} & set(got.reasons), got.reasons


@pytest.mark.parametrize(
    "text",
    [
        "bao cao: dien bi ngat tu 8h",
        "báo cáo: điện bị ngắt từ 8h",
        "dien xuong 2 bi ngat",
        "điện xưởng 2 bị ngắt",
        "cau dao bi ngat roi",
        "cầu dao bị ngắt rồi",
        "dien chi bi ngat 5 phut",
        "điện chỉ bị ngắt 5 phút",
        "nuoc chi bi ngat buoi sang",
    ],
)
def test_power_cut_off_is_no_injury(text: str) -> None:
    got = parse(text, SENT)
    assert "injury" not in got.reasons, got.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "em bé bị ngạt nước",
        "em be bi ngat nuoc",
        "có em bé bị ngạt nước ở hồ xử lý nước thải lô C2",
        "co em be bi ngat nuoc o ho xu ly nuoc thai lo C2",
        "1 công nhân bị ngạt nước dưới hầm",
        "1 cong nhan bi ngat nuoc duoi ham",
    ],
)
def test_someone_drowning_is_urgent(text: str) -> None:
    """ "ngạt nước" is drowning, as "đuối nước" is: high for the injury, urgent, typed bare
    too after a person (before: bare, nothing; with marks, a poisoning)."""
    said = text.replace("ngạt nước", "đuối nước").replace("ngat nuoc", "duoi nuoc")
    got, drowning = parse(text, SENT), parse(said, SENT)
    assert (got.type, got.severity) == ("incident", "high"), got.to_dict()
    assert "injury" in got.reasons and not got.ambiguous
    assert (got.category, got.places) == (drowning.category, drowning.places)


async def test_a_child_drowning_typed_bare_alerts_the_coordinators_at_once(bot: Bot) -> None:
    """Em types without marks: Quân is alerted at once (no question first), and her
    receipt says so."""
    await say(bot, "em be bi ngat nuoc o ho nuoc lo C2", sender="u2")
    (alert,) = alerts(bot, "c1")
    assert "lô C2" in alert, alert
    receipt = last(bot, "u2")
    assert "Bot đã báo khẩn" in receipt and "phải không" not in receipt, receipt
    assert "ngộ độc" not in receipt  # drowning is no poisoning


@pytest.mark.parametrize(
    "text", ["khu B bị ngắt nước từ 8h", "khu B bi ngat nuoc tu 8h", "nha an bi ngat nuoc"]
)
def test_water_cut_off_is_no_drowning(text: str) -> None:
    got = parse(text, SENT)
    assert "injury" not in got.reasons, got.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "chỉ có 1 công nhân bị xây xát nhẹ",
        "chi co 1 cong nhan bi xay xat nhe",
        "1 công nhân bị thương nhẹ",
        "1 cong nhan bi thuong nhe",
        "chị bảo vệ bị trầy xước nhẹ ở tay",
        "chi bao ve bi tray xuoc nhe o tay",
        "anh Nam bị trầy xát nhẹ",
        "anh Nam bi tray xat nhe",
    ],
)
def test_a_worker_lightly_hurt_is_a_low_report(text: str) -> None:
    """A light injury is reported, low, as "bị thương nhẹ" is: its reason is `minor`, not
    `injury` (which wakes coordinators as urgent)."""
    got = parse(text, SENT)
    assert (got.type, got.severity, got.reasons) == ("incident", "low", ("minor",)), got.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "công nhân bị xây xát ở tay",
        "cong nhan bi xay xat o tay",
        "1 công nhân bị trầy xước",
        "1 cong nhan bi tray xuoc",
    ],
)
def test_a_worker_scratched_is_a_report_without_alarm(text: str) -> None:
    """Someone hurt, not gravely: a report, of the default severity, never urgent."""
    got = parse(text, SENT)
    assert (got.type, got.severity) == ("incident", "medium"), got.to_dict()
    assert "injury" not in got.reasons


@pytest.mark.parametrize(
    "text",
    ["trầy da", "tray da", "chị tạp vụ bị trầy da ở tay", "chi tap vu bi tray da o tay"],
)
def test_a_skin_scrape_is_reported_like_a_scratch(text: str) -> None:
    """ "trầy da" is "xây xát": someone hurt, a report of the default severity, never urgent
    (before: no report at all)."""
    got = parse(text, SENT)
    assert (got.type, got.severity, got.reasons) == ("incident", "medium", ()), got.to_dict()
    assert got.category in ("other", "accident")


@pytest.mark.parametrize("text", ["bị bỏng nhẹ", "bi bong nhe", "1 công nhân bị bỏng nhẹ"])
def test_a_light_burn_is_never_urgent(text: str) -> None:
    got = parse(text, SENT)
    assert (got.type, got.severity) == ("incident", "medium"), got.to_dict()
    assert "injury" not in got.reasons


@pytest.mark.parametrize(
    "text",
    [
        "xe bị trầy xước",
        "xe bi tray xuoc",
        "xe máy của chị Lan bị trầy xước ở bãi xe",
        "xe may cua chi Lan bi tray xuoc o bai xe",
        "ô tô bị xây xát nhẹ",
    ],
)
def test_a_vehicle_scratched_is_a_low_matter(text: str) -> None:
    """A scratch on a vehicle is its paint, nobody hurt: low, for no injury."""
    got = parse(text, SENT)
    assert (got.type, got.severity) == ("incident", "low"), got.to_dict()
    assert "injury" not in got.reasons and "light_injury" not in got.reasons


def test_a_vehicle_scratched_and_its_driver_hurt_is_high() -> None:
    got = parse("xe bị trầy xước, tài xế bị thương chảy máu", SENT)
    assert (got.type, got.severity) == ("incident", "high"), got.to_dict()


# ------------------------------------------------------------------- gates named, not coded


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("anh oi xe cho hang vao cong sau bi ket barie", "cổng sau"),
        ("anh ơi xe chở hàng vào cổng sau bị kẹt barie", "cổng sau"),
        ("co nguoi la o cong truoc", "cổng trước"),
        ("có người lạ ở cổng trước", "cổng trước"),
        ("danh nhau truoc cong chinh", "cổng chính"),
        ("đánh nhau trước cổng chính", "cổng chính"),
        ("CÓ NGƯỜI LẠ Ở CỔNG CHÍNH", "cổng chính"),
        ("trom o cong phu", "cổng phụ"),
        ("trộm ở cổng phụ", "cổng phụ"),
        ("trom o cong phu 2", "cổng phụ 2"),
        ("trộm ở cổng phụ 2", "cổng phụ 2"),
        ("co nguoi la o cong chinh so 1", "cổng chính 1"),
        ("có người lạ ở cổng chính số 1", "cổng chính 1"),
        ("chay kho phu", "kho phụ"),
        ("cháy kho phụ", "kho phụ"),
        ("co nguoi la o cong A", "cổng A"),
        ("có người lạ ở cổng 3", "cổng 3"),
        ("co nguoi la o cong so 2", "cổng 2"),
    ],
)
def test_a_named_gate_is_shown_by_its_name(text: str, shown: str) -> None:
    """ "cổng sau" is the back gate, not gate SAU: shown as people write it, with its marks;
    real codes stay codes."""
    places = parse(text, SENT).places
    got = [place_text({"kind": p.kind, "code": p.code, "text": p.text}) for p in places]
    assert got == [shown]


def test_two_named_gates_are_two_places() -> None:
    got = parse("đánh nhau từ cổng sau ra cổng chính", SENT).places
    assert [place_text({"kind": p.kind, "code": p.code, "text": p.text}) for p in got] == [
        "cổng sau",
        "cổng chính",
    ]


def test_a_head_count_after_a_named_gate_is_no_gate_number() -> None:
    got = parse("trước cổng chính 2 thanh niên gây rối", SENT)
    assert [p.text for p in got.places] == ["cổng chính"] and got.people == 2


@pytest.mark.parametrize(
    "text",
    [
        "có 1 chị công nhân bị ngạt khói, đang đưa ra ngoài",
        "co 1 chi cong nhan bi ngat khoi, dang dua ra ngoai",
        "2 công nhân hít phải khói ở xưởng 3",
    ],
)
def test_someone_overcome_by_smoke_is_a_fire_casualty(text: str) -> None:
    """Smoke inhalation is a fire with someone hurt, not a poisoning (ngạt khí, ngộ độc)."""
    got = parse(text, SENT)
    assert (got.type, got.category, got.severity) == ("incident", "fire", "high"), got.to_dict()
    assert "injury" in got.reasons


def test_a_word_with_marks_is_no_question_particle() -> None:
    """ "bồn chứa" (a tank) ends in no "chưa?": marks typed say which word it is."""
    got = parse("công nhân bị ngạt khí trong bồn chứa", SENT)
    assert (got.type, got.category) == ("incident", "poisoning"), got.to_dict()
    assert parse("đã nhận thông báo chưa", SENT).type == "question"
    assert parse("da nhan thong bao chua", SENT).type == "question"


@pytest.mark.parametrize(
    "text",
    ["cầu dao bị ngắt rồi", "cau dao bi ngat roi", "cầu dao tổng bị nhảy", "cau dao tong bi nhay"],
)
def test_a_circuit_breaker_is_no_knife(text: str) -> None:
    """ "cầu dao" holds "dao" (a knife): it woke coordinators as a fight with a weapon."""
    got = parse(text, SENT)
    assert got.category != "fight" and "weapon" not in got.reasons, got.to_dict()
    assert got.severity != "high"


def test_a_fire_with_the_breaker_cut_is_still_a_fire() -> None:
    got = parse("cháy tủ điện xưởng 2, đã ngắt cầu dao tổng", SENT)
    assert (got.type, got.category) == ("incident", "fire"), got.to_dict()
