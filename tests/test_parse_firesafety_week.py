"""A fire-safety cluster's week (cụm an toàn PCCC, parser round 9): periodic inspections,
drills, faults of the fire gear, hazards, smells with no fire, real fires and their end, and
meeting notices with a bare weekday, as the factories' PCCC teams type them on phones (half
without diacritics, "pccc", "bcc", "xg", "k", "ko", emoji). Each row is the spec: what the
parser must read, and whether the default alert rule (config.yaml `alerts`) makes it urgent."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers.intents.incidents.understanding import URGENT_REASONS
from handlers.parse import ParsedMessage, parse
from models.tables import Incident
from tests.conftest import Bot
from tests.test_incidents import bot, last, rows, say
from tests.test_parse_alerts import alerts

__all__ = ["bot"]  # the fixture

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of the cluster's week: Monday 7 to Sunday 13 December 2026."""
    return datetime(2026, 12, day, hour, minute, tzinfo=VN)


def urgent(p: ParsedMessage) -> bool:
    """The default alert rule: a fire, a high severity, or an urgent reason."""
    return p.category == "fire" or p.severity == "high" or bool(URGENT_REASONS & set(p.reasons))


# (sent, text, type, category, severity, urgent, time, places)
Row = tuple[datetime, str, str, str | None, str | None, bool, Any, list[tuple[str, str | None]]]
ROWS: list[Row] = [
    # Monday: the periodic inspection finds faults of the gear (to be put right: equipment).
    (at(7, 8, 10),
     "Kiểm tra PCCC định kỳ xưởng 3: 2 bình CO2 hết hạn, họng nước số 4 không có nước",
     "incident", "equipment", "medium", False, None, [("workshop", "3")]),
    (at(7, 8, 12), "kiem tra pccc dinh ky xg 3: 2 binh co2 het han, hong nuoc so 4 ko co nuoc",
     "incident", "equipment", "medium", False, None, [("workshop", "3")]),
    # A drill announced for Friday: the coming Friday, a drill (kept on record, never a fire).
    (at(7, 9), "Thứ 6 diễn tập PCCC lúc 15h, các tổ chuẩn bị",
     "incident", "inspection", "low", False, "2026-12-11T15:00", []),
    (at(7, 9, 1), "thu 6 dien tap pccc luc 15h cac to chuan bi nhe",
     "incident", "inspection", "low", False, "2026-12-11T15:00", []),
    # The cluster's meeting: the coming Wednesday, whether sent on Monday or that morning.
    (at(7, 16), "Thứ 4 họp giao ban cụm PCCC lúc 8h",
     "other", None, None, False, "2026-12-09T08:00", []),
    (at(7, 16, 1), "thu 4 hop giao ban cum pccc luc 8h",
     "other", None, None, False, "2026-12-09T08:00", []),
    (at(9, 7), "thứ 4 họp giao ban cụm PCCC lúc 8h nhé ae",
     "other", None, None, False, "2026-12-09T08:00", []),
    (at(10, 7), "Thứ 4 họp giao ban cụm PCCC lúc 8h",
     "other", None, None, False, "2026-12-16T08:00", []),
    # Faults of the fire gear: equipment, never a fire.
    (at(7, 10, 20), "tủ báo cháy trung tâm báo lỗi zone 3",
     "incident", "equipment", "medium", False, None, []),
    (at(7, 10, 21), "tu bao chay trung tam bao loi zone 3 a",
     "incident", "equipment", "medium", False, None, []),
    (at(7, 10, 22), "tủ bcc trung tâm báo lỗi zone 3",
     "incident", "equipment", "medium", False, None, []),
    (at(12, 13, 2), "Tủ trung tâm báo cháy mất nguồn, đang chạy ắc quy",
     "incident", "equipment", "medium", False, None, []),
    (at(7, 13, 30), "Đèn exit khu B không sáng",
     "incident", "equipment", "medium", False, None, [("place", "B")]),
    (at(7, 13, 31), "den exit khu B k sang",
     "incident", "equipment", "medium", False, None, [("place", "B")]),
    (at(7, 14), "Bơm chữa cháy không khởi động được",
     "incident", "equipment", "medium", False, None, []),
    (at(7, 14, 1), "bom chua chay ko khoi dong dc",
     "incident", "equipment", "medium", False, None, []),
    (at(9, 22, 42), "binh chua chay hanh lang tang 2 tut ap, kim ve vach do",
     "incident", "equipment", "medium", False, None, []),
    (at(10, 10, 5), "vòi chữa cháy vách tường xưởng 5 bị mất lăng phun",
     "incident", "equipment", "medium", False, None, [("workshop", "5")]),
    (at(12, 12), "Tủ điện xưởng 2 có tia lửa, đã cắt cầu dao",
     "incident", "equipment", "medium", False, None, [("workshop", "2")]),
    (at(12, 12, 1), "tu dien xg 2 co tia lua, da cat cau dao",
     "incident", "equipment", "medium", False, None, [("workshop", "2")]),
    # Hazards to put right: `other`, medium, nobody woken.
    (at(8, 7, 45), "Kho hóa chất để pallet chắn lối thoát hiểm",
     "incident", "other", "medium", False, None, [("warehouse", None)]),
    (at(8, 7, 46), "kho hoa chat de pallet chan loi thoat hiem",
     "incident", "other", "medium", False, None, [("warehouse", None)]),
    (at(8, 9, 15), "Hàn cắt ở mái xưởng 2 không có giấy phép",
     "incident", "other", "medium", False, None, [("workshop", "2")]),
    (at(8, 9, 16), "han cat o mai xg 2 ko co giay phep",
     "incident", "other", "medium", False, None, [("workshop", "2")]),
    (at(8, 9, 17), "bên nhà thầu đang hàn trên mái xưởng 2 mà k có giấy phép làm việc, "
     "k có bình chữa cháy đi kèm", "incident", "other", "medium", False, None,
     [("workshop", "2")]),
    (at(11, 10), "xe nâng đậu chắn trụ nước chữa cháy trước kho 3",
     "incident", "other", "medium", False, None, [("warehouse", "3")]),
    (at(11, 10, 11), "cn hut thuoc trong kho bong xg 1, e da nhac nho",
     "incident", "other", "medium", False, None, [("workshop", "1")]),
    (at(10, 9), "Lối thoát hiểm xưởng 2 bị khóa trong giờ làm việc",
     "incident", "other", "medium", False, None, [("workshop", "2")]),
    (at(10, 9, 1), "cua thoat hiem kho 3 bi khoa trai 🔒",
     "incident", "other", "medium", False, None, [("warehouse", "3")]),
    # The police recorded it: the inspection's finding, kept on record.
    (at(10, 15), "CA KCN vừa xuống lập biên bản vụ để pallet chắn lối thoát hiểm xưởng 2",
     "incident", "inspection", "low", False, None, [("workshop", "2")]),
    # A smell explained, smoke that is steam: all-clears.
    (at(8, 15, 40), "Khu đóng gói có mùi khét, đã kiểm tra là do động cơ quạt",
     "all_clear", None, None, False, None, []),
    (at(8, 15, 41), "khu dong goi co mui khet, da kiem tra la do dong co quat",
     "all_clear", None, None, False, None, []),
    (at(10, 8, 31), "khoi o khu lo hoi la hoi nuoc thoi, ko phai chay nha",
     "all_clear", None, None, False, None, []),
    # Real fires: urgent by their category; put out, low.
    (at(9, 11, 5), "Cháy thùng rác cạnh kho 5, đã dập bằng bình bột",
     "incident", "fire", "low", True, None, [("warehouse", "5")]),
    (at(9, 11, 6), "chay thung rac canh kho 5, da dap bang binh bot",
     "incident", "fire", "low", True, None, [("warehouse", "5")]),
    (at(10, 2, 10), "CHÁY tủ điện xưởng 4, đang dùng bình CO2 dập 🔥🔥",
     "incident", "fire", "medium", True, None, [("workshop", "4")]),
    (at(10, 2, 11), "chay tu dien xg 4 dang dung binh co2 dap",
     "incident", "fire", "medium", True, None, [("workshop", "4")]),
    (at(13, 19, 31), "chay co sau hang rao lo C2 lua dang lan vao xg goi 114 gap",
     "incident", "fire", "high", True, None, [("lot", "C2")]),
    # The end, said alone: an all-clear (the details hook reads it against the fire).
    (at(9, 11, 20), "Đã khống chế, không thiệt hại người",
     "all_clear", None, None, False, None, []),
    (at(9, 11, 21), "da khong che, ko thiet hai nguoi",
     "all_clear", None, None, False, None, []),
    (at(10, 2, 26), "da dap tat r, ko ai bi sao",
     "all_clear", None, None, False, None, []),
    # Drills under way or over: their fire is the exercise's.
    (at(11, 15, 1), "bat dau dien tap, gia dinh chay kho 2 co 1 nguoi mac ket",
     "incident", "inspection", "low", False, None, [("warehouse", "2")]),
    (at(10, 14, 1), "dien tap xong r, so tan 420 cn 3p, ok het",
     "incident", "inspection", "low", False, None, []),
    # A false alarm, a patrol, a question, a check-in.
    (at(9, 22, 40), "xưởng 1 chuông báo cháy kêu, đã kiểm tra không có cháy",
     "incident", "inspection", "low", False, None, [("workshop", "1")]),
    (at(13, 9, 1), "tuan tra pccc cac xg binh thuong, binh chua chay du 👍",
     "all_clear", None, None, False, None, []),
    (at(13, 9, 2), "cho e hỏi bình CO2 hết hạn thì nạp ở đâu ạ",
     "question", None, None, False, None, []),
    (at(12, 7, 30), "em có mặt trực PCCC ca ngày",
     "check_in", None, None, False, None, []),
]  # fmt: skip


