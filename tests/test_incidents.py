"""Incidents end to end through HTTP with a fixed clock: reports, doubt, alerts, merge, status,
photos and the reports export; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.ext.media import MAX_ATTEMPTS, fetch_due
from handlers.clock import FixedClock
from handlers.intents.incidents import (
    Understood,
    classify_answer,
    occurred_at,
    parse_id,
    place_keys,
    reply_action,
    time_text,
)
from handlers.jobs.incidents import quiet_end
from handlers.texts import incidents as texts
from models.incidents import near_place, same_place
from models.tables import (
    Attachment,
    CheckIn,
    Conversation,
    Incident,
    IncidentEvent,
    Member,
    Outbox,
    Report,
)
from tests.conftest import Bot, text_event

# 02:00 on Friday 27 Nov 2026 in Hanoi: deep in the quiet hours (21:30-07:00).
NIGHT = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)
# 10:00 the same day.
DAY = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)

COORD_CHAT = "gcoordinators"
GROUP = "gbaove"
PEOPLE = [  # member id (= private chat id), name, role
    ("c1", "Phạm Minh Quân", "coordinator"),
    ("c2", "Trần Thị Bình", "coordinator"),
    ("p1", "Lê Văn Công An", "member"),  # police liaison: first in the escalation chain
    ("u1", "Nguyễn Văn An", "member"),
    ("u2", "Hoàng Thị Em", "member"),
    ("u3", "Đỗ Văn Phúc", "member"),
]


async def seed(bot: Bot) -> None:
    """Roster members as the engagement import would leave them (private chats known)."""
    async with bot.sessions() as s, s.begin():
        for member_id, name, role in PEOPLE:
            s.add(
                Member(
                    member_id=member_id,
                    name=name,
                    name_folded=name.lower(),
                    display_name=name,
                    role=role,
                    status="member",
                    private_chat_id=member_id,
                    created_at=NIGHT,
                    expected_since=NIGHT,
                )
            )


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(
        db=db_url,
        coordinators=[COORD_CHAT],
        groups=[{"chat_id": GROUP, "name": "Tổ bảo vệ KCN", "kind": "enterprise"}],
        # The photo server below plays Zalo's media host.
        platform={"media_hosts": ["127.0.0.1"]},
        alerts={
            "ack_timeout_minutes": 10,
            "escalation_chain": ["p1"],
            "max_escalations": 2,
            "merge_window_minutes": 60,
            "open_incident_reminder_hours": 24,
            "photo_attach_minutes": 5,
        },
    )
    b: Bot = await make_bot(settings, clock=FixedClock(DAY))
    await seed(b)
    return b


async def say(bot: Bot, text: str, sender: str = "u1", **kw: Any) -> None:
    name = next(n for m, n, _r in PEOPLE if m == sender)
    status, _ = await bot.deliver(
        text_event(text, sender=sender, name=name, at=bot.clock.now(), **kw)
    )
    assert status == 200
    await bot.drain()


_photo_ids = itertools.count(1)


async def send_photo(bot: Bot, url: str, sender: str = "u1", caption: str = "") -> None:
    body = {
        "event_name": "message.image.received",
        "message": {
            "message_type": "CHAT_PHOTO",
            "photo_url": url,
            "caption": caption,
            "date": int(bot.clock.now().timestamp() * 1000),
            "chat": {"id": sender, "chat_type": "PRIVATE"},
            "from": {"id": sender, "is_bot": False, "display_name": sender},
            "message_id": f"img{next(_photo_ids):017d}",
        },
    }
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()


def last(bot: Bot, chat: str) -> str:
    lines = bot.store.bot_lines(chat)
    assert lines, f"the bot said nothing in {chat}"
    return lines[-1].text


def alert_line(bot: Bot, chat: str) -> Any:
    return next(x for x in reversed(bot.store.bot_lines(chat)) if "KHẨN" in x.text)


async def rows(bot: Bot, model: Any, *where: Any, order: Any = None) -> list[Any]:
    async with bot.sessions() as s:
        stmt = select(model).where(*where).order_by(order if order is not None else model.id)
        return list((await s.execute(stmt)).scalars())


async def the_incident(bot: Bot) -> Incident:
    (incident,) = await rows(bot, Incident)
    return incident


async def events(bot: Bot, incident_id: int) -> list[str]:
    found = await rows(bot, IncidentEvent, IncidentEvent.incident_pk == incident_id)
    return [e.kind for e in found]


# ----------------------------------------------------------------------------- urgent alerts


async def test_fire_at_night_alerts_at_once_escalates_and_stops_after_ack(bot: Bot) -> None:
    bot.clock.set(NIGHT)
    await bot.deliver(text_event("Cháy lớn ở kho 3, cần hỗ trợ gấp!!!", sender="u1", at=NIGHT))
    # The alert is written in the same transaction as the report: one processing pass.
    await bot.runtime.processor.run_once()
    alerts = await rows(bot, Outbox, Outbox.kind == "alert")
    assert {a.chat_id for a in alerts} == {"c1", "c2", COORD_CHAT}
    assert all(a.priority == 0 and a.next_attempt_at == NIGHT for a in alerts)
    await bot.drain()
    for chat in ("c1", "c2", COORD_CHAT):
        text = alert_line(bot, chat).text
        assert "cháy/nổ tại kho 3 (SV1)" in text and "nhận xử lý" in text
        assert "Nguyễn Văn An" in text and "02:00 27/11" in text
    confirmation = last(bot, "u1")
    assert "báo cáo số 1" in confirmation and "SV1" in confirmation
    assert "Loại: cháy/nổ" in confirmation and "Nơi: kho 3" in confirmation
    # Who really got the alert, by name (issue 15: never a claim the outbox does not back).
    assert "Bot đã báo khẩn cho anh/chị Quân, anh/chị Bình và nhóm điều phối." in confirmation
    assert bot.store.bot_lines("p1") == []

    # Nobody answers for 10 minutes: the next person in the chain is called.
    bot.clock.advance(timedelta(minutes=9))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 0
    bot.clock.advance(timedelta(minutes=1))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 1
    assert (await bot.runtime.run_job("incident_escalation")).queued == 0  # level-triggered
    await bot.drain()
    assert "lần 1" in last(bot, "p1") and "SV1" in last(bot, "p1")
    incident = await the_incident(bot)
    assert incident.escalation_level == 1
    assert incident.next_escalation_at == NIGHT + timedelta(minutes=20)

    # A coordinator takes it by replying to the alert in the coordinators' chat.
    bot.clock.advance(timedelta(minutes=3))
    await say(
        bot,
        "nhận xử lý",
        sender="c2",
        chat=COORD_CHAT,
        group=True,
        quote=alert_line(bot, COORD_CHAT).message_id,
    )
    incident = await the_incident(bot)
    assert incident.status == "acknowledged" and incident.next_escalation_at is None
    assert incident.acknowledged_at == NIGHT + timedelta(minutes=13)
    assert "anh/chị Bình nhận xử lý sự việc SV1" in last(bot, COORD_CHAT)
    assert "anh/chị Bình đã nhận xử lý" in last(bot, "c1")
    assert "đã có anh/chị Bình nhận xử lý" in last(bot, "u1")

    bot.clock.advance(timedelta(hours=1))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 0
    timeline = await rows(bot, IncidentEvent, IncidentEvent.incident_pk == incident.id)
    assert [(e.kind, e.at) for e in timeline] == [
        ("report", NIGHT),
        ("alert", NIGHT),
        ("escalation", NIGHT + timedelta(minutes=10)),
        ("acknowledged", NIGHT + timedelta(minutes=13)),
    ]


async def test_escalation_repeats_to_coordinators_up_to_the_limit(bot: Bot) -> None:
    await say(bot, "Cháy ở xưởng 4", sender="u2")
    queued = []
    for _ in range(4):
        bot.clock.advance(timedelta(minutes=10))
        queued.append((await bot.runtime.run_job("incident_escalation")).queued)
    # Level 1 to the chain (p1), level 2 to the coordinators again, then nothing more.
    assert queued == [1, 3, 0, 0]
    incident = await the_incident(bot)
    assert incident.escalation_level == 2 and incident.next_escalation_at is None
    keys = {o.idempotency_key for o in await rows(bot, Outbox, Outbox.kind == "alert")}
    assert f"escalate:{incident.id}:1:p1" in keys and f"escalate:{incident.id}:2:c1" in keys


async def test_private_nhan_xu_ly_takes_the_one_waiting_incident(bot: Bot) -> None:
    await say(bot, "Cháy ở xưởng 4", sender="u2")
    await say(bot, "Nhận xử lý", sender="c1")
    incident = await the_incident(bot)
    assert incident.status == "acknowledged"
    async with bot.sessions() as s:
        handler = await s.get(Member, incident.handler_pk)
    assert handler is not None and handler.member_id == "c1"
    assert "đã nhận xử lý" in last(bot, "c2")


async def test_a_member_cannot_take_or_close_an_incident(bot: Bot) -> None:
    await say(bot, "Cháy ở xưởng 4", sender="u2")
    await say(bot, "/xong SV1", sender="u3")
    assert "dành cho điều phối viên" in last(bot, "u3")
    await say(bot, "/xuly SV99", sender="c1")
    assert "không tìm thấy sự việc SV99" in last(bot, "c1")
    assert (await the_incident(bot)).status == "reported"


# ----------------------------------------------------------------------------- doubt


async def test_unaccented_ambiguous_report_is_confirmed_by_reply(bot: Bot) -> None:
    # Unaccented "chay" with 114 to back it: asked about, and alerted at once (issue 14).
    await say(bot, "chay o xuong 2, goi 114 roi", sender="u2")
    question = last(bot, "u2")
    assert "Có phải anh/chị báo cháy/nổ ở xưởng 2 không?" in question
    assert "đúng / sai / sửa" in question
    (report,) = await rows(bot, Report)
    assert report.status == "pending" and report.ambiguous
    # A possible fire does not wait for the answer: coordinators hear now, flagged.
    assert "chưa xác nhận" in alert_line(bot, "c1").text

    await say(bot, "đúng", sender="u2")
    (report,) = await rows(bot, Report)
    assert report.status == "confirmed"
    assert "báo cáo số 1" in last(bot, "u2") and "Nơi: xưởng 2" in last(bot, "u2")
    assert "đã xác nhận" in last(bot, "c1")
    (conv,) = await rows(bot, Conversation)
    assert conv.status == "done"
    assert "confirmed" in await events(bot, report.incident_pk)


async def test_doubt_answered_sai_closes_as_false_alarm(bot: Bot) -> None:
    await say(bot, "chay o xuong 2, goi 114 roi", sender="u2")
    await say(bot, "sai", sender="u2")
    (report,) = await rows(bot, Report)
    incident = await the_incident(bot)
    assert report.status == "false_alarm" and incident.status == "false_alarm"
    assert incident.next_escalation_at is None
    assert "hủy báo cáo số 1" in last(bot, "u2")
    assert "báo nhầm" in last(bot, "c1")
    bot.clock.advance(timedelta(minutes=30))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 0


async def test_doubt_answered_no_with_an_explanation_alerts_nobody(bot: Bot) -> None:
    """ "ko, chay xe thoi" (no, I was driving): the held fire is withdrawn, nobody is woken."""
    bot.clock.set(NIGHT)
    await say(bot, "chay o xuong 2", sender="u2")
    await say(bot, "ko, chay xe thoi", sender="u2")
    assert (await the_incident(bot)).status == "false_alarm"
    bot.clock.advance(timedelta(minutes=5))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 0
    assert not any("KHẨN" in line.text for line in bot.store.bot_lines("c1"))


async def test_doubt_corrected_with_sua(bot: Bot) -> None:
    await say(bot, "chay o xuong 2, goi 114 roi", sender="u2")
    await say(bot, "sửa: cháy ở kho 7, có 2 người bị thương", sender="u2")
    (report,) = await rows(bot, Report)
    assert report.status == "confirmed"
    assert report.places[0]["kind"] == "warehouse" and report.places[0]["code"] == "7"
    assert report.people == 2
    assert "Nơi: kho 7" in last(bot, "u2")
    assert (await the_incident(bot)).place_key == "warehouse:7"
    # The coordinator alerted before the answer hears the fire stands and needs a taker.
    assert last(bot, "c1") == "Sự việc SV1: người báo đã xác nhận (cháy/nổ). Cần người nhận xử lý!"


async def test_a_company_typed_in_lower_case_is_shown_back_as_a_name(bot: Bot) -> None:
    # docs/incidents.md, "Places shown back": capitals for the name, accents never guessed.
    await say(bot, "chay kho cty may viet, goi 114 roi", sender="u2")
    assert "Có phải anh/chị báo cháy/nổ ở Cty May Viet không?" in last(bot, "u2")
    assert "KHẨN: cháy/nổ tại Cty May Viet (SV1)" in alert_line(bot, "c1").text
    await say(bot, "đúng", sender="u2")
    assert "• Nơi: Cty May Viet" in last(bot, "u2")
    (report,) = await rows(bot, Report)
    assert report.places[0]["code"] == "may viet"  # stored as the parser read it
    assert texts.company_name("lg display") == "LG Display"  # no vowel: an abbreviation
    assert texts.company_name("LG display") == "LG display"  # capitals typed are kept


async def test_unanswered_doubt_is_kept_unconfirmed(bot: Bot) -> None:
    await say(bot, "chay o xuong 2, goi 114 roi", sender="u2")
    await say(bot, "hôm nay trời mưa to", sender="u2")  # not an answer: stays open
    (conv,) = await rows(bot, Conversation)
    assert conv.status == "open"
    bot.clock.advance(timedelta(minutes=31))
    assert (await bot.runtime.run_job("incident_reminders")).queued == 1
    await bot.drain()
    (report,) = await rows(bot, Report)
    (conv,) = await rows(bot, Conversation)
    assert report.status == "unconfirmed" and conv.status == "expired"
    assert "chưa xác nhận" in last(bot, "u2")
    # A late "đúng" no longer finds the question: it is routed as an ordinary message.
    await say(bot, "đúng", sender="u2")
    assert (await rows(bot, Report))[0].status == "unconfirmed"


# ----------------------------------------------------------------------------- merge


async def test_three_members_reporting_the_same_fight_make_one_incident(bot: Bot) -> None:
    await say(bot, "2 nhóm công nhân đánh nhau trước cổng số 2", sender="u1")
    bot.clock.advance(timedelta(minutes=3))
    await say(bot, "@Bot ANTT Có đánh nhau ở cổng số 2", sender="u2", chat=GROUP, group=True)
    bot.clock.advance(timedelta(minutes=2))
    await say(bot, "/xuly SV1", sender="c1")
    bot.clock.advance(timedelta(minutes=4))
    await say(bot, "đánh nhau ở cổng 2, có 3 người bị thương", sender="u3")

    reports = await rows(bot, Report)
    assert len(reports) == 3 and {r.incident_pk for r in reports} == {1}
    incident = await the_incident(bot)
    assert incident.category == "fight" and incident.status == "handling"
    assert incident.severity == "high"  # the worst of the reports
    assert incident.last_reported_at == DAY + timedelta(minutes=9)
    group_lines = [x.text for x in bot.store.bot_lines(GROUP)]
    assert "đã được báo trước đó (SV1)" in group_lines[0]
    assert "đang được anh/chị Quân xử lý" in group_lines[1]
    third = last(bot, "u3")
    assert "đã được báo trước đó (SV1)" in third and "Anh/chị Quân đang nhận xử lý" in third
    assert (await events(bot, incident.id)).count("merged") == 2
    # The first reporter heard that someone is on it, in the chat they reported from.
    assert "đang được anh/chị Quân xử lý" in last(bot, "u1")


async def test_a_fight_elsewhere_or_later_is_a_new_incident(bot: Bot) -> None:
    await say(bot, "Đánh nhau ở nhà ăn", sender="u1")
    await say(bot, "Đánh nhau trước cổng số 5", sender="u2")
    bot.clock.advance(timedelta(hours=3))
    await say(bot, "Đánh nhau ở nhà ăn", sender="u3")  # same place: still the open incident
    incidents = await rows(bot, Incident)
    assert len(incidents) == 2
    reports = await rows(bot, Report)
    assert [r.incident_pk for r in reports] == [1, 2, 1]


def test_merge_rules_on_place_keys() -> None:
    assert same_place({"workshop:2"}, {"workshop:2", "company:abc"})
    assert not same_place(set(), {"workshop:2"})
    assert near_place({"workshop:2"}, {"workshop:2", "gate:1"})
    assert near_place(set(), {"gate:1"})
    # Workshop 2 of two different companies is not the same place.
    assert not near_place({"workshop:2", "company:abc"}, {"workshop:2", "company:hansol"})


# ----------------------------------------------------------------------------- status


async def test_status_changes_by_reply_and_by_command(bot: Bot) -> None:
    await say(bot, "Cháy ở xưởng 4", sender="u2")
    await say(
        bot, "đang xử lý, đội PCCC đang đến", sender="c1", quote=alert_line(bot, "c1").message_id
    )
    incident = await the_incident(bot)
    assert incident.status == "handling"
    await say(bot, "/xong SV1 đã dập tắt", sender="c1")
    incident = await the_incident(bot)
    assert incident.status == "resolved" and incident.resolved_at == DAY
    assert "Đã đóng sự việc SV1" in last(bot, "c1")
    assert "đã được xử lý xong" in last(bot, "u2")
    await say(bot, "/xuly SV1", sender="c2")
    assert "đã đóng" in last(bot, "c2")
    kinds = await events(bot, incident.id)
    assert kinds[-2:] == ["handling", "resolved"]
    (resolved,) = await rows(bot, IncidentEvent, IncidentEvent.kind == "resolved")
    assert resolved.note == "đã dập tắt"


async def test_false_alarm_by_command_and_sole_reporter(bot: Bot) -> None:
    await say(bot, "Mất trộm xe máy ở nhà xe", sender="u1")
    await say(bot, "/bao_nham SV1", sender="u1")  # the only reporter may withdraw it
    assert (await the_incident(bot)).status == "false_alarm"
    assert "báo nhầm" in last(bot, "u1")


async def test_bao_nham_from_one_of_two_reporters_keeps_it_open_and_is_passed_on(
    bot: Bot,
) -> None:
    """Someone else reported it too: the incident stays open, the alerted hear of it, and
    "báo nhầm" is never recorded as a patrol's all-clear."""
    await say(bot, "Cháy ở xưởng 4", sender="u2")
    await say(bot, "xưởng 4 đang cháy, khói nhiều", sender="u3")
    await say(bot, "báo nhầm", sender="u2")
    assert (await the_incident(bot)).status == "reported"
    assert last(bot, "u2").startswith(texts.FALSE_ALARM_DISPUTED.format(code="SV1"))
    assert last(bot, "c1") == texts.TO_ALERTED["disputed"].format(code="SV1", who="anh/chị Em")
    assert await rows(bot, CheckIn) == []
    assert "disputed" in await events(bot, 1)


