"""A reporter's follow-ups as a council lives them: details sent right after a report join it,
and "không sao" closes a real event as settled, not as a false alarm.

Chị Lan (May Việt's guard) reports in her enterprise's group, @mentioning the bot as members
do there, or quoting its receipt; anh Quân coordinates and has written to the bot privately.
Everything goes through the real webhook, processor, jobs and sender (local platform).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy import text as sql

import bot.processor as bot_processor
from handlers.clock import FixedClock
from models.db import head_revision, make_engine, upgrade
from models.roster import import_roster_csv
from models.tables import Incident, IncidentEvent, Outbox, Report
from tests.conftest import Bot, member_says, text_event
from tests.engagement_helpers import GROUPS, MAY

# 14:20 Friday 27 Nov 2026 in Hanoi; 02:00 the same night before (22:00-06:00 is night).
AFTERNOON = datetime(2026, 11, 27, 7, 20, tzinfo=UTC)
NIGHT = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)
ROSTER = """member_id,name,phone,enterprise,role,groups,title
u1,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;gmayviet,anh
u2,Nguyễn Thị Lan,0901000002,May Việt,member,gcouncil;gmayviet,chị
u3,Lê Văn Cường,0901000003,May Việt,member,gmayviet,anh
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}
MENTION = "@Bot ANTT "


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(db=db_url, groups=GROUPS)
    b: Bot = await make_bot(settings, clock=FixedClock(AFTERNOON))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, AFTERNOON)).errors == []
    return b


async def say(bot: Bot, who: str, text: str, group: str | None = None, quote: str = "") -> None:
    """`who` writes `text` in `group` (or privately), at the clock's time."""
    await member_says(bot, who, NAMES[who], text, group, quote)


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def incident(bot: Bot, number: int) -> Incident:
    async with bot.sessions() as s:
        row = await s.get(Incident, number)
        assert row is not None
        return row


async def events(bot: Bot, number: int, kind: str) -> list[str]:
    async with bot.sessions() as s:
        stmt = (
            select(IncidentEvent.note)
            .where(IncidentEvent.incident_pk == number, IncidentEvent.kind == kind)
            .order_by(IncidentEvent.id)
        )
        return list((await s.execute(stmt)).scalars())


async def count(bot: Bot, model: Any) -> int:
    async with bot.sessions() as s:
        return len((await s.execute(select(model))).scalars().all())


async def test_details_after_a_fire_join_it_and_injuries_reach_the_alerted(bot: Bot) -> None:
    await say(bot, "u1", "chào bot")  # Quân is reachable in private
    await say(bot, "u2", MENTION + "Báo cáo: cháy kho số 3", group=MAY)
    assert "(SV1)" in said(bot, "u1")[-1] and "Gọi 114" in said(bot, "u1")[-1]
    alerts_before = len(said(bot, "u1"))

    # A minute later, where: added to SV1, Quân is not woken again for a place.
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u2", MENTION + "ở phía sau xưởng A", group=MAY)
    assert said(bot, MAY)[-1] == 'Đã bổ sung vào sự việc SV1: "ở phía sau xưởng A". Cảm ơn chị!'
    assert len(said(bot, "u1")) == alerts_before

    # Then, without diacritics, when it started.
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u2", MENTION + "luc 14h15", group=MAY)
    assert said(bot, MAY)[-1] == 'Đã bổ sung vào sự việc SV1: "luc 14h15". Cảm ơn chị!'

    # Two people burnt, quoting the bot's receipt: SV1 is now serious, and Quân reads it.
    bot.clock.advance(timedelta(minutes=1))
    receipt = next(x for x in bot.store.bot_lines(MAY) if "báo cáo số 1" in x.text)
    await say(bot, "u2", "có 2 người bị bỏng", group=MAY, quote=receipt.message_id)
    assert said(bot, "u1")[-1] == (
        '🚨 Sự việc SV1 (cháy/nổ tại kho 3, xưởng A): chị Lan báo thêm "có 2 người bị bỏng".'
    )
    assert said(bot, MAY)[-1] == (
        'Đã bổ sung vào sự việc SV1: "có 2 người bị bỏng". Cảm ơn chị! '
        "Bot đã báo thêm cho anh Quân."
    )

    # The records: one incident, its timeline, the report completed; no second report.
    fire = await incident(bot, 1)
    assert fire.status == "reported" and fire.severity == "high"
    assert "workshop:a" in fire.place_key.split("|")
    assert await count(bot, Incident) == 1 and await count(bot, Report) == 1
    assert await events(bot, 1, "detail") == [
        "ở phía sau xưởng A",
        "luc 14h15",
        "có 2 người bị bỏng",
    ]
    async with bot.sessions() as s:
        report = (await s.execute(select(Report))).scalar_one()
        told = (
            (await s.execute(select(Outbox).where(Outbox.chat_id == "u1").order_by(Outbox.id)))
            .scalars()
            .all()
        )
    assert report.people == 2 and report.severity == "high"
    assert [p["text"] for p in report.places] == ["kho số 3", "xưởng A"]
    assert report.occurred_at == datetime(2026, 11, 27, 7, 15, tzinfo=UTC)  # 14:15 local
    assert told[-1].kind == "alert"  # sent at once, like the alert it adds to

    # A new kind of incident is its own; past the window, a remark is chatter again.
    await say(bot, "u2", MENTION + "có trộm ở kho 5", group=MAY)
    theft = await incident(bot, 2)
    assert theft.category == "theft" and len(await events(bot, 1, "detail")) == 3
    bot.clock.advance(timedelta(minutes=11))
    await say(bot, "u2", MENTION + "ở cổng sau", group=MAY)
    assert await events(bot, 2, "detail") == [] and len(await events(bot, 1, "detail")) == 3


