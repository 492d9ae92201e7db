"""The coordinators' daily summary and rest days, as a council week lives them: one morning
message per coordinator instead of a reminder per item, nothing on Sunday, inspections and
drills recorded as "noted" and never open."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from handlers.config import ConfigError, load_settings
from models.roster import import_roster_csv
from models.tables import Incident, Member, Outbox
from tests.conftest import Bot
from tests.engagement_helpers import GROUPS, NAMES, import_roster, said, say

VN = ZoneInfo("Asia/Ho_Chi_Minh")
QUAN, BINH, CUONG, DUNG = "u1", "u2", "u3", "u4"  # Quân coordinates the council


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11 if day > 20 else 12, day, hh, mm, tzinfo=VN)


MON = at(30, 8)  # Monday 30 November 2026


@pytest.fixture
async def council(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    bot: Bot = await make_bot(make_settings(db=db_url, groups=GROUPS), clock=FixedClock(MON))
    await import_roster(bot, MON)
    return bot


async def run(bot: Bot, job: str, when: datetime) -> int:
    bot.clock.set(when)
    outcome = await bot.runtime.run_job(job)
    await bot.drain()
    return outcome.queued


async def a_busy_monday(bot: Bot) -> None:
    """A theft, a drill, a question, a task due tonight and a directive to May Việt."""
    for member in (QUAN, BINH, CUONG):
        await say(bot, member, "có mặt")  # private chats with the bot
    await say(bot, BINH, "Mất trộm xe máy ở cổng 3 cty May Việt")
    await say(bot, CUONG, "Diễn tập PCCC tại xưởng 2 sáng nay, đã hoàn thành")
    bot.clock.set(at(30, 9))
    await say(bot, CUONG, "Xin hỏi mẫu sổ trực ban mới lấy ở đâu ạ?")
    await say(bot, QUAN, "/giaoviec @Cường kiểm tra camera cổng 2 han 30/11 17h")
    await say(bot, QUAN, "/thongbao Từ mai kiểm tra thẻ công nhân ra vào cổng")


async def test_one_morning_summary_instead_of_a_reminder_per_item(council: Bot) -> None:
    await a_busy_monday(council)
    async with council.sessions() as s:
        statuses = dict((await s.execute(select(Incident.category, Incident.status))).all())
    assert statuses == {"theft": "reported", "inspection": "noted"}
    await say(council, QUAN, "/xong SV2")  # a drill never needs closing
    assert said(council, QUAN)[-1] == "Sự việc SV2 đã đóng (đã ghi nhận, không cần xử lý)."
    before = len(said(council, QUAN))

    # Tuesday: the per-item jobs no longer write to the coordinator ...
    assert await run(council, "task_reminders", at(1, 7, 0)) == 1  # Cường, who owes the task
    assert "quá hạn" in said(council, CUONG)[-1]
    await run(council, "incident_reminders", at(1, 8, 30))
    assert len(said(council, QUAN)) == before
    # ... the summary does, once, at 07:30.
    assert await run(council, "daily_summary", at(1, 7, 15)) == 0  # not yet
    assert await run(council, "daily_summary", at(1, 7, 30)) == 1
    assert await run(council, "daily_summary", at(1, 9, 0)) == 0  # once a day
    [summary] = said(council, QUAN)[before:]
    assert summary.startswith("Chào anh/chị Quân, việc cần theo dõi hôm nay (thứ Ba 01/12):")
    assert (
        "🚨 Sự việc đang mở (1):\n• SV1 trộm cắp ở cổng 3, Cty May Việt: chờ người nhận, mở hôm qua"
        in summary
    )
    assert "SV2" not in summary  # the drill is noted, not open
    assert (
        "❓ Câu hỏi chưa trả lời (1):\n• YC1 anh/chị Cường (May Việt), hỏi hôm qua: “Xin hỏi mẫu"
        in summary
    )
    assert "⏰ Việc quá hạn (1):\n• CV1 anh/chị Cường: kiểm tra camera cổng 2, quá hạn 1 ngày" in (
        summary
    )
    assert (
        "📢 Thông báo còn thiếu xác nhận (1):\n• TB1" in summary
        and "0/9 đã xác nhận, hạn 09:00 01/12" in summary
    )
    assert "giờ" not in summary.replace("theo dõi", "")  # days, not hours


async def test_sunday_is_a_rest_day_and_monday_catches_up(council: Bot) -> None:
    await a_busy_monday(council)
    await say(council, QUAN, "/traloi YC1 Ở phòng hành chính BQL")
    await say(council, QUAN, "/xuly SV1")
    watched = (QUAN, CUONG, DUNG)
    before = {m: len(said(council, m)) for m in watched}
    # Sunday 13/12: Dung has been quiet for two weeks and Cường's task is overdue, yet
    # nothing non-urgent goes out; what was planned waits for Monday morning.
    sunday = at(13, 7, 30)
    for job in ("daily_summary", "nudges", "task_reminders"):
        await run(council, job, sunday)
    assert await run(council, "nudges", at(13, 10)) == 0
    await run(council, "daily_summary", at(13, 10))
    assert {m: len(said(council, m)) for m in watched} == before
    async with council.sessions() as s:
        held = list((await s.execute(select(Outbox).where(Outbox.status == "pending"))).scalars())
    assert held and all(row.next_attempt_at == at(14, 7) for row in held)

    assert await run(council, "nudges", at(14, 7, 30)) > 0  # Monday: the nudges are due
    # The overdue notice held since Sunday went out at 07:00 (before the nudge).
    assert any("CV1 đã quá hạn" in t for t in said(council, CUONG)[before[CUONG] :])
    await run(council, "daily_summary", at(14, 7, 30))
    summary = said(council, QUAN)[-1]
    assert "SV1 trộm cắp ở cổng 3, Cty May Việt: anh/chị Quân đang xử lý, đã mở 14 ngày" in summary
    assert "Câu hỏi chưa trả lời" not in summary  # answered on Monday


async def test_nothing_to_say_sends_nothing_and_rest_days_are_configurable(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    settings = make_settings(db=db_url, groups=GROUPS, engagement={"rest_days": []})
    bot: Bot = await make_bot(settings, clock=FixedClock(MON))
    await import_roster(bot, MON)
    await say(bot, QUAN, "có mặt")
    assert await run(bot, "daily_summary", at(6, 7, 30)) == 0  # Sunday, but all is in order
    assert said(bot, QUAN) == [said(bot, QUAN)[0]]
    await say(bot, DUNG, "Kiểm tra an ninh cty May Việt, không có gì bất thường")
    await say(bot, BINH, "Phát hiện đối tượng lạ trèo rào ở cổng 3")
    assert await run(bot, "daily_summary", at(7, 7, 30)) == 1
    assert "SV1 đối tượng khả nghi ở cổng 3" in said(bot, QUAN)[-1]
    assert "Kiểm tra" not in said(bot, QUAN)[-1]


def test_summary_and_request_settings_have_their_defaults_and_are_checked() -> None:
    s = load_settings(None, environ={})
    assert s.reminders.summary_time == "07:30"
    assert s.requests.remind_after_hours == 4
    assert s.engagement.rest_days == ("sun",)
    for key, value, name in (
        ("engagement", {"rest_days": ["sunday"]}, "engagement.rest_days"),
        ("reminders", {"summary_time": "7h30"}, "reminders.summary_time"),
        ("requests", {"remind_after_hours": -1}, "requests.remind_after_hours"),
    ):
        with pytest.raises(ConfigError, match=name.replace(".", r"\.")):
            load_settings(None, environ={}, overrides={key: value})
    env = {"ANTT_ENGAGEMENT__REST_DAYS": "[sat, sun]", "ANTT_REMINDERS__SUMMARY_TIME": "06:45"}
    s = load_settings(None, environ=env)
    assert s.engagement.rest_days == ("sat", "sun") and s.reminders.summary_time == "06:45"


async def test_a_summary_caught_up_late_speaks_of_its_own_day_or_not_at_all(
    council: Bot,
) -> None:
    """The bot was down all day and restarts at 21:15: the summary still goes out, about
    Monday. Held by the sender past 21:30 (a backlog), it would reach Quân on Tuesday
    morning saying "hôm nay (thứ Hai 30/11)": it is withdrawn, and Tuesday's own summary
    goes out at 07:30."""
    await a_busy_monday(council)
    before = len(said(council, QUAN))
    await run(council, "daily_summary", at(30, 21, 15))
    (late,) = said(council, QUAN)[before:]
    assert late.startswith("Chào anh/chị Quân, việc cần theo dõi hôm nay (thứ Hai 30/11):")

    council.clock.set(at(1, 21, 15))  # Tuesday the same, but the sender lags half an hour
    assert (await council.runtime.run_job("daily_summary")).queued > 0
    await run(council, "task_reminders", at(1, 21, 45))  # the sender works again at 21:45
    await run(council, "task_reminders", at(2, 7))
    assert not any("(thứ Ba 01/12)" in text for text in said(council, QUAN)[before:])
    async with council.sessions() as s:
        rows = (await s.execute(select(Outbox).where(Outbox.ref_type == "summary"))).scalars()
        held = [row for row in rows if "thứ Ba 01/12" in row.text]
    assert [row.status for row in held] == ["cancelled"]
    await run(council, "daily_summary", at(2, 7, 30))
    assert said(council, QUAN)[-1].startswith(
        "Chào anh/chị Quân, việc cần theo dõi hôm nay (thứ Tư 02/12):"
    )


@pytest.mark.parametrize("ask", ["/tonghop", "hom nay tinh hinh the nao", "Tình hình sao rồi?"])
async def test_a_coordinator_asks_at_noon_what_needs_following_up(council: Bot, ask: str) -> None:
    """Monday 15:00, busy since the morning: anh Quân asks the bot, as he would a deputy, and
    gets what tomorrow's summary would say; with all in order, he hears so."""
    await say(council, QUAN, ask)
    assert said(council, QUAN)[-1] == (
        "Hôm nay (thứ Hai 30/11) chưa có việc cần theo dõi: không có sự việc đang mở, câu hỏi"
        " chờ trả lời, việc quá hạn hay thông báo còn thiếu xác nhận."
    )
    await a_busy_monday(council)
    council.clock.set(at(30, 15))
    await say(council, QUAN, ask)
    answer = said(council, QUAN)[-1]
    assert answer.startswith("Việc cần theo dõi hôm nay (thứ Hai 30/11):\n🚨 Sự việc đang mở (1):")
    assert "❓ Câu hỏi chưa trả lời (1):" in answer and "📢 Thông báo còn thiếu xác nhận" in answer