async def test_bao_nham_reply_to_alert_and_reporters_told(bot: Bot) -> None:
    await say(bot, "Cháy ở xưởng 4", sender="u2")
    await say(
        bot, "báo nhầm, chỉ là khói lò hơi", sender="c2", quote=alert_line(bot, "c2").message_id
    )
    assert (await the_incident(bot)).status == "false_alarm"
    assert "xác định là báo nhầm" in last(bot, "u2")
    assert "báo nhầm" in last(bot, "c1")


async def test_xong_ids_tell_tasks_from_incidents(bot: Bot) -> None:
    await say(bot, "/xong CV99", sender="c1")
    assert "CV99" in last(bot, "c1")  # answered by the tasks feature
    await say(bot, "Cháy ở xưởng 4", sender="u2")
    await say(bot, "/xong 1", sender="c1")  # a bare number: the coordinator's open incident
    assert (await the_incident(bot)).status == "resolved"
    await say(bot, "/xong", sender="c1")
    assert "SV" in last(bot, "c1") and "CV" in last(bot, "c1")


def test_ids_answers_and_reply_words() -> None:
    assert parse_id("SV12") == ("incident", 12, "")
    assert parse_id("#sv 12 xong rồi") == ("incident", 12, "xong rồi")
    assert parse_id("cv7") == ("task", 7, "")
    assert parse_id("12") == ("number", 12, "")
    assert parse_id("abc") is None and parse_id("") is None
    assert classify_answer("Đúng rồi") == ("yes", "")
    assert classify_answer("dung") == ("yes", "")
    assert classify_answer("Không phải") == ("no", "")
    assert classify_answer("sửa cháy ở kho 3") == ("fix", "cháy ở kho 3")
    assert classify_answer("có người chạy ra cổng") is None
    assert reply_action("Nhận xử lý") == "acknowledged"
    assert reply_action("chưa xong, đang xử lý") == "handling"
    assert reply_action("đã dập tắt xong") == "resolved"
    assert reply_action("thôi nhé") is None