async def test_a_detail_from_someone_else_or_after_closing_is_not_taken(bot: Bot) -> None:
    await say(bot, "u2", "Có người lạ trèo tường vào kho 2")  # in private, by day: not urgent
    assert not (await incident(bot, 1)).urgent
    bot.clock.advance(timedelta(minutes=2))
    await say(bot, "u3", MENTION + "ở phía sau xưởng A", group=MAY)  # Cường never reported
    assert await events(bot, 1, "detail") == []
    await say(bot, "u2", "khoảng 3 người, đi về phía cổng sau")
    assert said(bot, "u2")[-1] == (
        'Đã bổ sung vào sự việc SV1: "khoảng 3 người, đi về phía cổng sau". Cảm ơn chị!'
    )
    await say(bot, "u2", "Họ đã bỏ đi rồi, không sao")
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u2", "o kho 2")
    assert len(await events(bot, 1, "detail")) == 1  # closed: nothing more is added


async def test_an_injury_after_a_quiet_report_raises_the_alert_with_both_texts(
    bot: Bot,
) -> None:
    await say(bot, "u1", "chào bot")
    await say(bot, "u2", "mất trộm 2 cuộn dây điện ở kho 5")  # by day: not urgent
    assert not (await incident(bot, 1)).urgent
    bot.clock.advance(timedelta(minutes=3))
    await say(bot, "u2", "co 1 bao ve bi thuong")
    alert = said(bot, "u1")[-1]
    assert alert.startswith("🚨 KHẨN:") and "(SV1)" in alert
    assert "mất trộm 2 cuộn dây điện ở kho 5" in alert and "co 1 bao ve bi thuong" in alert
    assert said(bot, "u2")[-1] == (
        'Đã bổ sung vào sự việc SV1: "co 1 bao ve bi thuong". Cảm ơn chị! '
        "Bot đã báo khẩn cho anh Quân."
    )
    assert (await incident(bot, 1)).urgent and await count(bot, Incident) == 1


