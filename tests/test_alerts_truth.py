"""Issue 15, alerts that tell the truth and always reach someone: a council night and day.

Three enterprises, a council group and enterprise groups (tests/engagement_helpers.py's
council), the roster imported before anyone has written to the bot privately. Everything
goes through the real webhook, processor, jobs and sender against the local fake platform.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from models.roster import import_roster_csv
from models.tables import Incident, Outbox
from tests.conftest import Bot, text_event
from tests.engagement_helpers import COUNCIL, GROUPS, HANSOL, MAY

# 02:00 Friday 27 Nov 2026 in Hanoi (night: 22:00-06:00), then 10:00 the same day.
NIGHT = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)
DAY = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)

# The council's roster: Quân coordinates; Cường leads May Việt's guards, Phương Hansol's;
# Kim (by phone) chairs the council.
ROSTER = """member_id,name,phone,enterprise,role,groups,lead
u1,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;gmayviet;ghansol,
u2,Trần Thị Bình,0901000002,May Việt,member,gcouncil;gmayviet,
u3,Lê Văn Cường,0901000003,May Việt,member,gmayviet,x
u5,Hoàng Văn Em,0901000005,Hansol,member,gcouncil;ghansol,
u6,Đỗ Thị Phương,0901000006,Hansol,member,ghansol,x
u10,Lý Thị Kim,0901000010,Điện Quang,member,gcouncil,
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(
        db=db_url,
        groups=GROUPS,
        alerts={"ack_timeout_minutes": 10, "max_escalations": 3, "chair": "0901000010"},
    )
    b: Bot = await make_bot(settings, clock=FixedClock(NIGHT))
    async with b.sessions() as session, session.begin():
        assert (await import_roster_csv(session, ROSTER, NIGHT)).errors == []
    return b


async def say(bot: Bot, who: str, text: str, group: str | None = None) -> None:
    """`who` writes `text` in `group` (or privately to the bot), at the clock's time."""
    event = text_event(
        text, sender=who, name=NAMES[who], chat=group, group=group is not None, at=bot.clock.now()
    )
    assert (await bot.deliver(event))[0] == 200
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def coordinators_check(bot: Bot) -> tuple[str, str | None, str]:
    async with bot.http.get("/healthz") as resp:
        assert resp.status == 200  # not critical: the bot still works, alerts go to groups
        body = await resp.json()
    reason = next(c.get("reason") for c in body["checks"] if c["name"] == "coordinators")
    async with bot.http.get("/metrics") as resp:
        gauge = next(
            line
            for line in (await resp.text()).splitlines()
            if line.startswith("antt_coordinators_reachable ")
        )
    return body["status"], reason, gauge


async def incident(bot: Bot, number: int) -> Incident:
    async with bot.sessions() as s:
        row = await s.get(Incident, number)
        assert row is not None
        return row