async def test_baocao_lists_for_coordinators_and_prompts_members(bot: Bot) -> None:
    await say(bot, "/baocao", sender="c1")
    assert "không có sự việc nào" in last(bot, "c1")
    await say(bot, "/baocao Mất trộm 3 cuộn cáp đồng ở kho 2 tối qua", sender="u1")
    assert "báo cáo số 1" in last(bot, "u1") and "trộm cắp" in last(bot, "u1")
    await say(bot, "/baocao", sender="u1")
    assert "/baocao <nội dung>" in last(bot, "u1")
    await say(bot, "/baocao", sender="c1")
    assert "SV1 · trộm cắp · kho 2" in last(bot, "c1")
    await say(bot, "/baocao SV1", sender="c1")
    assert "Báo cáo (anh/chị An)" in last(bot, "c1")  # the step named as on its page


async def test_baocao_svn_from_a_member_files_no_report(bot: Bot) -> None:
    """A member asking after SV1 sees it if they reported it; it never becomes a report."""
    await say(bot, "Mất trộm 3 cuộn cáp đồng ở kho 2", sender="u1")
    await say(bot, "/baocao SV1", sender="u1")
    assert "Báo cáo (anh/chị An)" in last(bot, "u1")
    await say(bot, "/baocao sv1", sender="u2")
    assert last(bot, "u2") == texts.DETAILS_NOT_ALLOWED.format(code="SV1")
    assert len(await rows(bot, Report)) == 1


