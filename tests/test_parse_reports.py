"""Reports as council members write them: formal reports of something found (a suspect, hidden
goods, a white powder) whose check-in and acknowledgement words are about other people, and the
everyday words for things that happen (a turnstile dead, lights out, a fall on the stairs, oil
spilt, a guard picking a fight), with and without diacritics."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers.parse import parse
from handlers.texts.incidents import place_text
from models.tables import Ack, CheckIn, Incident, Report
from tests.conftest import Bot
from tests.test_incidents import bot, last, rows, say
from tests.test_parse_alerts import alerts

__all__ = ["bot"]  # the fixture, shared with tests/test_incidents.py

SENT = datetime.fromisoformat("2026-12-06T07:30:00+07:00")


def reading(text: str) -> tuple[str, str | None, str | None]:
    p = parse(text, SENT)
    return p.type, p.category, p.severity


# ------------------------------------------------------- a report that finds something


@pytest.mark.parametrize(
    ("text", "category"),
    [
        (
            "Báo cáo khẩn: 02h15 tổ tuần tra phát hiện 01 nam thanh niên lẩn trốn sau kho "
            "phế liệu, không giải thích được lý do có mặt, trong người có kìm cộng lực. Đã "
            "tạm giữ và bàn giao cho Công an KCN",
            "suspicious",
        ),
        (
            "Bao cao: 3h sang bao ve di tuan phat hien 1 doi tuong nap sau bon nuoc xuong 2, "
            "khong giai thich duoc ly do co mat. Da tam giu, ban giao cong an KCN",
            "suspicious",
        ),
        (
            "Tổ bảo vệ cổng 1 kiểm tra ba lô của 01 nữ công nhân vào ca 3, phát hiện 02 túi "
            "nhỏ đựng bột màu trắng nghi ma túy. Đã lập biên bản, mời Công an KCN xuống",
            "drugs",
        ),
        (
            "kiem tra tui do 1 cn vao ca dem phat hien 2 goi nilon chua chat bot mau trang, "
            "da tam giu ban giao cong an",
            "drugs",
        ),
        (
            "Đội bảo vệ cổng sau kiểm tra xe tải xuất hàng, phát hiện phụ xe giấu 04 bao "
            "hạt nhựa ngoài phiếu xuất kho, tài xế đã nhận lỗi. Đã lập biên bản, tạm giữ "
            "tang vật và mời Công an KCN đến làm việc",
            "theft",
        ),
        (
            "bv cong 2 kiem tra xe tai xuat hang, tai xe giau 5 thung son ngoai phieu xuat "
            "kho, da thua nhan. Da lap bien ban tam giu tang vat",
            "theft",
        ),
        (
            "Ca đêm đã nhận ca đủ quân số. 1h40 bắt quả tang 01 đối tượng lấy trộm cáp đồng "
            "sau xưởng 4, đã tạm giữ bàn giao công an",
            "theft",
        ),
    ],
)
def test_a_report_that_finds_something_is_an_incident(text: str, category: str) -> None:
    p = parse(text, SENT)
    assert (p.type, p.category) == ("incident", category), p.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "có mặt",
        "em vào ca rồi",
        "vao ca roi a",
        "tuần tra khu B bình thường",
        "tuan tra khu B binh thuong, ko phat hien gi",
        "Tuần tra xong, không phát hiện gì bất thường, anh em có mặt đủ",
        "đã nhận, em có mặt lúc 7h",
    ],
)
def test_short_check_ins_and_all_clears_stay_as_they_are(text: str) -> None:
    assert parse(text, SENT).type in ("check_in", "all_clear", "ack"), parse(text, SENT)


@pytest.mark.parametrize(
    ("text", "admitted"),
    [("tài xế đã nhận lỗi", "nhận lỗi"), ("tai xe da thua nhan", "thừa nhận")],
)
def test_someone_admitting_a_fault_is_no_acknowledgement(text: str, admitted: str) -> None:
    assert parse(text, SENT).type != "ack", admitted


async def test_an_reports_a_suspect_and_no_one_is_checked_in(bot: Bot) -> None:
    """An's report names the suspect "có mặt", Phúc's the worker "vào ca": An gets a report
    receipt, Quân an alert; one incident each is stored, no check-in, no acknowledgement."""
    await say(
        bot,
        "Báo cáo khẩn: 02h15 tổ tuần tra phát hiện 01 nam thanh niên lẩn trốn sau kho phế "
        "liệu, không giải thích được lý do có mặt, mang theo kìm cộng lực. Đã tạm giữ và bàn "
        "giao cho Công an KCN",
        sender="u1",
    )
    receipt = last(bot, "u1")
    assert "ghi nhận báo cáo" in receipt and "Loại: đối tượng khả nghi" in receipt
    assert "có mặt" not in receipt  # no check-in receipt for the suspect's "có mặt"
    (alert,) = alerts(bot, "c1")  # "Báo cáo khẩn": Quân is alerted at once
    assert "đối tượng khả nghi" in alert
    await say(
        bot,
        "kiem tra tui do 1 cn vao ca dem phat hien 2 goi nilon chua chat bot mau trang",
        sender="u3",
    )
    assert await rows(bot, CheckIn) == []
    assert await rows(bot, Ack) == []
    assert sorted(i.category for i in await rows(bot, Incident)) == ["drugs", "suspicious"]


# ------------------------------------------------------- everyday words for what happens


@pytest.mark.parametrize(
    ("text", "category", "severity"),
    [
        ("cổng xoay quẹt thẻ liệt hết 3 làn", "equipment", "medium"),
        ("cong xoay quet the liet het 3 lan roi", "equipment", "medium"),
        ("máy quẹt thẻ cổng 2 bị liệt từ sáng", "equipment", "medium"),
        ("đèn đường tắt cả dãy mấy hôm nay", "equipment", "medium"),
        ("den duong tat ca day may hom nay", "equipment", "medium"),
        ("đèn chiếu sáng hàng rào lô C tắt hết, tối om", "equipment", "medium"),
        ("cúp điện cả khu ký túc xá từ 22h, máy phát hỏng luôn", "equipment", "medium"),
        ("cup dien ca khu ktx tu 22h, may phat hu luon", "equipment", "medium"),
        ("ktx mất điện từ tối, máy phát đề không lên", "equipment", "medium"),
        ("trượt chân té cầu thang, trầy đầu gối xíu, tự đi lại được", "accident", "low"),
        ("truot chan te cau thang, tray dau goi xiu, tu di lai duoc", "accident", "low"),
        ("chị Hoa xưởng 2 bị té cầu thang, trầy da chút xíu, vẫn đi lại được", "accident", "low"),
        ("xe bồn làm đổ chừng chục lít dầu ra đường, anh em rải cát rồi", "hazmat", "low"),
        ("xe bon lam do chung chuc lit dau ra duong, ae rai cat roi", "hazmat", "low"),
        ("dầu loang ra đường trước cổng 3, anh em rải cát rồi", "hazmat", "low"),
        ("thằng bảo vệ cty bên cạnh gây sự, đòi đánh bảo vệ Hiếu khi tan ca", "fight", "medium"),
        ("thang bao ve cty ben canh gay su, doi danh bv Hieu khi tan ca", "fight", "medium"),
        ("mấy thanh niên ngoài cổng kiếm chuyện, dọa đánh anh em ca đêm", "fight", "medium"),
    ],
)
def test_everyday_words_for_what_happens(text: str, category: str, severity: str) -> None:
    assert reading(text) == ("incident", category, severity), parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "liệt kê giúp em danh sách ca đêm",
        "nhớ tắt đèn phòng trực trước khi về",
        "đổ xăng xong em quay lại cổng 2",
        "đợi em xíu nha",
    ],
)
def test_the_same_words_in_passing_report_nothing(text: str) -> None:
    assert parse(text, SENT).type != "incident", parse(text, SENT).to_dict()


# ------------------------------------------------------- an exception after an all-clear

SHIFT_REPORT = (
    "Báo cáo ca đêm 07/12: quân số 4/4, tuần tra 3 lượt, không phát hiện gì bất thường. "
    "Riêng camera số 5 khu nhà xe mất tín hiệu từ 2h sáng."
)
SHIFT_REPORT_BARE = (
    "Bao cao ca dem 07/12: quan so 4/4, tuan tra 3 luot, khong phat hien gi bat thuong. "
    "Rieng camera so 5 khu nha xe mat tin hieu tu 2h sang."
)
MORNING = datetime.fromisoformat("2026-12-07T09:24:00+07:00")


@pytest.mark.parametrize(
    ("text", "hour"), [(SHIFT_REPORT, "2h sáng"), (SHIFT_REPORT_BARE, "2h sang")]
)
def test_a_shift_report_with_a_broken_camera_reports_the_camera(text: str, hour: str) -> None:
    """The night shift's report is all clear but for camera 5: the camera is the report, at
    the parking shed, since 2 a.m. (the report's date is not part of that hour)."""
    p = parse(text, MORNING)
    assert (p.type, p.category, p.severity) == ("incident", "equipment", "medium"), p.to_dict()
    assert [pl.text for pl in p.places] == ["nhà xe"]
    assert p.time_text == hour
    assert p.time == datetime.fromisoformat("2026-12-07T02:00:00+07:00")


@pytest.mark.parametrize(
    ("text", "category", "severity"),
    [
        (
            "Ca 2 quân số đủ, không có gì bất thường. Ngoài ra barie cổng 3 bị hỏng",
            "equipment",
            "medium",
        ),
        (
            "Ca 2 quan so du, khong co gi bat thuong. Ngoai ra barie cong 3 bi hong",
            "equipment",
            "medium",
        ),
        ("Không phát hiện gì bất thường nhưng camera cổng 2 mất tín hiệu", "equipment", "medium"),
        ("Khong phat hien gi bat thuong nhung camera cong 2 mat tin hieu", "equipment", "medium"),
        (
            "Tuần tra 3 lượt, mọi thứ bình thường, tuy nhiên có 2 thanh niên gây rối trước cổng 1",
            "fight",
            "medium",
        ),
        (
            "Tuan tra 3 luot, moi thu binh thuong, tuy nhien co 2 thanh nien gay roi truoc cong 1",
            "fight",
            "medium",
        ),
        ("Ca đêm an toàn, chỉ có 1 đối tượng lạ lảng vảng sau kho B", "suspicious", "medium"),
        ("Ca dem an toan, chi co 1 doi tuong la lang vang sau kho B", "suspicious", "medium"),
        (
            "Quân số 4/4, không ai bị thương. Riêng cổng 2 có 2 thanh niên đánh nhau, 1 người "
            "chảy máu",
            "fight",
            "high",
        ),
        (
            "Quan so 4/4, khong ai bi thuong. Rieng cong 2 co 2 thanh nien danh nhau, 1 nguoi "
            "chay mau",
            "fight",
            "high",
        ),
    ],
)
def test_an_exception_after_an_all_clear_is_the_report(
    text: str, category: str, severity: str
) -> None:
    assert reading(text) == ("incident", category, severity), parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "Báo cáo ca 3: quân số đủ, không phát hiện gì bất thường. Riêng ca 3 có 3 người",
            "check_in",
        ),
        (
            "Bao cao ca 3: quan so du, khong phat hien gi bat thuong. Rieng ca 3 co 3 nguoi",
            "check_in",
        ),
        ("không phát hiện gì bất thường", "all_clear"),
        ("khong phat hien gi bat thuong", "all_clear"),
        ("không phải cháy, chỉ có khói thôi", "all_clear"),
        ("khong phai chay, chi co khoi thoi", "all_clear"),
        ("Kho B bình thường, xe riêng của giám đốc đã về", "all_clear"),
        ("Kho B binh thuong, xe rieng cua giam doc da ve", "all_clear"),
    ],
)
def test_an_exception_that_names_nothing_leaves_the_all_clear(text: str, kind: str) -> None:
    assert parse(text, SENT).type == kind, parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("ngày 05/12 vào lúc 14h30 cháy kho 3", "ngày 05/12 vào lúc 14h30"),
        ("14h ngày 5/12 cháy kho 3", "14h ngày 5/12"),
    ],
)
def test_a_date_and_an_hour_close_together_are_one_time(text: str, said: str) -> None:
    p = parse(text, MORNING)
    assert p.time_text == said
    assert p.time is not None and (p.time.day, p.time.month) == (5, 12)