async def test_an_intruder_at_night_reaches_the_council_group_when_no_coordinator_can(
    bot: Bot,
) -> None:
    # Nobody has written to the bot privately yet: /healthz and /metrics say so.
    status, reason, gauge = await coordinators_check(bot)
    assert status == "degraded" and reason is not None and "coordinators unreachable" in reason
    assert gauge == "antt_coordinators_reachable 0.0"

    # 02:00, May Việt's group: a stranger over the wall (suspicious, urgent at night).
    await say(bot, "u2", "Có người lạ trèo tường vào kho 2", group=MAY)
    alert = said(bot, COUNCIL)[-1]
    assert alert.startswith("🚨 KHẨN:") and "kho 2" in alert and "(SV1)" in alert
    assert "Trần Thị Bình (May Việt), SĐT 0901000002" in alert and "02:00 27/11" in alert
    assert '"nhận xử lý"' in alert and "/xuly SV1" in alert
    receipt = said(bot, MAY)[-1]
    assert (
        "Bot chưa nhắn riêng được cho điều phối viên nào nên đã báo khẩn cho nhóm "
        "Hội đồng ANTT KCN." in receipt
    )
    assert "báo ngay cho điều phối viên" not in receipt

    # Quân writes to the bot once: from now on he is reachable in private.
    await say(bot, "u1", "chào bot")
    status, reason, gauge = await coordinators_check(bot)
    assert reason is None and gauge == "antt_coordinators_reachable 1.0"
    await say(bot, "u1", "/xuly SV1")
    assert "đã nhận xử lý" in said(bot, COUNCIL)[-1]

    # 10:00 a theft in daylight is not urgent; the same at night was.
    bot.clock.set(DAY)
    await say(bot, "u5", "Mất trộm 2 cuộn dây điện ở xưởng 4", group=HANSOL)
    assert not (await incident(bot, 2)).urgent
    assert "báo khẩn" not in said(bot, HANSOL)[-1]

    # Unaccented, with someone hurt: urgent by content, straight to Quân in private.
    await say(bot, "u3", "danh nhau o xuong 3, co nguoi bi thuong", group=MAY)
    assert (await incident(bot, 3)).urgent
    assert "Lê Văn Cường (May Việt)" in said(bot, "u1")[-1]
    assert "Bot đã báo khẩn cho anh/chị Quân." in said(bot, MAY)[-1]

    # The reporter: "báo nhầm". Closed as a false alarm, escalation withdrawn, Quân told.
    await say(bot, "u3", "báo nhầm, không sao", group=MAY)
    closed = await incident(bot, 3)
    assert closed.status == "false_alarm" and closed.next_escalation_at is None
    assert said(bot, "u1")[-1] == (
        "Sự việc SV3: anh/chị Cường cho biết là báo nhầm, không cần xử lý nữa."
    )
    bot.clock.advance(timedelta(minutes=30))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 0


async def test_a_reporter_saying_it_is_fine_is_quoted_not_called_a_false_alarm(
    bot: Bot,
) -> None:
    """Bình: "Họ đã bỏ đi rồi, không sao". The alarm is off, and Quân reads her words: she did
    not say "báo nhầm", so the bot does not say she did."""
    await say(bot, "u1", "chào bot")  # Quân is reachable in private
    await say(bot, "u2", "Có người lạ trèo tường vào kho 2", group=MAY)
    assert "(SV1)" in said(bot, "u1")[-1]
    await say(bot, "u2", "Họ đã bỏ đi rồi, không sao", group=MAY)
    closed = await incident(bot, 1)
    assert closed.status == "settled" and closed.next_escalation_at is None  # it did happen
    assert said(bot, "u1")[-1] == (
        'Sự việc SV1: anh/chị Bình nhắn "Họ đã bỏ đi rồi, không sao". '
        "Bot đã đóng sự việc, không cần xử lý nữa."
    )


async def test_a_coordinator_answering_an_alert_it_is_fine_closes_it_in_his_words(
    bot: Bot,
) -> None:
    """Quân quote-replies "không sao" to the alert: he says it is fine, not that he takes it
    on. The incident closes as settled, the reporter hears so, and nobody is told he is on it.
    A question ("không sao chứ?") closes nothing: he has seen it (acknowledged)."""
    await say(bot, "u1", "chào bot")  # 02:00: a stranger at night is urgent
    await say(bot, "u2", "Có người lạ trèo tường vào kho 2", group=MAY)
    await say(bot, "u5", "Có người lạ trèo rào vào xưởng Hansol", group=HANSOL)
    first, second = [line.message_id for line in bot.store.bot_lines("u1")[-2:]]

    async def answer(text: str, quoted: str) -> None:
        event = text_event(text, sender="u1", name=NAMES["u1"], at=bot.clock.now(), quote=quoted)
        assert (await bot.deliver(event))[0] == 200
        await bot.drain()

    await answer("không sao chứ?", second)
    assert (await incident(bot, 2)).status == "acknowledged"
    await answer("không sao", first)
    closed = await incident(bot, 1)
    assert closed.status == "settled" and closed.next_escalation_at is None
    assert said(bot, "u1")[-1] == "Đã đóng sự việc SV1: đã ổn. Cảm ơn anh/chị!"
    assert said(bot, MAY)[-1] == (
        "Sự việc SV1 (đối tượng khả nghi) anh/chị báo đã đóng: anh/chị Quân cho biết đã ổn."
    )
    assert not any("tiếp nhận sự việc SV1" in line for line in said(bot, MAY))