async def test_a_member_asking_how_things_stand_is_no_summary(council: Bot) -> None:
    await say(council, BINH, "/tonghop")
    assert (
        said(council, BINH)[-1]
        == "Lệnh /tonghop dành cho điều phối viên. Cảm ơn anh/chị đã quan tâm!"
    )
    await say(council, BINH, "hom nay tinh hinh the nao")
    assert "Việc cần theo dõi" not in said(council, BINH)[-1]


ASKS = [
    "tình hình hôm nay",
    "tinh hinh hom nay the nao",
    "hôm nay có gì không",
    "hom nay co gi khong",
]


@pytest.mark.parametrize("ask", ASKS)
async def test_a_coordinator_asks_minutes_after_his_own_report(council: Bot, ask: str) -> None:
    """Anh Quân reports a theft himself, then minutes later asks how the day stands: he gets
    the day's summary, and his question is not added to his report (before: a detail of SV1)."""
    await a_busy_monday(council)
    council.clock.set(at(30, 10))
    await say(council, QUAN, "Phát hiện đối tượng lạ trèo rào lô C2")
    council.clock.set(at(30, 10, 3))
    await say(council, QUAN, ask)
    answer = said(council, QUAN)[-1]
    assert answer.startswith("Việc cần theo dõi hôm nay (thứ Hai 30/11):"), answer
    assert not any("Đã bổ sung" in line for line in said(council, QUAN))