async def test_tai_s_shift_report_files_the_camera_and_checks_no_one_in(bot: Bot) -> None:
    """An sends the night shift's report in private: he is told the camera fault is recorded,
    not that he is present; the record is one equipment incident at the parking shed."""
    await say(bot, SHIFT_REPORT, sender="u1")
    receipt = last(bot, "u1")
    assert "ghi nhận báo cáo" in receipt and "hỏng thiết bị/camera" in receipt, receipt
    assert "có mặt" not in receipt
    assert await rows(bot, CheckIn) == []
    (incident,) = await rows(bot, Incident)
    assert (incident.category, incident.severity) == ("equipment", "medium")
    (report,) = await rows(bot, Report)
    assert [p["text"] for p in report.places] == ["nhà xe"]


# ------------------------------------------------------- a fault after an all-clear, no "riêng"

PATROL_CAMERA = "Ca 3 tuần tra khu A, không phát hiện gì bất thường, camera số 5 hỏng từ 2h sáng"
PATROL_CAMERA_BARE = (
    "Ca 3 tuan tra khu A, khong phat hien gi bat thuong, camera so 5 hong tu 2h sang"
)


@pytest.mark.parametrize("text", [PATROL_CAMERA, PATROL_CAMERA_BARE])
def test_a_fault_in_the_clause_after_an_all_clear_is_the_report(text: str) -> None:
    """Written as the "Riêng camera số 5 …" report is, without the word: the camera is the
    report, in zone A, since 2 a.m."""
    p = parse(text, MORNING)
    assert (p.type, p.category, p.severity) == ("incident", "equipment", "medium"), p.to_dict()
    assert [pl.text for pl in p.places] == ["khu A"]
    assert p.time == datetime.fromisoformat("2026-12-07T02:00:00+07:00")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("tuần tra khu A, bình thường, không có gì", ("check_in", "all_clear")),
        ("tuan tra khu A, binh thuong, khong co gi", ("check_in", "all_clear")),
        ("Ca 3 tuần tra khu A, bình thường, không ai bị thương", ("check_in", "all_clear")),
        ("Ca 3 tuan tra khu A, binh thuong, khong ai bi thuong", ("check_in", "all_clear")),
        ("nhầm, không phải cháy đâu, chỉ là người ta đốt rác", ("all_clear",)),
        ("đã kiểm tra, không có cháy, khói là do đốt rác", ("all_clear",)),
        ("báo nhầm, có khói do đốt rác thôi", ("all_clear",)),
        ("không thấy người lạ nào quanh lô B1 nữa, đã kiểm tra kỹ", ("all_clear",)),
        ("khong thay nguoi la nao quanh lo B1 nua, da kiem tra ky", ("all_clear",)),
        ("anh em trực nghiêm, không để xảy ra cháy nổ, trộm cắp dịp cuối năm", ("other",)),
    ],
)
def test_a_later_clause_that_names_nothing_new_leaves_the_all_clear(
    text: str, kind: tuple[str, ...]
) -> None:
    assert parse(text, SENT).type in kind, parse(text, SENT).to_dict()