async def test_nobody_takes_a_fire_the_enterprise_lead_then_the_chair_hear(bot: Bot) -> None:
    bot.clock.set(DAY)
    for who in ("u1", "u6", "u10"):  # each has written to the bot once
        await say(bot, who, "xin chào")
    await say(bot, "u5", "Cháy ở kho hàng Hansol, khói nhiều", group=HANSOL)
    first = said(bot, "u1")[-1]
    assert "Hoàng Văn Em (Hansol), SĐT 0901000005" in first and "Gọi 114" in first
    assert "Nếu đám cháy chưa được dập, gọi ngay 114." in said(bot, HANSOL)[-1]

    # Ten minutes and nobody took it: Hansol's security lead, then the council's chair.
    bot.clock.advance(timedelta(minutes=10))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 1
    await bot.drain()
    step1 = said(bot, "u6")[-1]
    assert step1.startswith("⏫ KHẨN (lần 1)") and "Gọi 114" in step1 and "/xuly SV1" in step1
    bot.clock.advance(timedelta(minutes=10))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 1
    await bot.drain()
    assert said(bot, "u10")[-1].startswith("⏫ KHẨN (lần 2)")

    # The chair takes it with a quote-reply: the escalation stops there.
    quoted = bot.store.bot_lines("u10")[-1].message_id
    event = text_event(
        "nhận xử lý", sender="u10", name=NAMES["u10"], at=bot.clock.now(), quote=quoted
    )
    assert (await bot.deliver(event))[0] == 200
    await bot.drain()
    taken = await incident(bot, 1)
    assert taken.status == "acknowledged" and taken.next_escalation_at is None
    async with bot.sessions() as s:
        pending = (
            (await s.execute(select(Outbox).where(Outbox.status == "pending"))).scalars().all()
        )
    assert pending == []


async def test_a_question_about_a_group_report_is_asked_where_it_can_be_answered(
    bot: Bot,
) -> None:
    bot.clock.set(DAY)
    # Em has never written to the bot privately: asked in the group, told how to answer.
    await say(bot, "u5", "co nguoi bi thuong chay mau o xuong 3", group=HANSOL)
    question = said(bot, HANSOL)[-1]
    assert question.startswith("Có phải anh/chị báo")
    assert question.endswith("bấm Trả lời vào tin này hoặc nhắn @Bot để trả lời.)")
    quoted = bot.store.bot_lines(HANSOL)[-1].message_id
    event = text_event(
        "đúng",
        sender="u5",
        name=NAMES["u5"],
        chat=HANSOL,
        group=True,
        at=bot.clock.now(),
        quote=quoted,
    )
    assert (await bot.deliver(event))[0] == 200
    await bot.drain()
    assert "Bot đã ghi nhận báo cáo số 1" in said(bot, HANSOL)[-1]

    # Bình has a private chat with the bot: the question goes there, the group stays quiet.
    await say(bot, "u2", "xin chào")
    before = len(said(bot, MAY))
    await say(bot, "u2", "co nguoi bi thuong chay mau o kho 5", group=MAY)
    assert len(said(bot, MAY)) == before
    asked = said(bot, "u2")[-1]
    assert asked.startswith("Về tin anh/chị vừa báo trong nhóm Tổ bảo vệ May Việt:\nCó phải")
    await say(bot, "u2", "đúng")
    assert "Bot đã ghi nhận báo cáo số 2" in said(bot, "u2")[-1]


async def test_a_theft_from_last_night_reported_in_the_morning_wakes_nobody(bot: Bot) -> None:
    bot.clock.set(DAY)
    await say(bot, "u2", "Đêm qua lúc 2h mất trộm 1 xe máy ở nhà xe May Việt", group=MAY)
    assert not (await incident(bot, 1)).urgent
    assert said(bot, COUNCIL) == []


def test_a_bad_night_window_names_its_key(make_settings: Any) -> None:
    with pytest.raises(Exception, match=r"alerts\.night"):
        make_settings(alerts={"night": "25:00-06:00"})