async def test_open_incident_reminder_goes_to_the_member_handling_it_in_the_morning(
    bot: Bot,
) -> None:
    bot.clock.set(NIGHT - timedelta(hours=24))
    await say(bot, "Đánh nhau ở nhà ăn", sender="u1")
    bot.clock.set(NIGHT + timedelta(minutes=1))
    # Nobody took it: the coordinators read it in their daily summary, not in a reminder.
    assert (await bot.runtime.run_job("incident_reminders")).queued == 0
    async with bot.sessions() as s, s.begin():
        incident = (await s.execute(select(Incident))).scalar_one()
        handler = (await s.execute(select(Member).where(Member.member_id == "u2"))).scalar_one()
        incident.handler_pk, incident.status, incident.reminded_at = handler.id, "handling", None
    assert (await bot.runtime.run_job("incident_reminders")).queued == 1
    assert (await bot.runtime.run_job("incident_reminders")).queued == 0
    [reminder] = await rows(bot, Outbox, Outbox.kind == "reminder")
    morning = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # 07:00 in Hanoi
    assert reminder.chat_id == "u2" and reminder.next_attempt_at == morning
    assert "đã mở 1 ngày" in reminder.text


def test_quiet_end(make_settings: Any) -> None:
    settings = make_settings()
    assert quiet_end(settings, NIGHT) == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    assert quiet_end(settings, DAY) is None
    late = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # 22:00
    assert quiet_end(settings, late) == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