def test_no_injury_after_an_all_clear_is_no_incident() -> None:
    assert parse("không ai bị thương", SENT).type != "incident"


async def test_the_patrol_s_broken_camera_is_filed_not_a_patrol(bot: Bot) -> None:
    """An's night patrol found nothing but camera 5 broken: he hears that the camera fault is
    recorded (no patrol receipt), and the record is an equipment incident in zone A."""
    await say(bot, PATROL_CAMERA, sender="u1")
    receipt = last(bot, "u1")
    assert "ghi nhận báo cáo" in receipt and "hỏng thiết bị/camera" in receipt, receipt
    assert "tuần tra" not in receipt
    assert await rows(bot, CheckIn) == []
    (incident,) = await rows(bot, Incident)
    assert (incident.category, incident.severity) == ("equipment", "medium")
    (report,) = await rows(bot, Report)
    assert [p["text"] for p in report.places] == ["khu A"]


# ------------------------------------------------------- a fire alarm that was false


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("chuông báo cháy kêu, kiểm tra không có cháy", []),
        ("chuong bao chay keu, kiem tra khong co chay", []),
        ("chuông báo cháy xưởng 2 kêu, đã kiểm tra không có cháy", ["xưởng 2"]),
        ("chuong bao chay xuong 2 keu, da kiem tra khong co chay", ["xưởng 2"]),
        ("còi báo cháy kho B hú, anh em ra kiểm tra không có gì", ["kho B"]),
        ("báo cháy giả ở xưởng 3", ["xưởng 3"]),
        ("bao chay gia o xuong 3", ["xưởng 3"]),
        ("báo động giả", []),
        ("bao dong gia", []),
        ("chuông báo cháy kêu, kiểm tra không có cháy, không biết do đâu", []),
    ],
)
def test_a_false_fire_alarm_is_a_low_report(text: str, places: list[str]) -> None:
    """The detectors went off and there was no fire: recorded as a check of fire safety
    (kiểm tra), low, never urgent, at the place (before: a patrol's all-clear)."""
    p = parse(text, SENT)
    got = (p.type, p.category, p.severity, p.reasons)
    assert got == ("incident", "inspection", "low", ("false_alarm",)), p.to_dict()
    assert [
        place_text({"kind": x.kind, "code": x.code, "text": x.text}) for x in p.places
    ] == places