async def test_a_coordinator_asking_in_private_whether_it_is_fine_closes_nothing(
    bot: Bot,
) -> None:
    """02:00, one urgent incident waits. Quân asks the bot privately "không sao chứ?" (and
    the same without diacritics, "ko", "có sao không"): a question, so SV1 stays open and keeps
    escalating. Only a statement closes it: "không sao rồi" (settled), in his words."""
    await say(bot, "u1", "chào bot")
    await say(bot, "u2", "Có người lạ trèo tường vào kho 2", group=MAY)
    assert "(SV1)" in said(bot, "u1")[-1]
    for question in ("không sao chứ?", "khong sao chu?", "khong sao chu", "ko sao chứ"):
        await say(bot, "u1", question)
        await say(bot, "u1", "có sao không")
    # Bình, the sole reporter, asks it back in the group: a question from her closes nothing.
    await say(bot, "u2", "không sao chứ?", group=MAY)
    waiting = await incident(bot, 1)
    assert waiting.status == "reported" and waiting.next_escalation_at is not None
    assert not any("đóng" in line for line in said(bot, "u1") + said(bot, MAY))
    assert not any("SV1" in line for line in said(bot, COUNCIL)[1:])  # nobody told "closed"

    # Ten minutes on, nobody has taken it: escalation goes on as if nobody had written.
    bot.clock.advance(timedelta(minutes=10))
    assert (await bot.runtime.run_job("incident_escalation")).queued >= 1

    await say(bot, "u1", "khong sao roi")
    closed = await incident(bot, 1)
    assert closed.status == "settled" and closed.next_escalation_at is None
    assert said(bot, "u1")[-1] == "Đã đóng sự việc SV1: đã ổn. Cảm ơn anh/chị!"
    assert said(bot, MAY)[-1] == (
        "Sự việc SV1 (đối tượng khả nghi) anh/chị báo đã đóng: anh/chị Quân cho biết đã ổn."
    )


async def test_it_is_settled_in_other_words_ko_sao_roi_not_a_patrols_da_on(bot: Bot) -> None:
    """By day Quân has two urgent incidents closed by a plain statement: "ko sao rồi" (the
    short "ko" of "không") with its code, and the reporter's own "k sao" in the group; the
    reporter's patrol "ca 3 đã ổn" in between closes nothing."""
    bot.clock.set(DAY)
    await say(bot, "u1", "chào bot")
    await say(bot, "u2", "cháy ở kho 2", group=MAY)
    await say(bot, "u5", "đánh nhau ở xưởng 4, có người bị thương", group=HANSOL)
    assert (await incident(bot, 1)).urgent and (await incident(bot, 2)).urgent
    await say(bot, "u1", "SV1 ko sao rồi")
    assert (await incident(bot, 1)).status == "settled"
    await say(bot, "u5", "ko sao chứ?", group=HANSOL)
    assert (await incident(bot, 2)).status == "reported"
    await say(bot, "u5", "ca 3 đã ổn", group=HANSOL)
    assert (await incident(bot, 2)).status == "reported"
    await say(bot, "u5", "k sao, họ về rồi", group=HANSOL)
    assert (await incident(bot, 2)).status == "settled"
    assert said(bot, "u1")[-1] == (
        'Sự việc SV2: anh/chị Em nhắn "k sao, họ về rồi". Bot đã đóng sự việc, không cần xử lý nữa.'
    )


async def test_a_reporters_patrol_saying_all_is_well_closes_nothing(bot: Bot) -> None:
    """Em reported a fight at xưởng 4 this morning; at noon his rounds say "tuần tra khu B,
    không sao" and "ca 3 không sao": his check-ins, not the fight's end. Then "không sao rồi,
    họ về rồi" about the fight settles it."""
    bot.clock.set(DAY)
    await say(bot, "u5", "đánh nhau ở xưởng 4, có người bị thương", group=HANSOL)
    bot.clock.advance(timedelta(hours=2))
    await say(bot, "u5", "tuần tra khu B, không sao", group=HANSOL)
    await say(bot, "u5", "ca 3 không sao", group=HANSOL)
    assert (await incident(bot, 1)).status == "reported"
    await say(bot, "u5", "xưởng 4 không sao rồi, họ về rồi", group=HANSOL)
    assert (await incident(bot, 1)).status == "settled"


PUT_OUT = "Người báo cho biết đã dập tắt; cần kiểm tra lại hiện trường."