# ----------------------------------------------------------------------------- photos


class PhotoServer:
    """A stand-in for Zalo's media host: serves a JPEG after `fail` failures."""

    JPEG = b"\xff\xd8\xff\xe0" + b"0" * 2000

    def __init__(self, fail: int = 0, status: int = 500) -> None:
        self.fail, self.status, self.hits = fail, status, 0
        self.server: TestServer | None = None

    async def handle(self, _request: web.Request) -> web.Response:
        self.hits += 1
        if self.hits <= self.fail:
            return web.Response(status=self.status, text="busy")
        return web.Response(body=self.JPEG, content_type="image/jpeg")

    def url(self, name: str = "p.jpg") -> str:
        assert self.server is not None
        return str(self.server.make_url(f"/{name}"))


@pytest.fixture
async def photos() -> AsyncIterator[Any]:
    made: list[PhotoServer] = []

    async def start(fail: int = 0, status: int = 500) -> PhotoServer:
        ps = PhotoServer(fail, status)
        app = web.Application()
        app.router.add_get("/{name}", ps.handle)
        ps.server = TestServer(app, port=0)
        await ps.server.start_server()
        made.append(ps)
        return ps

    yield start
    for ps in made:
        assert ps.server is not None
        await ps.server.close()


async def test_photo_two_minutes_after_the_report_attaches_and_is_fetched(
    bot: Bot, photos: Any
) -> None:
    server = await photos()
    await say(bot, "Mất trộm 3 cuộn cáp đồng ở kho 2", sender="u1")
    bot.clock.advance(timedelta(minutes=2))
    await send_photo(bot, server.url(), sender="u1")
    assert "lưu ảnh vào báo cáo số 1 (SV1)" in last(bot, "u1")
    (att,) = await rows(bot, Attachment)
    assert att.report_pk == 1 and att.status == "pending"
    assert await fetch_due(bot.app) == 1
    (att,) = await rows(bot, Attachment)
    assert att.status == "fetched" and att.data == PhotoServer.JPEG
    assert att.content_type == "image/jpeg" and att.attempts == 1
    assert "photo" in await events(bot, 1)
    # A second photo of the same burst is kept quietly.
    await send_photo(bot, server.url("q.jpg"), sender="u1")
    assert len(await rows(bot, Attachment, Attachment.report_pk == 1)) == 2
    assert "lưu ảnh" in last(bot, "u1") and len(bot.store.bot_lines("u1")) == 2