@pytest.mark.parametrize(
    "text",
    [
        "đã kiểm tra hệ thống báo cháy, bình thường",
        "em báo nhầm, không phải cháy",
        "bao dong kho C keu do chuot chay qua cam bien, khong co ai",
        "chuông báo cháy kêu, kiểm tra thấy khói ở kho 2",
    ],
)
def test_what_is_no_false_fire_alarm(text: str) -> None:
    """A routine check of the alarms, a member's own mistake, a burglar alarm set off by a
    rat, and an alarm that found smoke are not false fire alarms."""
    assert "false_alarm" not in parse(text, SENT).reasons, parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "chuông báo cháy xưởng 3 kêu do đầu báo dính bụi, kiểm tra rồi không có cháy",
        "chuong bao chay xuong 3 keu do dau bao dinh bui, kiem tra r khong co chay",
        "Báo cháy giả, do khói thuốc lá",
        "chuông báo cháy ktx kêu, hóa ra là hơi nước nhà tắm, không có cháy",
    ],
)
def test_a_false_alarm_with_its_cause_is_an_all_clear(text: str) -> None:
    """The cause found (dust on a detector, steam, a cigarette): the matter is settled."""
    assert parse(text, SENT).type == "all_clear", parse(text, SENT).to_dict()


async def test_an_s_false_fire_alarm_is_recorded_and_wakes_nobody(bot: Bot) -> None:
    """An checks the ringing fire alarm of workshop 2 and finds no fire: his report is
    recorded (no patrol), nobody is alerted and nobody is told to call 114."""
    await say(bot, "chuong bao chay xuong 2 keu, da kiem tra khong co chay", sender="u1")
    receipt = last(bot, "u1")
    assert "ghi nhận báo cáo" in receipt and "Nơi: xưởng 2" in receipt, receipt
    assert "tuần tra" not in receipt and "114" not in receipt and "khẩn" not in receipt
    assert alerts(bot, "c1") == []
    assert await rows(bot, CheckIn) == []
    (incident,) = await rows(bot, Incident)
    assert (incident.category, incident.severity, incident.urgent) == ("inspection", "low", False)