async def test_it_is_fine_now_closes_as_settled_and_the_digest_does_not_call_it_false(
    bot: Bot,
) -> None:
    """Lan: "Họ đã bỏ đi rồi, không sao". It happened and it ended: settled ("đã ổn"), in
    her words, counted so in the weekly digest; a real "báo nhầm" still counts as one."""
    bot.clock.set(NIGHT)
    await say(bot, "u1", "chào bot")
    await say(bot, "u2", MENTION + "Có người lạ trèo tường vào kho 2", group=MAY)
    assert "(SV1)" in said(bot, "u1")[-1]  # a stranger at night: urgent
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u2", MENTION + "Ho da bo di roi, khong sao", group=MAY)
    closed = await incident(bot, 1)
    assert closed.status == "settled" and closed.next_escalation_at is None
    assert said(bot, MAY)[-1] == "Đã đóng sự việc SV1: đã ổn. Cảm ơn chị!"
    assert said(bot, "u1")[-1] == (
        'Sự việc SV1: chị Lan nhắn "Ho da bo di roi, khong sao". '
        "Bot đã đóng sự việc, không cần xử lý nữa."
    )
    assert await events(bot, 1, "settled") == ["Ho da bo di roi, khong sao"]

    await say(bot, "u3", MENTION + "Có người lạ trèo tường vào kho 4", group=MAY)
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u3", MENTION + "báo nhầm, là bảo vệ ca sau", group=MAY)
    assert (await incident(bot, 2)).status == "false_alarm"

    # Monday 08:00: the weekly digest tells them apart.
    bot.clock.set(datetime(2026, 11, 30, 1, 5, tzinfo=UTC))
    assert (await bot.runtime.run_job("weekly_digest")).queued >= 1
    await bot.drain()
    digest = next(t for t in said(bot, "u1") if t.startswith("📊"))
    assert "• SV1 " in digest and ": đã ổn (Ho da bo di roi, khong sao)" in digest
    assert "• SV2 " in digest and ": báo nhầm (báo nhầm, là bảo vệ ca sau)" in digest


