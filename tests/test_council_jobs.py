"""The council's jobs over weeks and months: chases, reminders and nudges as members live them."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from handlers.clock import FixedClock
from models.roster import import_roster_csv
from models.tables import Outbox
from tests import test_council_week
from tests.conftest import Bot
from tests.council_week_cast import GROUPS, HD, MONDAY, ROSTER, SHIFTS, VN, at
from tests.fake_zalo import TOKEN, FakeZalo
from tests.test_council_week import Week

zalo = test_council_week.zalo  # the fake Zalo server on a real port, as the week uses


def week_settings(make_settings: Any, db_url: str, zalo: FakeZalo, **engagement: Any) -> Any:
    return make_settings(
        db=db_url,
        platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN},
        groups=GROUPS,
        shifts=SHIFTS,
        engagement={"holidays": [], **engagement},
    )


async def council_week(
    make_bot: Any,
    make_settings: Any,
    db_url: str,
    zalo: FakeZalo,
    tmp_path: Path,
    **engagement: Any,
) -> Week:
    """The cast of tests/test_council_week.py on Monday 30/11/2026, with `engagement` set."""
    settings = week_settings(make_settings, db_url, zalo, **engagement)
    bot: Bot = await make_bot(settings, clock=FixedClock(at("Mon", "06:00")))
    async with bot.sessions() as s, s.begin():
        result = await import_roster_csv(s, ROSTER, MONDAY)
    assert result.errors == []
    return Week(bot, zalo, tmp_path, db_url)


async def runs_every(
    w: Week, job: str, start: datetime, end: datetime, chats: tuple[str, ...]
) -> list[tuple[datetime, str, str]]:
    """`job` every 30 minutes from `start` to `end`; what each chat received, and when."""
    got: list[tuple[datetime, str, str]] = []
    t = start
    while t <= end:
        await w.runs(job, t)
        got += [(t, chat, text) for chat in chats for text in w.received(chat)]
        t += timedelta(minutes=30)
    return got


async def test_a_friday_directive_is_chased_once_by_name_at_a_polite_hour(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    # Friday 16:30 Quân sends a directive due Monday 16:30 (72 hours). Lan acknowledges at
    # once; Hùng (police, "đồng chí") and Tuấn stay silent over the weekend.
    w = await council_week(
        make_bot, make_settings, db_url, zalo, tmp_path, directive_deadline_hours=72
    )
    for who in ("quan", "lan", "tuan", "hung"):
        await w.says(who, "có mặt", at("Mon", "07:00"))
        w.received(who)
    await w.says("quan", "/thongbao Kiểm tra hệ thống camera các cổng", at("Fri", "16:30"))
    await w.says("lan", "đã nhận", at("Fri", "17:00"))
    w.received("lan")
    got = await runs_every(
        w,
        "ack_reminders",
        at("Fri", "17:00"),
        at("Fri", "16:00") + timedelta(days=3),
        ("hung", "tuan", "lan"),
    )
    # One chase each, Friday evening before the quiet hours, naming the person as the
    # directive does, with the directive's code, words and deadline.
    assert [(t, chat) for t, chat, _ in got] == [
        (at("Fri", "20:30"), "hung"),
        (at("Fri", "20:30"), "tuan"),
    ]
    assert got[0][2] == (
        '⏰ Nhắc nhẹ: đồng chí Hùng chưa xác nhận thông báo TB1:\n"Kiểm tra hệ thống camera'
        ' các cổng"\nTrả lời /danhan 1 giúp bot nhé. Hạn: 16:30 07/12. Cảm ơn đồng chí!'
    )
    assert got[1][2].startswith("⏰ Nhắc nhẹ: anh Tuấn chưa xác nhận thông báo TB1:")
    assert got[1][2].endswith("Cảm ơn anh!")


async def test_a_long_directive_is_quoted_in_its_chase_with_an_ellipsis(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    await w.says("hung", "có mặt", at("Mon", "07:00"))
    w.received("hung")
    words = "Kiểm tra hệ thống camera, đèn chiếu sáng và bình chữa cháy tại cổng {n}. "
    directive = "".join(words.format(n=n) for n in range(1, 8)).strip()
    assert len(directive) > 300
    await w.says("quan", f"/thongbao {directive}", at("Fri", "16:30"))
    await w.runs("ack_reminders", at("Fri", "20:30"))
    (chase,) = w.received("hung")
    quoted = chase.split('"')[1]
    # Cut between words, and the "…" says there is more: never a word broken off silently.
    assert quoted.endswith("…") and len(quoted) <= 300
    assert directive.startswith(quoted[:-1]) and directive[len(quoted) - 1] in " .,;:"


async def test_task_reminders_name_the_assignee_and_stop_when_done_or_cancelled(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    for who in ("quan", "tuan", "hung"):
        await w.says(who, "có mặt", at("Mon", "07:00"))
        w.received(who)
    await w.says("quan", "/giaoviec @Hùng kiểm tra camera cổng 3 han thứ 2", at("Fri", "16:40"))
    await w.says(
        "quan", "/giaoviec @Nguyễn Văn Tuấn thay pin bộ đàm han thứ 2 8h", at("Fri", "16:45")
    )
    # Each hears of his task in his own register (Hùng is "đồng chí", Tuấn "anh").
    assert w.received("hung") == [
        "📝 Đồng chí được giao việc CV1: kiểm tra camera cổng 3, hạn 23:59 07/12/2026.\n"
        'Trả lời "nhận việc" vào tin này để báo đã nhận; làm xong trả lời "xong" (kèm ghi chú'
        " nếu có) hoặc nhắn /xong CV1. Cảm ơn đồng chí!"
    ]
    assert w.received("tuan")[0].startswith("📝 Anh được giao việc CV2: thay pin bộ đàm")
    # Tuấn's reminder falls on Sunday, a rest day: it waits for Monday 07:00, and Quân
    # cancels the task on Sunday evening.
    got = await runs_every(
        w, "task_reminders", at("Fri", "17:00"), at("Sun", "19:30"), ("hung", "tuan")
    )
    assert got == []
    await w.says("quan", "/huy CV2", at("Sun", "20:00"))
    w.received("tuan")
    monday = at("Mon", "07:00") + timedelta(days=7)
    got = await runs_every(
        w, "task_reminders", at("Sun", "20:00"), monday + timedelta(days=1), ("hung", "tuan")
    )
    # Tuấn hears of the cancellation on Monday morning, and of CV2 nothing else.
    assert [text for _t, chat, text in got if chat == "tuan"] == [
        "Việc CV2 (thay pin bộ đàm) đã được hủy. Anh Tuấn không cần làm nữa. Cảm ơn anh!"
    ]
    assert [(t, text) for t, chat, text in got if chat == "hung"] == [
        (
            monday,
            "⏰ Nhắc việc CV1: kiểm tra camera cổng 3. Hạn 23:59 07/12. Đồng chí Hùng làm xong"
            " nhắn /xong CV1 giúp bot nhé!",
        ),
        (
            monday + timedelta(days=1),
            "⚠️ Việc CV1 đã quá hạn (23:59 07/12): kiểm tra camera cổng 3. Đồng chí Hùng làm"
            " xong nhắn /xong CV1 giúp bot nhé!",
        ),
    ]
    # Done: no reminder ever again, however many runs follow.
    await w.says("hung", "/xong CV1", monday + timedelta(days=1, hours=1))
    w.received("hung")
    assert (
        await runs_every(
            w,
            "task_reminders",
            monday + timedelta(days=1, hours=2),
            monday + timedelta(days=3),
            ("hung", "tuan"),
        )
        == []
    )


async def test_nudges_speak_to_each_in_their_register(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    # A week after their last check-in, on a Monday morning: Hùng privately, Dung and Kim
    # (no private chat) in the council group, which the bot addresses as "các đồng chí".
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    for who in ("quan", "hung"):
        await w.says(who, "có mặt", at("Mon", "07:00"))
        w.received(who)
    await w.runs("nudges", at("Mon", "09:00") + timedelta(days=7))
    assert w.received("hung") == [
        'Chào đồng chí Hùng 👋 Đã 7 ngày bot chưa thấy đồng chí tương tác. Đồng chí nhắn "có'
        ' mặt" để điểm danh giúp bot nhé. Cảm ơn đồng chí! 🙏'
    ]
    assert w.received(HD) == [
        'Nhắc nhẹ: chị Dung, chị Kim lâu rồi chưa tương tác với bot. Các đồng chí nhắn "@Bot'
        ' ANTT có mặt" để điểm danh nhé. 🙏'
    ]


async def test_a_member_on_leave_is_not_nudged_until_a_week_after_it_ends(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    for who in ("hung", "lan", "tuan"):
        await w.says(who, "có mặt", at("Mon", "07:00"))
    await w.says("lan", "nghỉ phép đến 10/12", at("Tue", "08:00"))
    assert w.received("lan")[-1] == "Đã ghi nhận chị Lan nghỉ đến 10/12. Cảm ơn chị đã báo trước."
    w.received("hung")
    nudged = "bot chưa thấy"
    await w.runs("nudges", at("Tue", "09:00") + timedelta(days=7))  # 8/12: Hùng, not Lan
    assert nudged in w.received("hung")[-1]
    assert w.received("lan") == []
    await w.runs("nudges", at("Fri", "09:00") + timedelta(days=7))  # 11/12: back a day ago
    assert w.received("lan") == []
    await w.runs("nudges", at("Fri", "09:00") + timedelta(days=14))  # 18/12: a week since
    assert w.received("lan") == [
        'Chào chị Lan 👋 Đã 7 ngày bot chưa thấy chị tương tác. Chị nhắn "có mặt" để điểm'
        " danh giúp bot nhé. Cảm ơn chị! 🙏"
    ]
    # Over the year's end: leave "đến 2/1" said on 28/12 is the 2nd of January 2027.
    w.received("hung")
    await w.says("hung", "tôi nghỉ phép đến 2/1", at("Mon", "08:00") + timedelta(days=28))
    w.received("hung")
    await w.runs("nudges", datetime(2027, 1, 5, 9, tzinfo=VN))
    assert w.received("hung") == []
    await w.runs("nudges", datetime(2027, 1, 11, 9, tzinfo=VN))
    assert w.received("hung") == [
        'Chào đồng chí Hùng 👋 Đã 8 ngày bot chưa thấy đồng chí tương tác. Đồng chí nhắn "có'
        ' mặt" để điểm danh giúp bot nhé. Cảm ơn đồng chí! 🙏'
    ]


async def test_a_group_chase_held_over_sunday_names_only_who_still_owes(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    # Saturday 19:00 a directive due Tuesday; its chase falls in the quiet hours, then on
    # Sunday. Dung, who has no private chat with the bot, acknowledges in the group on Sunday.
    w = await council_week(
        make_bot, make_settings, db_url, zalo, tmp_path, directive_deadline_hours=72
    )
    await w.says("quan", "/thongbao Rà soát danh sách lao động thời vụ", at("Sat", "19:00"))
    w.received(HD)
    got = await runs_every(w, "ack_reminders", at("Sat", "19:30"), at("Sun", "09:30"), (HD,))
    assert got == []
    post = await w.message_id(HD, "THÔNG BÁO TB1")
    await w.says("dung", "đã nhận", at("Sun", "10:00"), group=HD, quote=post)
    assert w.received(HD) == ["👍 Đã ghi nhận chị Dung xác nhận thông báo TB1. Cảm ơn chị!"]
    monday = at("Mon", "07:00") + timedelta(days=7)
    got = await runs_every(w, "ack_reminders", at("Sun", "10:30"), monday, (HD,))
    [(when, _chat, chase)] = got
    assert when == monday
    assert chase.startswith("⏰ Thông báo TB1 còn ") and "chị Kim" in chase
    assert "Dung" not in chase


async def test_a_member_who_joined_after_a_directive_is_not_chased_for_it(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    # Giang (May Việt, fire-safety cluster only) joins the council group on Tuesday, after
    # a directive to that group; he has a private chat with the bot.
    w = await council_week(
        make_bot, make_settings, db_url, zalo, tmp_path, directive_deadline_hours=72
    )
    await w.says("giang", "có mặt", at("Mon", "07:00"))
    await w.says("quan", "/thongbao [Hội đồng ANTT KCN] Kiểm tra sổ giao ca", at("Mon", "08:00"))
    joined = ROSTER.replace("May Việt,member,g-pccc,anh,", "May Việt,member,g-pccc;g-hoidong,anh,")
    async with w.bot.sessions() as s, s.begin():
        assert (await import_roster_csv(s, joined, at("Tue", "07:00"))).errors == []
    w.received("giang")
    got = await runs_every(
        w, "ack_reminders", at("Mon", "12:00"), at("Thu", "09:00"), ("giang", HD)
    )
    assert got and not any("Giang" in text or chat == "giang" for _t, chat, text in got)


async def test_two_instances_chase_and_remind_once(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    other = await make_bot(week_settings(make_settings, db_url, zalo), clock=FixedClock(MONDAY))
    for who in ("quan", "hung"):
        await w.says(who, "có mặt", at("Mon", "07:00"))
    await w.says("quan", "/thongbao Kiểm tra đèn chiếu sáng hàng rào", at("Mon", "08:00"))
    await w.says("quan", "/giaoviec @Hùng thay bóng đèn cổng 2 han mai 17h", at("Mon", "08:05"))
    w.received("hung")
    for when in (at("Mon", "12:30"), at("Tue", "09:00"), at("Tue", "18:00")):
        for bot in (w.bot, other):
            bot.clock.set(when)
        await asyncio.gather(
            *(
                b.runtime.run_job(j)
                for b in (w.bot, other)
                for j in ("ack_reminders", "task_reminders")
            )
        )
        await asyncio.gather(w.bot.drain(), other.drain())
    got = w.received("hung")
    starts = ("⏰ Nhắc nhẹ: đồng chí Hùng", "⏰ Nhắc việc CV1:", "⚠️ Việc CV1 đã quá hạn")
    assert len(got) == 3 and all(t.startswith(p) for t, p in zip(got, starts, strict=True))


async def test_tet_holidays_do_not_count_as_days_of_silence(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    # Hùng last wrote on Wednesday 3/2/2027, the eve of Tết (public holidays 4/2 to 10/2).
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    await w.says("hung", "có mặt", datetime(2027, 2, 3, 8, tzinfo=VN))
    w.received("hung")
    # The first working morning after Tết: eight days, seven of them the holiday. No nudge.
    await w.runs("nudges", datetime(2027, 2, 11, 7, tzinfo=VN))
    assert w.received("hung") == []
    # A week of work later he is still silent: now he is.
    await w.runs("nudges", datetime(2027, 2, 18, 9, tzinfo=VN))
    assert w.received("hung") == [
        'Chào đồng chí Hùng 👋 Đã 8 ngày bot chưa thấy đồng chí tương tác. Đồng chí nhắn "có'
        ' mặt" để điểm danh giúp bot nhé. Cảm ơn đồng chí! 🙏'
    ]


async def test_a_group_nudge_held_by_zalo_is_withdrawn_when_one_it_names_is_back(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    # Monday 09:00 a week on, Zalo answers the nudges "429, try again in 10 minutes": the
    # council group's nudge naming Dung and Kim waits, and so does Hùng's. Dung checks in at
    # 09:05; at 09:11 the group must not read that she has been quiet for long.
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    for who in ("quan", "hung"):
        await w.says(who, "có mặt", at("Mon", "07:00"))
    w.received("hung")
    zalo.script += [(429, {"ok": False, "error_code": 429}, {"Retry-After": "600"})] * 2
    await w.runs("nudges", at("Mon", "09:00") + timedelta(days=7))
    w.received(HD), w.received("hung")  # the attempts Zalo refused
    await w.says("dung", "co mat", at("Mon", "09:05") + timedelta(days=7), group=HD)
    await w.wakes(at("Mon", "09:11") + timedelta(days=7))
    assert w.received(HD) == ["✅ Đã ghi nhận chị Dung có mặt lúc 09:05. Cảm ơn chị!"]
    assert "Đã 7 ngày" in w.received("hung")[0]  # a private nudge to someone still quiet
    async with w.bot.sessions() as s:
        nudge = (await s.execute(select(Outbox).where(Outbox.kind == "nudge"))).scalars()
        assert [(o.chat_id, o.status) for o in nudge if o.chat_id == HD] == [(HD, "cancelled")]


async def test_nudges_are_not_held_for_next_month_nor_sent_days_late(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    # A month's budget nearly spent: the nudges are withdrawn, not sent on the 1st, when
    # "Đã 7 ngày" would be untrue and some named would be back. The next week's run nudges
    # whoever is still quiet, with the days counted then.
    w = await council_week(
        make_bot, make_settings, db_url, zalo, tmp_path, monthly_message_budget=2
    )
    for who in ("quan", "hung"):
        await w.says(who, "có mặt", at("Tue", "07:00"))  # December's budget
    w.received("hung")
    await w.runs("nudges", at("Tue", "09:00") + timedelta(days=7))
    assert w.received("hung") == [] and w.received(HD) == []
    await w.wakes(datetime(2027, 1, 4, 7, tzinfo=VN))  # the new month's first workday
    assert w.received("hung") == [] and w.received(HD) == []
    async with w.bot.sessions() as s:
        nudges = (await s.execute(select(Outbox).where(Outbox.kind == "nudge"))).scalars().all()
    assert nudges and {o.status for o in nudges} == {"cancelled"}
    assert {o.last_error for o in nudges} == {"withdrawn: monthly message budget low"}


async def test_who_is_quiet_leaves_out_declared_leave_and_holidays_as_nudges_do(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """/chuahoatdong agrees with the nudges: Lan, on leave until 10/12, is shown on leave,
    not quiet; Hùng, silent over Tết only, is not quiet on the first morning after it."""
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path)
    for who in ("quan", "hung", "lan", "tuan"):
        await w.says(who, "có mặt", at("Mon", "07:00"))
    await w.says("lan", "nghỉ phép đến 10/12", at("Tue", "08:00"))
    w.received("quan")
    await w.says("quan", "/chuahoatdong", at("Wed", "09:00") + timedelta(days=7))  # 9/12
    (answer,) = w.received("quan")
    quiet, _, away = answer.partition("\n\n")
    assert "đồng chí Hùng (Công an KCN)" in quiet and "chị Lan" not in quiet
    assert away == "🏖 Đang nghỉ phép (1 người):\n• chị Lan (May Việt) · đến 10/12"
    # The weekly digest of 7-13/12 says the same to the coordinators.
    await w.runs("weekly_digest", at("Mon", "08:05") + timedelta(days=14))
    digest = "\n".join(w.received("quan"))
    quiet_line = next(line for line in digest.splitlines() if line.startswith("💤"))
    assert "Hùng" in quiet_line and "Lan" not in quiet_line
    assert "🏖 Nghỉ phép (1): Lê Thị Lan (May Việt) đến 10/12" in digest.splitlines()

    for who in ("quan", "hung", "lan", "tuan"):
        await w.says(who, "có mặt", datetime(2027, 2, 3, 8, tzinfo=VN))  # the eve of Tết
    w.received("quan")
    await w.says("quan", "/chuahoatdong", datetime(2027, 2, 11, 8, tzinfo=VN))
    (answer,) = w.received("quan")
    # Ten silent since before Tết, less chị Hà and đồng chí Đức, who run the council.
    assert answer.startswith("💤 Chưa hoạt động trong 7 ngày qua (8 người):")
    assert "đồng chí Hùng" not in answer and "chị Lan" not in answer
    assert "anh Tuấn (May Việt)" not in answer and "lần cuối: 03/02" not in answer


async def test_an_overdue_task_is_chased_once_more_then_its_assigner_is_told_by_name(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> None:
    """Anh Quân gives đồng chí Hùng and chị Lan a task each, due Tuesday 17:00. Hùng hears of
    it when it is overdue, once more on Wednesday morning, and on the next working day
    (Thursday 3/12 is a holiday: Friday) anh Quân is told by name. Lan is on leave until
    4/12: she is not chased, anh Quân hears so at once; back on Saturday, she is reminded
    then and on Monday (Sunday is a rest day), and anh Quân is told on Tuesday. Every notice
    goes at a polite hour (07:00 at the earliest)."""
    w = await council_week(make_bot, make_settings, db_url, zalo, tmp_path, holidays=["2026-12-03"])
    for who in ("quan", "hung", "lan"):
        await w.says(who, "có mặt", at("Mon", "07:00"))
    await w.says("quan", "/giaoviec @Hùng kiểm tra camera cổng 3 han thứ 3 17h", at("Mon", "08:00"))
    await w.says(
        "quan", "/giaoviec @Lan rà soát bình chữa cháy kho 2 han thứ 3 17h", at("Mon", "08:05")
    )
    await w.says("lan", "em nghỉ phép đến 4/12 ạ", at("Mon", "09:00"))
    for who in ("quan", "hung", "lan"):
        w.received(who)
    start, end = at("Mon", "09:30"), at("Tue", "12:00") + timedelta(days=7)
    got = await runs_every(w, "task_reminders", start, end, ("quan", "hung", "lan"))
    hung_late = (
        "⚠️ Việc CV1 đã quá hạn (17:00 01/12): kiểm tra camera cổng 3. Đồng chí Hùng làm xong"
        " nhắn /xong CV1 giúp bot nhé!"
    )
    lan_late = (
        "⚠️ Việc CV2 đã quá hạn (17:00 01/12): rà soát bình chữa cháy kho 2. Chị Lan làm xong"
        " nhắn /xong CV2 giúp bot nhé!"
    )
    assert got == [
        # Given 33 hours ahead, reminded halfway (00:30, quiet hours: at 07:00 on the day);
        # Lan, on leave, is not.
        (at("Tue", "07:00"), "hung", (
            "⏰ Nhắc việc CV1: kiểm tra camera cổng 3. Hạn 17:00 01/12. Đồng chí Hùng làm xong"
            " nhắn /xong CV1 giúp bot nhé!"
        )),
        (at("Tue", "17:00"), "quan", (
            "⚠️ Việc CV2 giao cho chị Lê Thị Lan đã quá hạn từ 17:00 01/12: rà soát bình chữa"
            " cháy kho 2. Chị Lan đang nghỉ phép đến 04/12 nên bot không nhắc; anh cân nhắc"
            " giao lại cho người khác."
        )),
        (at("Tue", "17:00"), "hung", hung_late),
        (at("Wed", "07:00"), "hung", (
            "⏰ Nhắc lại: việc CV1 đã quá hạn từ 17:00 01/12: kiểm tra camera cổng 3. Đồng chí"
            " Hùng làm xong nhắn /xong CV1 giúp bot nhé. Nếu việc vẫn chưa xong, ngày làm việc"
            " tới bot sẽ báo anh Quân."
        )),
        (at("Fri", "07:00"), "quan", (
            "⚠️ Việc CV1 giao cho đồng chí Trần Văn Hùng đã quá hạn từ 17:00 01/12: kiểm tra"
            " camera cổng 3. Bot đã nhắc đồng chí Hùng nhưng chưa thấy báo xong; anh liên hệ"
            " trực tiếp giúp nhé."
        )),
        (at("Sat", "07:00"), "lan", lan_late),
        (at("Mon", "07:00") + timedelta(days=7), "lan", (
            "⏰ Nhắc lại: việc CV2 đã quá hạn từ 17:00 01/12: rà soát bình chữa cháy kho 2. Chị"
            " Lan làm xong nhắn /xong CV2 giúp bot nhé. Nếu việc vẫn chưa xong, ngày làm việc"
            " tới bot sẽ báo anh Quân."
        )),
        (at("Tue", "07:00") + timedelta(days=7), "quan", (
            "⚠️ Việc CV2 giao cho chị Lê Thị Lan đã quá hạn từ 17:00 01/12: rà soát bình chữa"
            " cháy kho 2. Bot đã nhắc chị Lan nhưng chưa thấy báo xong; anh liên hệ trực tiếp"
            " giúp nhé."
        )),
    ]  # fmt: skip
    # Once done, nobody hears of it again, however many runs follow.
    await w.says("hung", "/xong CV1 đã thay camera", at("Tue", "12:30") + timedelta(days=7))
    await w.says("lan", "/xong CV2", at("Tue", "12:35") + timedelta(days=7))
    for who in ("quan", "hung", "lan"):
        w.received(who)
    later = at("Tue", "13:00") + timedelta(days=7)
    assert (
        await runs_every(
            w, "task_reminders", later, later + timedelta(days=3), ("quan", "hung", "lan")
        )
        == []
    )