# ------------------------------------------------------- order at the gate


@pytest.mark.parametrize(
    "text",
    [
        "xe container đậu trái phép trước cổng chính, tài xế không chịu đi",
        "xe container dau trai phep truoc cong chinh, tai xe khong chiu di",
        "có xe tải đỗ xe trái phép ở lô C",
        "co xe tai do xe trai phep o lo C",
        "xe ai đậu xe chắn cổng 2 từ sáng",
        "xe ai dau xe chan cong 2 tu sang",
        "mấy xe ba gác chặn cổng sau",
        "may xe ba gac chan cong sau",
        "xe tải đậu trước cổng 1, tài xế không chịu di chuyển",
        "xe tai dau truoc cong 1, tai xe khong chiu di chuyen",
        "hàng rong lấn chiếm lối đi trước cổng chính",
        "hang rong lan chiem loi di truoc cong chinh",
    ],
)
def test_a_vehicle_blocking_the_gate_is_a_matter_for_the_guards(text: str) -> None:
    """No accident, so not "tai nạn giao thông": the category is "khác", medium."""
    assert reading(text) == ("incident", "other", "medium"), parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "con không chịu đi học",
        "em không chịu đi đâu",
        "Thông báo: cấm đỗ xe trái phép trước cổng chính",
        "nhắc anh em không để xe chắn cổng",
    ],
)
def test_refusing_or_forbidding_reports_no_blocked_gate(text: str) -> None:
    assert parse(text, SENT).type != "incident", parse(text, SENT).to_dict()
