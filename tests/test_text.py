"""Text normalisation: NFC, invisibles, spaces, emoji modifiers, tone placement, folding."""

from __future__ import annotations

import unicodedata

import pytest

from handlers.text import fold, fold_key, lower, normalize, normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hoả hoạn", "Hỏa hoạn"),
        ("ma tuý", "ma túy"),
        ("thuỷ", "thủy"),
        ("khoẻ không", "khỏe không"),
        ("hoà bình", "hòa bình"),
        ("uỷ ban", "ủy ban"),
        ("HOẢ HOẠN", "HỎA HOẠN"),
        ("Quý", "Quý"),  # u belongs to qu: the tone stays on y
        ("QUÝ", "QUÝ"),
        ("hoàng", "hoàng"),  # closed syllable: already the one placement
        ("thuyền", "thuyền"),
        ("hỏa", "hỏa"),  # already in the chosen placement
    ],
)
def test_tone_marks_are_placed_one_way(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_nfd_becomes_nfc() -> None:
    raw = unicodedata.normalize("NFD", "Cháy lớn ở kho 3")
    assert raw != "Cháy lớn ở kho 3"
    assert normalize_text(raw) == "Cháy lớn ở kho 3"


def test_invisible_characters_and_odd_spaces() -> None:
    assert normalize_text("Đã\u200b nhận\ufeff") == "Đã nhận"
    assert normalize_text("kho\u00a03\u202fngay") == "kho 3 ngay"
    assert normalize_text("a\tb\r\nc") == "a b\nc"


def test_emoji_modifiers_are_dropped() -> None:
    assert normalize_text("Đã nắm 👍🏻") == "Đã nắm 👍"
    assert normalize_text("❤️ ok ✔️") == "❤ ok ✔"


def test_stray_combining_marks_are_dropped() -> None:
    assert normalize_text("x\u0301y") == "xy"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Đức Phát", "Duc Phat"),
        ("đường", "duong"),
        ("CHÁY KHO HÀNG", "CHAY KHO HANG"),
        ("Tiếng Việt có dấu", "Tieng Viet co dau"),
        ("ascii stays", "ascii stays"),
        ("👍 ok", "👍 ok"),
    ],
)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


def test_fold_of_raw_nfd_text_drops_the_marks() -> None:
    assert fold(unicodedata.normalize("NFD", "Cháy kho Đức")) == "Chay kho Duc"


def test_copies_have_the_same_length() -> None:
    n = normalize("  Cháy KHO Đức Phát İstanbul 👍🏻\u200b ")
    assert len(n.text) == len(n.folded) == len(n.lower) == len(n.lower_folded)
    assert n.lower_folded == fold(n.lower)
    start = n.lower_folded.index("duc phat")
    assert n.text[start : start + len("duc phat")] == "Đức Phát"


def test_lower_never_changes_length() -> None:
    assert len(lower("İ")) == 1
    assert lower("ĐỨC") == "đức"


def test_fold_key() -> None:
    assert fold_key("  Nguyễn   Văn ĐỨC ") == "nguyen van duc"
    assert fold_key(unicodedata.normalize("NFD", "Hoàng")) == "hoang"


def test_idempotent() -> None:
    once = normalize_text("Hoả hoạn\u200b ở\u00a0kho 👍🏽")
    assert normalize_text(once) == once


def test_whole_percent_rounds_a_half_up_as_the_spreadsheet_does() -> None:
    """5/8 reads 63 % in the digest, on the dashboard and in the XLSX cell alike."""
    from handlers.text import whole_percent

    assert [whole_percent(5, 8), whole_percent(1, 8), whole_percent(2, 3)] == [63, 13, 67]
    assert [whole_percent(0.625), whole_percent(0.0), whole_percent(1, 1)] == [63, 0, 100]