@pytest.mark.parametrize(
    "text",
    [
        "Phát hiện cháy nhỏ ở bãi rác sau xưởng may, đã dùng bình chữa cháy dập tắt",
        "phat hien chay nho o bai rac sau xuong may, da dung binh chua chay dap tat",
    ],
)
async def test_a_fire_already_put_out_is_alerted_without_calling_114(bot: Bot, text: str) -> None:
    """Fire stays urgent, so anh Quân hears of it at once; but chị Bình says it is out, so
    he is asked to check the place, not to call 114. Nor is May Việt's lead ten minutes on."""
    bot.clock.set(DAY)
    for who in ("u1", "u3"):  # each has written to the bot once
        await say(bot, who, "xin chào")
    await say(bot, "u2", text, group=MAY)
    first = said(bot, "u1")[-1]
    assert first.startswith("🚨 KHẨN: cháy") and PUT_OUT in first and "114" not in first
    bot.clock.advance(timedelta(minutes=10))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 1
    await bot.drain()
    step1 = said(bot, "u3")[-1]
    assert step1.startswith("⏫ KHẨN (lần 1)") and PUT_OUT in step1 and "114" not in step1


async def test_a_fire_put_out_that_another_reporter_sees_spreading_escalates_with_114(
    bot: Bot,
) -> None:
    """Chị Bình says it is out; anh Em, from Hansol next door, that it spreads. Nobody took
    it: the escalation goes back to anh Quân (May Việt's lead is not reachable) with 114."""
    bot.clock.set(DAY)
    await say(bot, "u1", "xin chào")
    await say(bot, "u2", "Cháy nhỏ ở kho 3, đã dập tắt", group=MAY)
    first = said(bot, "u1")[-1]
    assert PUT_OUT in first and "114" not in first
    await say(bot, "u5", "Cháy kho 3 May Việt, lửa đang lan sang kho bên cạnh", group=HANSOL)
    bot.clock.advance(timedelta(minutes=10))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 1
    await bot.drain()
    step1 = said(bot, "u1")[-1]
    assert step1.startswith("⏫ KHẨN (lần 1)") and "Gọi 114 nếu chưa ai gọi." in step1
    assert PUT_OUT not in step1


@pytest.mark.parametrize(
    "correction",
    [
        "chỉ là hơi nước từ van xả, không phải cháy",
        "chi la hoi nuoc tu van xa thoi, ko phai chay dau a",
        "anh ơi em kiểm tra rồi, là hơi nước từ van xả máy nén khí thôi, không phải cháy đâu ạ",
    ],
)
async def test_the_reporter_saying_it_was_no_fire_closes_it_in_his_words(
    bot: Bot, correction: str
) -> None:
    """Em reports smoke from the compressor room; three minutes later he finds it was steam.
    The fire is withdrawn (a false alarm: no 10-minute escalations to Phương and Kim), and
    Quân reads Em's own words, not an all-clear patrol recorded for Em."""
    bot.clock.set(DAY)
    await say(bot, "u1", "chào bot")
    await say(
        bot, "u5", "phát hiện khói bốc ra từ phòng máy nén khí xưởng 2, đang kiểm tra", HANSOL
    )
    assert (await incident(bot, 1)).urgent
    bot.clock.advance(timedelta(minutes=3))
    await say(bot, "u5", correction, group=HANSOL)
    closed = await incident(bot, 1)
    assert closed.status == "false_alarm" and closed.next_escalation_at is None
    assert said(bot, "u1")[-1] == (
        f'Sự việc SV1: anh/chị Em nhắn "{correction}". Bot đã đóng sự việc, không cần xử lý nữa.'
    )
    assert "Đã đánh dấu sự việc SV1 là báo nhầm" in said(bot, HANSOL)[-1]
    bot.clock.advance(timedelta(minutes=30))
    assert (await bot.runtime.run_job("incident_escalation")).queued == 0


async def test_a_patrol_saying_there_is_no_fire_closes_nothing(bot: Bot) -> None:
    """Em reported a fire at kho 2 this morning; his noon rounds "tuần tra khu B, không có
    cháy nổ" are his check-in, not a withdrawal of the fire."""
    bot.clock.set(DAY)
    await say(bot, "u5", "cháy ở kho 2", group=HANSOL)
    bot.clock.advance(timedelta(hours=2))
    await say(bot, "u5", "tuần tra khu B, không có cháy nổ", group=HANSOL)
    assert (await incident(bot, 1)).status == "reported"
