"""A report that ends by asking what to do now ("cháy xưởng 2 rồi làm sao đây") reports the
fire: read as a question, it became a request for a coordinator, queued for the morning."""

from __future__ import annotations

import pytest

from handlers.parse import parse
from tests.conftest import Bot
from tests.test_incidents import bot, last, say
from tests.test_parse_alerts import alerts
from tests.test_parse_chat import SENT

__all__ = ["bot"]  # the fixture, used by name


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("cháy xưởng 2 rồi làm sao đây", "fire"),
        ("chay kho 3 roi lam sao day", "fire"),
        ("có trộm ở kho 2 rồi làm sao đây", "theft"),
        ("co trom o kho 2 roi lam sao day", "theft"),
        ("mất điện rồi giờ sao", "equipment"),
        ("báo cháy gấp làm sao đây", "fire"),
    ],
)
def test_what_happened_then_what_now_is_a_report(text: str, category: str) -> None:
    got = parse(text, SENT)
    assert (got.type, got.category) == ("incident", category), got.to_dict()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("làm sao đây", "question"),
        ("em quên mật khẩu rồi phải làm sao", "question"),
        ("báo cháy làm sao vậy bot", "question"),
        ("ko sao giờ ổn rồi", "all_clear"),
        ("khong sao dau, tinh sao cung duoc", "all_clear"),
    ],
)
def test_a_plain_question_or_all_clear_stays_as_it_was(text: str, kind: str) -> None:
    assert parse(text, SENT).type == kind


async def test_the_fire_asked_about_alerts_the_coordinators(bot: Bot) -> None:
    await say(bot, "cháy xưởng 2 rồi làm sao đây", sender="u1")
    (alert,) = alerts(bot, "c1")
    assert alert.splitlines()[0].startswith("🚨 KHẨN: cháy/nổ tại xưởng 2"), alert
    assert "YC" not in last(bot, "u1")  # no request for the morning