async def test_photo_url_failing_twice_is_retried_and_recorded(bot: Bot, photos: Any) -> None:
    server = await photos(fail=2)
    await say(bot, "Camera cổng 1 mất tín hiệu", sender="u1")
    await send_photo(bot, server.url(), sender="u1")
    assert await fetch_due(bot.app) == 1
    (att,) = await rows(bot, Attachment)
    assert (att.status, att.attempts, att.error) == ("pending", 1, "HTTP 500")
    assert att.next_attempt_at == DAY + timedelta(seconds=30)
    assert await fetch_due(bot.app) == 0  # not due yet
    bot.clock.advance(timedelta(seconds=30))
    assert await fetch_due(bot.app) == 1
    (att,) = await rows(bot, Attachment)
    assert att.attempts == 2 and att.next_attempt_at == bot.clock.now() + timedelta(minutes=2)
    bot.clock.advance(timedelta(minutes=2))
    assert await fetch_due(bot.app) == 1
    (att,) = await rows(bot, Attachment)
    assert att.status == "fetched" and att.attempts == 3 and att.error is None
    assert server.hits == 3


async def test_photo_that_never_loads_is_given_up(bot: Bot, photos: Any) -> None:
    server = await photos(fail=100, status=404)
    await say(bot, "Camera cổng 1 mất tín hiệu", sender="u1")
    await send_photo(bot, server.url(), sender="u1")
    for _ in range(MAX_ATTEMPTS):
        assert await fetch_due(bot.app) == 1
        bot.clock.advance(timedelta(hours=2))
    (att,) = await rows(bot, Attachment)
    assert att.status == "failed" and att.attempts == MAX_ATTEMPTS and att.error == "HTTP 404"
    assert await fetch_due(bot.app) == 0