POLICE = """member_id,name,phone,enterprise,role,groups,title
u11,Phạm Văn Hùng,0901000011,Công an KCN,member,gcouncil,đồng chí
"""


@pytest.mark.parametrize("ask", [*ASKS, "/tonghop"])
async def test_the_police_of_the_council_get_the_summary(
    council: Bot, ask: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Đồng chí Hùng of the park's police is a member on the roster, yet the council's
    leadership: asking how the day stands, he gets the summary a coordinator gets."""
    async with council.sessions() as s, s.begin():
        assert (await import_roster_csv(s, POLICE, MON)).created == 1
    monkeypatch.setitem(NAMES, "u11", "Phạm Văn Hùng")
    await a_busy_monday(council)
    await say(council, "u11", ask)
    assert said(council, "u11")[-1].startswith("Việc cần theo dõi hôm nay (thứ Hai 30/11):")


@pytest.mark.parametrize("ask", ["tình hình hôm nay thế nào", "tinh hinh hom nay the nao"])
async def test_asked_in_the_council_group_the_summary_goes_privately(
    council: Bot, ask: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Đồng chí Hùng asks in the council's group: the summary names people who are behind, so
    it reaches him privately and the group hears only that; no question goes to anh Quân."""
    async with council.sessions() as s, s.begin():
        assert (await import_roster_csv(s, POLICE, MON)).created == 1
    monkeypatch.setitem(NAMES, "u11", "Phạm Văn Hùng")
    await a_busy_monday(council)
    await say(council, "u11", "có mặt")  # his private chat with the bot
    quan = len(said(council, QUAN))
    await say(council, "u11", ask, chat="gcouncil")
    assert said(council, "gcouncil")[-1] == "Bot đã nhắn riêng cho đồng chí ạ."
    assert said(council, "u11")[-1].startswith("Việc cần theo dõi hôm nay (thứ Hai 30/11):")
    assert len(said(council, QUAN)) == quan  # not passed on as a question


async def test_in_a_group_without_a_private_chat_he_is_asked_to_write_privately(
    council: Bot,
) -> None:
    await a_busy_monday(council)
    async with council.sessions() as s, s.begin():
        quan = (await s.execute(select(Member).where(Member.member_id == QUAN))).scalar_one()
        quan.private_chat_id = None
    await say(council, QUAN, "hôm nay có gì không", chat="gcouncil")
    assert said(council, "gcouncil")[-1] == (
        "Anh/chị nhắn riêng cho bot “tình hình hôm nay” để xem nhé (tin này nêu tên người)."
    )
