"""A gas smell is a report: "bếp ăn có mùi gas" is checked, "mùi gas nồng nặc" alerts the
coordinators at once, and the same smell with the valve shut is low. Found chatting in the demo:
"kho 3 có mùi gas nồng nặc, anh em sơ tán chưa?" was read as a mere question."""

from __future__ import annotations

import pytest

from handlers.parse import parse
from tests.conftest import Bot
from tests.test_incidents import bot, last, say
from tests.test_parse_alerts import alerts
from tests.test_parse_chat import SENT

__all__ = ["bot"]  # the fixture, used by name


@pytest.mark.parametrize(
    "text",
    [
        "bếp ăn có mùi gas",
        "bep an co mui gas",
        "ngửi thấy mùi gas ở bếp ăn ca 2",
        "có hơi gas ở khu nồi hơi",
        "co mui hoa chat la o xuong son",
    ],
)
def test_a_gas_or_chemical_smell_is_a_hazmat_report(text: str) -> None:
    got = parse(text, SENT)
    assert (got.type, got.category, got.severity) == ("incident", "hazmat", "medium"), text


@pytest.mark.parametrize(
    "text",
    [
        "kho 3 có mùi gas nồng nặc, anh em sơ tán chưa?",
        "kho 3 co mui gas nong nac",
        "nồng nặc mùi gas ở nhà ăn",
    ],
)
def test_a_strong_gas_smell_is_urgent_even_asked_as_a_question(text: str) -> None:
    got = parse(text, SENT)
    assert (got.type, got.category, got.severity) == ("incident", "hazmat", "high"), text
    assert "toxic" in got.reasons


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("mui gas nong nac o bep, e da khoa van, mo cua thong gio", "incident"),
        ("không còn mùi gas nữa", "all_clear"),
        ("kiểm tra rồi, không có mùi gas", "all_clear"),
        ("bình gas bếp ăn hết rồi, mai đổi", "other"),
    ],
)
def test_a_leak_shut_off_or_no_smell_is_no_emergency(text: str, kind: str) -> None:
    got = parse(text, SENT)
    assert got.type == kind, got.to_dict()
    assert got.severity in (None, "low"), got.to_dict()


async def test_a_strong_gas_smell_alerts_the_coordinators_at_once(bot: Bot) -> None:
    await say(bot, "kho 3 có mùi gas nồng nặc, anh em sơ tán chưa?", sender="u1")
    (alert,) = alerts(bot, "c1")
    assert alert.splitlines()[0].startswith("🚨 KHẨN: hóa chất/ô nhiễm tại kho 3"), alert
    assert "Bot đã báo khẩn" in last(bot, "u1")