async def test_photo_before_the_words_waits_for_the_report(bot: Bot, photos: Any) -> None:
    server = await photos()
    await send_photo(bot, server.url(), sender="u3")
    assert "Ảnh này về sự việc gì" in last(bot, "u3")
    (att,) = await rows(bot, Attachment)
    assert att.report_pk is None
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "Phát hiện 2 thanh niên sử dụng ma tuý sau nhà xe", sender="u3")
    (att,) = await rows(bot, Attachment)
    assert att.report_pk == 1


# ----------------------------------------------------------------------------- export


async def test_export_reports_has_every_field(bot: Bot, db_url: str, tmp_path: Path) -> None:
    bot.clock.set(NIGHT)
    await say(
        bot,
        "Lúc 02h phát hiện cháy tại xưởng 2 Công ty TNHH ABC, SĐT 0912 345 678",
        sender="u1",
        message_id="mfire000000000000001",
    )
    bot.clock.advance(timedelta(minutes=5))
    await say(
        bot,
        "@Bot ANTT cháy ở xưởng 2 cty ABC, 3 người mắc kẹt",
        sender="u2",
        chat=GROUP,
        group=True,
        message_id="mfire000000000000002",
    )
    config = tmp_path / "export.yaml"
    config.write_text(
        json.dumps({"database": {"url": db_url}, "platform": {"kind": "local"}}), encoding="utf-8"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "export",
        "reports",
        "-c",
        str(config),
        "--format",
        "jsonl",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    first, second = (json.loads(line) for line in out.decode().splitlines())
    assert first["incident_id"] == second["incident_id"] == 1
    assert first["message_id"] == "mfire000000000000001" and first["chat_id"] == "u1"
    assert first["member_id"] == "u1" and first["category"] == "fire"
    assert first["status"] == "confirmed" and first["severity"] in ("medium", "high")
    assert first["occurred_at"].startswith("2026-11-26T19:00")  # 02:00 in Hanoi, as UTC
    assert [(p["kind"], p["code"]) for p in first["places"]] == [
        ("workshop", "2"),
        ("company", "ABC"),
    ]
    assert first["phones"] == ["0912345678"] and first["people"] is None
    assert first["text"].startswith("Lúc 02h") and first["created_at"].startswith("2026-11-26")
    assert second["chat_id"] == GROUP and second["people"] == 3
    assert second["occurred_at"].startswith("2026-11-26T19:05")  # no time said: when sent


# ----------------------------------------------------------------------------- bad input


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_reading_commands_and_answers_never_fails(text: str) -> None:
    parse_id(text)
    classify_answer(text)
    reply_action(text)


class _Parsed:
    def __init__(self, data: Any) -> None:
        self.data = data

    def to_dict(self) -> Any:
        return self.data


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "category",
                "severity",
                "ambiguous",
                "confidence",
                "time",
                "places",
                "people",
                "phones",
            ]
        ),
        _json,
    )
)
def test_any_parse_shape_becomes_a_safe_report(data: dict[str, Any]) -> None:
    u = Understood.of(_Parsed(data))
    assert u.category is None or u.category in texts.CATEGORY
    place_keys(u.places)
    time_text(u.time, ZoneInfo("Asia/Ho_Chi_Minh"))
    occurred_at(u.time, DAY, ZoneInfo("Asia/Ho_Chi_Minh"))