def _id(row: Row) -> str:
    return row[1][:40]


@pytest.mark.parametrize("row", ROWS, ids=[_id(r) for r in ROWS])
def test_the_clusters_week_is_read_right(row: Row) -> None:
    sent, text, kind, category, severity, is_urgent, when, places = row
    p = parse(text, sent)
    got = (p.type, p.category, p.severity, urgent(p))
    assert got == (kind, category, severity, is_urgent), p.to_dict()
    time = p.to_dict().get("time")
    assert (time or {}).get("at") == when, time
    named = [(x.kind, x.code) for x in p.places]
    assert all(place in named for place in places), named


@pytest.mark.parametrize(
    "text",
    [
        "lối thoát hiểm xưởng 2 đã mở, không còn bị khóa",
        "lối thoát hiểm xưởng 2 có bị khóa không?",
        "Đi mot vong xuong 5 rồi, máy móc chạy bình thuong, cua thoat hiem khong bi chắn",
        "tháng trc cty lập biên bản 2 bạn hút thuốc trong xưởng rồi mà giờ vẫn tái phạm hoài",
    ],
)
def test_an_exit_opened_or_asked_about_is_no_hazard(text: str) -> None:
    p = parse(text, at(10, 9))
    assert p.category != "other" and not urgent(p), p.to_dict()


async def test_the_clusters_day_through_the_bot(bot: Bot) -> None:
    """At 07:45 An reports a blocked exit (filed, nobody woken); at 11:05 Em reports, typed
    bare, a bin fire put out: the coordinator Quân is alerted at kho 5, and the record says
    fire, low, put out."""
    bot.clock.set(at(8, 7, 45))
    await say(bot, "kho hoa chat de pallet chan loi thoat hiem", sender="u1")
    (hazard,) = await rows(bot, Incident)
    assert (hazard.category, hazard.severity, hazard.urgent) == ("other", "medium", False)
    assert alerts(bot, "c1") == []
    assert "kho" in last(bot, "u1"), last(bot, "u1")
    bot.clock.set(at(9, 11, 5))
    await say(bot, "Cháy thùng rác cạnh kho 5, đã dập bằng bình bột", sender="u2")
    fire = (await rows(bot, Incident))[-1]
    assert (fire.category, fire.severity) == ("fire", "low")
    (alert,) = alerts(bot, "c1")
    assert "kho 5" in alert, alert
