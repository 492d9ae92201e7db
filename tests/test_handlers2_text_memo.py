"""The text-only checks the hooks ask of every message are read once per text."""

from __future__ import annotations

import pytest

from handlers.intents.checkins import names_shift
from handlers.intents.incidents.confirmation import classify_answer
from handlers.intents.incidents.status import says_false_alarm


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("báo nhầm", True),
        ("Không sao rồi anh ơi", True),
        ("/bao_nham SV3 nhầm", False),
        ("#bao nham", False),
        ("có mặt", False),
        ("", False),
        ("báo nhầm " + "chữ " * 10, False),  # long: a report, not a withdrawal
    ],
)
def test_says_false_alarm(text: str, expected: bool) -> None:
    assert says_false_alarm(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("đã vào ca", True), ("Nhận ca sáng", True), ("có mặt", False), ("da vao ca", True)],
)
def test_names_shift(text: str, expected: bool) -> None:
    assert names_shift(text) is expected


def test_a_repeated_text_is_read_once() -> None:
    for check in (classify_answer, says_false_alarm, names_shift):
        check.cache_clear()
        check("có mặt ạ")
        check("có mặt ạ")
        info = check.cache_info()
        assert (info.hits, info.misses) == (1, 1)


def test_classify_answer_keeps_its_answers() -> None:
    assert classify_answer("đúng") == ("yes", "")
    assert classify_answer("sai rồi") == ("no", "")
    assert classify_answer("sửa: kho 3") == ("fix", "kho 3")
    assert classify_answer("có mặt") is None
    assert classify_answer("đúng") is classify_answer("đúng")