def test_an_abbreviation_in_a_place_code_is_shown_in_capitals() -> None:
    """ "trước cổng KCN" is stored "kcn" (gates are kept lower case): shown back "cổng KCN", not
    "cổng kcn"; words with a vowel ("cổng chính") and numbers stay as they are."""
    assert texts.place_text({"kind": "gate", "code": "kcn", "text": "cổng KCN"}) == "cổng KCN"
    assert texts.place_text({"kind": "gate", "code": "chính", "text": "cổng chính"}) == "cổng chính"
    assert texts.place_text({"kind": "workshop", "code": "2", "text": "xưởng 2"}) == "xưởng 2"
    assert texts.place_text({"kind": "gate", "code": "b", "text": "cổng b"}) == "cổng B"


async def test_the_alerted_hear_when_a_fire_is_closed(bot: Bot) -> None:
    """Anh Quân takes the fire, later closes it with /xong: chị Bình and the coordinators'
    group, alerted too, read that it is over and in whose words (before: only "đã nhận xử
    lý", so they thought it was still being handled)."""
    await say(bot, "Cháy ở xưởng 4", sender="u2")
    await say(bot, "/xuly SV1", sender="c1")
    await say(bot, "/xong SV1 đã dập tắt, không ai bị thương", sender="c1")
    for chat in ("c2", COORD_CHAT):
        assert last(bot, chat) == (
            'Sự việc SV1: anh/chị Quân đã đóng, xử lý xong: "đã dập tắt, không ai bị thương".'
        )


async def test_closed_before_anyone_took_it_the_alerted_read_it_is_over(bot: Bot) -> None:
    await say(bot, "Cháy ở xưởng 4", sender="u2")
    await say(bot, "/xong SV1", sender="c1")
    assert last(bot, "c2") == "Sự việc SV1: anh/chị Quân đã đóng, xử lý xong."
    assert not any("đã nhận xử lý" in t for t in [line.text for line in bot.store.bot_lines("c2")])