async def test_a_detail_in_the_same_slice_as_its_report_joins_it(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slice's facts say who filed no report lately; a report filed earlier in the same
    slice counts (models/prefetch.py)."""
    monkeypatch.setattr(bot_processor, "MIN_TAKE", 50)  # everything stored: one slice
    monkeypatch.setattr(bot_processor, "SLICE_SECONDS", 60.0)
    await say(bot, "u2", "chào bot")  # Lan is known before the slice
    # The first asks the facts (no report yet: chatter), the report follows, then its detail.
    for text in ("ở cổng sau", "Báo cáo: cháy kho số 3", "co 2 nguoi bi bong"):
        event = text_event(text, sender="u2", name=NAMES["u2"], at=bot.clock.now())
        assert (await bot.deliver(event))[0] == 200
    await bot.drain()
    assert await events(bot, 1, "detail") == ["co 2 nguoi bi bong"]
    assert await count(bot, Incident) == 1
    assert said(bot, "u2")[-1] == (
        'Đã bổ sung vào sự việc SV1: "co 2 nguoi bi bong". Cảm ơn chị! '
        "Bot đã báo thêm cho nhóm Hội đồng ANTT KCN."  # no coordinator has written yet
    )


async def test_someone_trapped_is_grave_a_jammed_machine_is_its_own_report(bot: Bot) -> None:
    await say(bot, "u1", "chào bot")
    await say(bot, "u2", MENTION + "Báo cáo: cháy kho số 3", group=MAY)
    bot.clock.advance(timedelta(minutes=2))
    await say(bot, "u2", MENTION + "có 1 người bị kẹt trong kho", group=MAY)
    assert said(bot, "u1")[-1] == (
        '🚨 Sự việc SV1 (cháy/nổ tại kho 3): chị Lan báo thêm "có 1 người bị kẹt trong kho".'
    )
    assert (await incident(bot, 1)).severity == "high" and await count(bot, Incident) == 1
    await say(bot, "u2", MENTION + "máy cắt bị kẹt ở xưởng 2", group=MAY)
    assert (await incident(bot, 2)).category == "equipment"
    assert len(await events(bot, 1, "detail")) == 1


async def test_it_is_fine_from_one_of_two_reporters_passes_on_her_words(bot: Bot) -> None:
    await say(bot, "u1", "chào bot")
    await say(bot, "u2", MENTION + "Báo cáo: cháy kho số 3", group=MAY)
    await say(bot, "u3", MENTION + "cháy ở kho số 3", group=MAY)  # merged into SV1
    bot.clock.advance(timedelta(minutes=4))
    await say(bot, "u2", MENTION + "đã dập được rồi, không sao", group=MAY)
    assert (await incident(bot, 1)).status == "reported"  # Cường's report still stands
    assert said(bot, "u1")[-1] == (
        'Sự việc SV1: chị Lan nhắn "đã dập được rồi, không sao", nhưng còn người khác cũng '
        "báo nên sự việc vẫn mở."
    )


async def test_details_every_few_minutes_keep_the_window_open_for_half_an_hour(
    bot: Bot,
) -> None:
    """Lan sends what she learns every eight minutes: each joins SV1, since the window runs
    from her last word on it (10 minutes), up to 30 minutes after the report."""
    await say(bot, "u1", "chào bot")
    await say(bot, "u2", MENTION + "Báo cáo: cháy kho số 3", group=MAY)  # 14:20
    for text in ("ở phía sau xưởng A", "lúc 14h15", "co 2 nguoi bi bong"):
        bot.clock.advance(timedelta(minutes=8))  # 14:28, 14:36, 14:44
        await say(bot, "u2", MENTION + text, group=MAY)
        assert said(bot, MAY)[-1].startswith(f'Đã bổ sung vào sự việc SV1: "{text}".')
    assert said(bot, "u1")[-1] == (
        '🚨 Sự việc SV1 (cháy/nổ tại kho 3, xưởng A): chị Lan báo thêm "co 2 nguoi bi bong".'
    )
    # 14:52: eight minutes after her last detail, but 32 after the report: news of its own.
    bot.clock.advance(timedelta(minutes=8))
    before = len(said(bot, MAY))
    await say(bot, "u2", MENTION + "ở cổng sau", group=MAY)
    assert await events(bot, 1, "detail") == [
        "ở phía sau xưởng A",
        "lúc 14h15",
        "co 2 nguoi bi bong",
    ]
    assert not any(line.startswith("Đã bổ sung") for line in said(bot, MAY)[before:])
    fire = await incident(bot, 1)
    assert fire.severity == "high" and "workshop:a" in fire.place_key.split("|")
    assert await count(bot, Incident) == 1 and await count(bot, Report) == 1


async def test_a_detail_sent_in_private_joins_the_report_made_in_the_group(bot: Bot) -> None:
    """Lan reported the fire in May Việt's group, then writes to the bot privately: her only
    open incident takes the detail and she reads which one. Cường, with two reports open,
    is not guessed for: his private remark stays his own."""
    await say(bot, "u1", "chào bot")
    await say(bot, "u2", "chào bot")  # Lan has a private chat with the bot
    await say(bot, "u2", MENTION + "Báo cáo: cháy kho số 3", group=MAY)  # 14:20
    in_group = len(said(bot, MAY))
    bot.clock.advance(timedelta(minutes=3))
    await say(bot, "u2", "có 2 người bị bỏng")
    assert said(bot, "u2")[-1] == (
        "Đã bổ sung vào sự việc SV1 (cháy/nổ tại kho 3, chị báo trong nhóm Tổ bảo vệ May Việt "
        'lúc 14:20): "có 2 người bị bỏng". Cảm ơn chị! Bot đã báo thêm cho anh Quân.'
    )
    assert said(bot, "u1")[-1] == (
        '🚨 Sự việc SV1 (cháy/nổ tại kho 3): chị Lan báo thêm "có 2 người bị bỏng".'
    )
    assert len(said(bot, MAY)) == in_group  # the group is not told again
    assert await events(bot, 1, "detail") == ["có 2 người bị bỏng"]
    async with bot.sessions() as s:
        report = (await s.execute(select(Report))).scalar_one()
    assert report.people == 2 and report.severity == "high"

    # Cường reports a fire and a theft in the group: "ở cổng sau" in private could be either.
    await say(bot, "u3", "chào bot")
    await say(bot, "u3", MENTION + "cháy ở xưởng 7", group=MAY)
    await say(bot, "u3", MENTION + "có trộm ở kho 5", group=MAY)
    bot.clock.advance(timedelta(minutes=1))
    before = len(said(bot, "u3"))
    await say(bot, "u3", "ở cổng sau")
    assert await events(bot, 2, "detail") == [] and await events(bot, 3, "detail") == []
    assert not any(line.startswith("Đã bổ sung") for line in said(bot, "u3")[before:])

    # Once SV1 is closed, Lan's private remark is hers again.
    await say(bot, "u1", "/xong SV1 đã dập tắt")
    bot.clock.advance(timedelta(minutes=1))
    await say(bot, "u2", "ở phía sau xưởng A")
    assert await events(bot, 1, "detail") == ["có 2 người bị bỏng"]


async def test_it_is_fine_closed_before_settled_existed_becomes_settled_on_upgrade(
    bot: Bot, db_url: str
) -> None:
    """Revision 0013. Before the `settled` status, Lan's "Họ đã bỏ đi rồi, không sao" closed
    SV1 as a false alarm. Her message is stored, so the upgrade tells it from Cường's verdict
    "/bao_nham SV2 không sao" and his "báo nhầm, không sao": SV1 becomes settled, the digest
    says "đã ổn", and the two false alarms stay."""
    bot.clock.set(NIGHT)
    await say(bot, "u1", "chào bot")
    await say(bot, "u2", MENTION + "Có người lạ trèo tường vào kho 2", group=MAY)
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u2", MENTION + "Họ đã bỏ đi rồi, không sao", group=MAY)
    await say(bot, "u3", MENTION + "Có người lạ trèo tường vào kho 4", group=MAY)
    await say(bot, "u1", "/bao_nham SV2 không sao")
    await say(bot, "u3", MENTION + "Có người lạ trèo rào vào bãi xe", group=MAY)
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u3", MENTION + "báo nhầm, không sao", group=MAY)
    assert [(await incident(bot, n)).status for n in (1, 2, 3)] == [
        "settled",
        "false_alarm",
        "false_alarm",
    ]

    # SV1 as the release before `settled` left it, and the schema at revision 0012.
    async with bot.sessions() as s, s.begin():
        await s.execute(update(Incident).where(Incident.id == 1).values(status="false_alarm"))
        await s.execute(
            update(IncidentEvent)
            .where(IncidentEvent.incident_pk == 1, IncidentEvent.kind == "settled")
            .values(kind="false_alarm")
        )
        await s.execute(sql("UPDATE alembic_version SET version_num = '0012'"))
        await s.execute(sql("DROP INDEX ix_outbox_ref"))  # revision 0014's
    engine = make_engine(db_url)
    try:
        assert await upgrade(engine) == ("0012", head_revision())
    finally:
        await engine.dispose()

    assert [(await incident(bot, n)).status for n in (1, 2, 3)] == [
        "settled",
        "false_alarm",
        "false_alarm",
    ]
    assert await events(bot, 1, "settled") == ["Họ đã bỏ đi rồi, không sao"]
    assert await events(bot, 1, "false_alarm") == []
    assert await events(bot, 2, "false_alarm") == ["không sao"]

    # Monday 08:00: the weekly digest counts SV1 as over, not as a false alarm.
    bot.clock.set(datetime(2026, 11, 30, 1, 5, tzinfo=UTC))
    assert (await bot.runtime.run_job("weekly_digest")).queued >= 1
    await bot.drain()
    digest = next(t for t in said(bot, "u1") if t.startswith("📊"))
    assert "• SV1 " in digest and ": đã ổn (Họ đã bỏ đi rồi, không sao)" in digest
    assert "• SV2 " in digest and ": báo nhầm (không sao)" in digest
    assert "• SV3 " in digest and ": báo nhầm (báo nhầm, không sao)" in digest


async def test_a_private_detail_skips_her_closed_private_report_for_the_open_group_one(
    bot: Bot,
) -> None:
    """Lan reported a theft privately, Quân closed it; minutes later she reports a fire in the
    group and writes the injuries privately: they join the fire, the theft being closed."""
    await say(bot, "u1", "chào bot")
    await say(bot, "u2", "mất trộm 2 cuộn dây điện ở kho 5")  # SV1, in private
    await say(bot, "u1", "/xong SV1 đã tìm thấy")
    bot.clock.advance(timedelta(minutes=5))
    await say(bot, "u2", MENTION + "Báo cáo: cháy kho số 3", group=MAY)  # SV2, 14:25
    bot.clock.advance(timedelta(minutes=2))
    await say(bot, "u2", "co 2 nguoi bi bong")
    assert said(bot, "u2")[-1].startswith(
        "Đã bổ sung vào sự việc SV2 (cháy/nổ tại kho 3, chị báo trong nhóm Tổ bảo vệ May Việt "
        'lúc 14:25): "co 2 nguoi bi bong".'
    )
    assert await events(bot, 2, "detail") == ["co 2 nguoi bi bong"]
    assert await events(bot, 1, "detail") == [] and await count(bot, Incident) == 2
