"""Unaccented ambiguity is confirmed by the bot rather than alerted (issue 14, docs/parser.md):
through the real webhook, the fake Zalo and the fixed clock of tests/test_incidents.py."""

from __future__ import annotations

from datetime import timedelta

from handlers.intents.incidents import HOLD_MINUTES, classify_answer
from models.tables import Incident, Report
from tests.conftest import Bot
from tests.test_incidents import bot, events, last, rows, say, the_incident

__all__ = ["bot"]  # the fixture, shared with tests/test_incidents.py


def alerts(bot: Bot, chat: str) -> list[str]:
    return [x.text for x in bot.store.bot_lines(chat) if "KHẨN" in x.text]


async def test_a_bare_chay_asks_first_and_alerts_on_dung(bot: Bot) -> None:
    await say(bot, "chay o xuong 2", sender="u2")
    question = last(bot, "u2")
    assert "Anh/chị báo CHÁY/NỔ ở xưởng 2 phải không?" in question
    assert '"đúng" để bot báo ngay điều phối viên' in question
    assert alerts(bot, "c1") == []  # nobody woken by a guess
    incident = await the_incident(bot)
    assert incident.urgent and "alert_held" in await events(bot, incident.id)

    await say(bot, "đúng", sender="u2")
    (alert,) = alerts(bot, "c1")
    assert "chưa xác nhận" not in alert and "xưởng 2" in alert
    (report,) = await rows(bot, Report)
    assert report.status == "confirmed"
    # The escalation goes on from the alert, as for any urgent incident.
    bot.clock.advance(timedelta(minutes=11))
    assert (await bot.runtime.run_job("incident_escalation")).queued >= 1


async def test_an_unanswered_guess_alerts_after_the_hold(bot: Bot) -> None:
    await say(bot, "chay o xuong 2", sender="u2")
    bot.clock.advance(timedelta(minutes=HOLD_MINUTES - 1))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 0
    assert alerts(bot, "c1") == []
    bot.clock.advance(timedelta(minutes=2))
    assert (await bot.runtime.run_job("incident_escalation")).queued >= 1
    await bot.drain()
    (alert,) = alerts(bot, "c1")
    assert "chưa xác nhận" in alert  # said as it is: the reporter has not answered
    incident = await the_incident(bot)
    assert incident.escalation_level == 0 and incident.next_escalation_at is not None


async def test_chay_or_khong_withdraws_and_nobody_is_alerted(bot: Bot) -> None:
    await say(bot, "chay o xuong 2", sender="u2")
    await say(bot, "không", sender="u2")
    await say(bot, "chay o kho 3", sender="u3")
    await say(bot, "chạy ạ", sender="u3")  # "ran": the bot misread
    incidents = await rows(bot, Incident)
    assert [i.status for i in incidents] == ["false_alarm", "false_alarm"]
    bot.clock.advance(timedelta(minutes=30))
    await bot.runtime.run_job("incident_escalation")
    await bot.drain()
    assert alerts(bot, "c1") == []


async def test_corroborated_guess_alerts_at_once(bot: Bot) -> None:
    await say(bot, "chay kho 3 roi, lua bung len mai, goi 114 gap", sender="u2")
    (alert,) = alerts(bot, "c1")
    assert "chưa xác nhận" in alert  # still asked, but nobody waits for the answer
    assert "Có phải anh/chị báo cháy/nổ" in last(bot, "u2")


async def test_a_real_fire_typed_with_marks_never_waits(bot: Bot) -> None:
    await say(bot, "cháy ở xưởng 2", sender="u2")
    (alert,) = alerts(bot, "c1")
    assert "chưa xác nhận" not in alert


def test_chay_answers() -> None:
    assert classify_answer("chạy ạ") == ("no", "")
    assert classify_answer("cháy thật") == ("yes", "")
    assert classify_answer("chay") is None  # bare: says neither
    assert classify_answer("phải") == ("yes", "")
    assert classify_answer("nhầm") == ("no", "")
