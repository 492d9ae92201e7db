"""Fire words in everyday Vietnamese that name no fire: a bot that wakes coordinators at 2 am
for "anh em cháy hết mình nhé" loses their trust. Found chatting as a council does."""

from __future__ import annotations

import pytest

from handlers.parse import parse
from tests.test_parse_chat import SENT


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
