"""A council's week, Monday 30/11 to Sunday 6/12/2026, as the bot lives it (issue 15).

Fourteen people (tests/council_week_cast.py) write to the bot as they really type: with and
without diacritics, with typos, privately and in the groups, quoting the bot's messages.
Everything goes through the real webhook, processor and sender to a fake Zalo server on a
real port, on a real database, with a movable clock. After each scene we check what each
person received and what the records say. A coordinator can read this file as the story of
what the bot does in a week.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli import main
from handlers.clock import FixedClock
from models.roster import import_roster_csv
from models.tables import Ack, BotMessage, Incident, Outbox
from tests.conftest import Bot, text_event
from tests.council_week_cast import GROUPS, HD, MONDAY, NAMES, PCCC, ROSTER, SHIFTS, at
from tests.fake_zalo import TOKEN, FakeZalo


class Week:
    """The bot, the fake Zalo and the clock; people write, jobs run, we read what was sent."""

    names: dict[str, str] = NAMES  # member id -> display name (another cast: a subclass)

    def __init__(self, bot: Bot, zalo: FakeZalo, tmp_path: Path, db_url: str) -> None:
        self.bot, self.zalo, self.tmp_path, self.db_url = bot, zalo, tmp_path, db_url
        self.seen: dict[str, int] = {}

    async def says(
        self, who: str, text: str, when: datetime, *, group: str | None = None, quote: str = ""
    ) -> None:
        """`who` writes `text` at `when`, privately or in `group` (there, to @Bot ANTT)."""
        self.bot.clock.set(when)
        if group and not quote:
            text = f"@Bot ANTT {text}"
        event = text_event(
            text,
            sender=who,
            name=self.names[who],
            chat=group,
            group=group is not None,
            at=when,
            quote=quote or None,
        )
        assert (await self.bot.deliver(event))[0] == 200
        await self.bot.drain()

    async def runs(self, job: str, when: datetime) -> int:
        """A scheduled job at `when` (the scheduler would run it; here the clock is ours)."""
        self.bot.clock.set(when)
        outcome = await self.bot.runtime.run_job(job)
        await self.bot.drain()
        return outcome.queued

    async def wakes(self, when: datetime) -> None:
        """Time passes to `when`; whatever was waiting for it is sent."""
        self.bot.clock.set(when)
        await self.bot.drain()

    def received(self, chat: str) -> list[str]:
        """What the bot sent to `chat` (a person's private chat or a group) since last asked."""
        texts = [b["text"] for b in self.zalo.sent() if b["chat_id"] == chat]
        new = texts[self.seen.get(chat, 0) :]
        self.seen[chat] = len(texts)
        return new

    def last(self, chat: str) -> str:
        texts = [b["text"] for b in self.zalo.sent() if b["chat_id"] == chat]
        return texts[-1] if texts else ""

    async def message_id(self, chat: str, fragment: str) -> str:
        """The Zalo id of the bot's latest message in `chat` containing `fragment` (to quote)."""
        async with self.bot.sessions() as s:
            rows = await s.execute(
                select(BotMessage.message_id, Outbox.text)
                .join(Outbox, Outbox.id == BotMessage.outbox_pk)
                .where(BotMessage.chat_id == chat)
                .order_by(BotMessage.id.desc())
            )
            return next(mid for mid, text in rows.all() if fragment in (text or ""))

    async def export(self, kind: str) -> list[dict[str, Any]]:
        """`antt-bot export KIND` through the real CLI, as JSON lines."""
        config = self.tmp_path / "week.yaml"
        config.write_text(f"database:\n  url: {self.db_url}\n", encoding="utf-8")
        out = self.tmp_path / f"{kind}.jsonl"
        argv = ["export", kind, "-c", str(config), "-o", str(out)]
        assert await asyncio.to_thread(main, argv) == 0
        return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]

    async def incidents(self) -> dict[int, tuple[str | None, str, bool]]:
        """SV number -> (category, status, urgent)."""
        async with self.bot.sessions() as s:
            rows = await s.execute(
                select(Incident.id, Incident.category, Incident.status, Incident.urgent)
            )
            return {i: (c, st, u) for i, c, st, u in rows.all()}


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    fake = await FakeZalo().start()
    yield fake
    await fake.close()


@pytest.fixture
async def week(
    make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo, tmp_path: Path
) -> Week:
    settings = make_settings(
        db=db_url,
        platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN},
        groups=GROUPS,
        shifts=SHIFTS,
        alerts={"escalation_chain": ["hung"]},
    )
    bot: Bot = await make_bot(settings, clock=FixedClock(at("Mon", "06:00")))
    async with bot.sessions() as s, s.begin():
        result = await import_roster_csv(s, ROSTER, MONDAY)
    assert result.errors == [] and result.created == 14
    return Week(bot, zalo, tmp_path, db_url)


async def test_a_council_week(week: Week) -> None:
    # ------------------------------------------------------------------ Monday 30/11
    # The morning shift checks in. Most write to the bot privately for the first time, which
    # is what lets the bot write back to them privately (Zalo allows nothing before).
    await week.says("quan", "chào bot", at("Mon", "06:50"))
    await week.says("lan", "co mat", at("Mon", "06:55"))
    assert week.received("lan") == ["✅ Đã ghi nhận chị Lan có mặt lúc 06:55. Cảm ơn chị!"]
    for who in ("tuan", "tuan2", "phuong", "hoa", "inh", "kim", "hung", "giang"):
        await week.says(who, "Có mặt", at("Mon", "07:00"))
    assert "anh Tuấn có mặt" in week.received("tuan2")[0]
    assert "đồng chí Hùng có mặt" in week.received("hung")[0]

    # Em (Hansol, shift 07:00-19:00) checks in three times in one shift: recorded once, and
    # told the later times that it is (14:30 would start a new shift under the fixed hours,
    # not at Hansol).
    await week.says("em", "có mặt ạ", at("Mon", "07:10"))
    await week.says("em", "co mat", at("Mon", "13:50"))
    await week.says("em", "Có mặtt", at("Mon", "14:30"))
    again = "Bot đã ghi nhận anh/chị Em có mặt lúc 07:10 rồi. Cảm ơn anh/chị!"
    assert week.received("em") == [
        "✅ Đã ghi nhận anh/chị Em có mặt lúc 07:10. Cảm ơn anh/chị!",
        again,
        again,
    ]
    # Inh starts the night shift at Điện Quang (fixed hours: 22-06), twice.
    await week.says("inh", "Đã vào ca 3", at("Mon", "22:05"))
    await week.says("inh", "vao ca roi", at("Mon", "23:40"))
    inh = week.received("inh")
    assert inh[-2].startswith("✅ Đã ghi nhận anh Inh vào ca lúc 22:05")
    assert inh[-1].startswith("Bot đã ghi nhận anh Inh vào ca lúc 22:05 rồi")
    assert week.received("inh") == []

    # 08:00 Quân sends a directive to both groups: the council is spoken to formally.
    await week.says(
        "quan",
        "/thongbao Kiểm tra hệ thống báo cháy tại các xưởng trước thứ Tư",
        at("Mon", "08:00"),
    )
    [post] = week.received(HD)
    assert post.startswith("📢 THÔNG BÁO TB1\nKiểm tra hệ thống báo cháy")
    assert "Đề nghị các đồng chí bấm Trả lời tin này" in post
    assert "Hạn xác nhận: 08:00 01/12" in post
    assert "Đề nghị các đồng chí" in week.received(PCCC)[0]
    # Members of the two groups owe it; not Quân (the author), Hà, Đức (coordinators).
    assert "Cần 11 người xác nhận" in week.received("quan")[-1]

    # Lan answers by quoting the post in the council group, Tuấn privately without accents,
    # Hà (admin) out of politeness: she owes nothing and nothing is recorded for her.
    tb1_in_hd = await week.message_id(HD, "THÔNG BÁO TB1")
    await week.says("lan", "đã nhận", at("Mon", "08:20"), group=HD, quote=tb1_in_hd)
    assert week.received(HD) == ["👍 Đã ghi nhận chị Lan xác nhận thông báo TB1. Cảm ơn chị!"]
    await week.says("tuan", "dã nhận ạ", at("Mon", "08:40"))  # "dã": a typo
    assert "anh Tuấn xác nhận thông báo TB1" in week.received("tuan")[-1]
    # Đức (police, coordinator) quotes the post in the group: coordinators owe nothing,
    # so nothing is recorded for him either.
    await week.says("duc", "Đã nhận", at("Mon", "08:50"), group=HD, quote=tb1_in_hd)
    assert week.received(HD) == []
    await week.says("ha", "Đã nhận", at("Mon", "09:00"))
    assert week.received("ha") == ["Hiện không có thông báo nào cần chị xác nhận. Cảm ơn chị!"]

    # 10:30 Quân gives a task to "@Tuấn": two people are called Tuấn, so no task yet; he
    # picks the second from the numbered list.
    await week.says(
        "quan", "/giaoviec @Tuấn kiểm tra bình chữa cháy kho 2 han 2/12 17h", at("Mon", "10:30")
    )
    pick = week.received("quan")[-1]
    assert "1) anh Nguyễn Văn Tuấn (May Việt)\n2) anh Trần Văn Tuấn (Hansol)" in pick
    assert await week.export("tasks") == []
    await week.says("quan", "2", at("Mon", "10:31"))
    assert week.received("quan")[-1].startswith("📝 Đã giao việc CV1 cho anh Trần Văn Tuấn")
    [notice] = week.received("tuan2")
    assert notice.startswith("📝 Anh được giao việc CV1: kiểm tra bình chữa cháy kho 2")
    # Tuấn (Hansol) accepts by quoting the notice, the way people answer on Zalo.
    cv1 = await week.message_id("tuan2", "được giao việc CV1")
    await week.says("tuan2", "ok a, e nhận việc", at("Mon", "10:45"), quote=cv1)
    assert "anh Tuấn nhận việc CV1" in week.received("tuan2")[-1]

    # 14:00 Phương asks a question privately; it becomes YC1, forwarded to the coordinators
    # who can be reached (Quân and Hà, who have written to the bot), with her name,
    # enterprise and phone.
    await week.says("phuong", "Xin hỏi lịch tập huấn PCCC quý 4 khi nào ạ?", at("Mon", "14:00"))
    assert "YC1" in week.received("phuong")[-1]
    forwarded = week.received("quan")[-1]
    assert "YC1" in forwarded and "chị Phương (Hansol, 0902000022)" in forwarded
    # Quân answers by quoting the forwarded question; the bot relays it and closes YC1.
    yc1 = await week.message_id("quan", "YC1")
    await week.says(
        "quan", "Thứ Sáu 4/12 lúc 8h tại hội trường BQL chị nhé", at("Mon", "14:20"), quote=yc1
    )
    answer = week.received("phuong")[-1]
    assert "Thứ Sáu 4/12 lúc 8h tại hội trường BQL" in answer and "anh Quân" in answer

    # ------------------------------------------------------------------ Tuesday 1/12
    # 02:10 a fire at Điện Quang. Urgent at any hour: the coordinators who have written to
    # the bot (Quân, Hà) are alerted at once with who reported, their phone, how to take it.
    await week.says("inh", "Cháy ở kho 3 xưởng B, khói nhìu lắm", at("Tue", "02:10"))
    receipt = week.received("inh")[-1]
    assert "Bot đã báo khẩn cho anh Quân và chị Hà." in receipt
    assert "gọi ngay 114" in receipt
    alert = week.received("quan")[-1]
    assert alert.startswith("🚨 KHẨN: cháy/nổ")
    assert "(SV1)" in alert
    assert "Người báo: anh Đặng Văn Inh (Điện Quang), SĐT 0902000032" in alert
    assert "Gọi 114 nếu chưa ai gọi." in alert and "/xuly SV1" in alert
    # Đức (police coordinator) never wrote to the bot: Zalo allows no private alert to him.
    assert week.received("duc") == []
    sv1 = await week.message_id("quan", "KHẨN: cháy")
    await week.says("quan", "nhận xử lý", at("Tue", "02:14"), quote=sv1)
    assert "đã có anh Quân nhận xử lý" in week.received("inh")[-1]
    await week.says("quan", "/xong SV1 đã dập tắt, không ai bị thương", at("Tue", "03:05"))

    # 07:30 the coordinators' daily summary: one message each (Quân, Hà) instead of a
    # reminder per item.
    assert await week.runs("daily_summary", at("Tue", "07:30")) == 2
    summary = week.received("quan")[-1]
    assert week.received("ha")[-1].startswith("Chào chị Hà, việc cần theo dõi hôm nay")
    assert summary.startswith("Chào anh Quân, việc cần theo dõi hôm nay (thứ Ba 01/12):")
    assert "TB1" in summary and "SV1" not in summary  # the fire is closed

    # 08:15 TB1's deadline has passed: Quân, who sent it, gets the tally. The missing are
    # named short; the two Tuấn are told apart by enterprise.
    await week.runs("ack_reminders", at("Tue", "08:15"))
    tally = week.received("quan")[-1]
    assert tally.startswith("📋 Thông báo TB1 đã hết hạn xác nhận: 2/11 người đã nhận (18%).")
    assert "• May Việt: 2/3\n" in tally
    assert "anh Tuấn (Hansol)" in tally and "đồng chí Hùng" in tally and "anh/chị Em" in tally

    # 09:00 Em acknowledges TB1 after its 08:00 deadline: recorded as late, and thanked.
    await week.says("em", "/danhan TB1", at("Tue", "09:00"))
    assert week.received("em")[-1] == (
        "👍 Cảm ơn anh/chị Em! Bot đã ghi nhận xác nhận thông báo TB1 (sau hạn)."
    )

    # 22:40 Kim sees someone climbing the wall: suspicious at night is urgent. Ten minutes
    # later it was the night guard doing his round: "báo nhầm" withdraws it and Quân is told.
    await week.says("kim", "Có ngươi lạ trèo tuờng ở cổng 3", at("Tue", "22:40"))  # typos
    assert "Bot đã báo khẩn cho anh Quân và chị Hà." in week.received("kim")[-1]
    assert "(SV2)" in week.received("quan")[-1]
    await week.says("kim", "báo nhầm, là bảo vệ ca đêm đi kiểm tra", at("Tue", "22:50"))
    assert week.received("quan")[-1] == (
        "Sự việc SV2: chị Kim cho biết là báo nhầm, không cần xử lý nữa."
    )

    # ------------------------------------------------------------------ Wednesday 2/12
    # 23:30 a theft at May Việt, typed without accents: theft at night is urgent.
    await week.says("giang", "mat trom 2 cuon cap dien o kho 1 cty may viet", at("Wed", "23:30"))
    # Unaccented, the bot is not sure it understood: it asks Giang first (three minutes,
    # then it alerts anyway). He confirms, without accents too.
    assert week.received("giang")[-1].startswith("Anh báo TRỘM CẮP ở kho 1")
    assert week.received("quan") == []
    await week.says("giang", "dung roi", at("Wed", "23:31"))
    assert "(SV3)" in week.received("quan")[-1]
    # Nobody takes it in 10 minutes: the escalation reaches May Việt's security lead, Tuấn.
    await week.runs("incident_escalation", at("Wed", "23:41"))
    assert "chưa có ai nhận sau 11 phút" in week.received("tuan")[-1]
    # Hùng (police, next in the chain) takes it; Giang is told who has it.
    await week.says("hung", "/xuly SV3", at("Wed", "23:45"))
    assert "đồng chí Hùng" in week.received("giang")[-1]

    # ------------------------------------------------------------------ Thursday 3/12
    # 09:10 Tuấn (Hansol) finishes CV1 a day late, quoting the task with a note: the task is
    # done (late), and Quân, who gave it, is told the note.
    await week.says(
        "tuan2", "xong rồi, đã thay 2 bình hết hạn ở kho 2", at("Thu", "09:10"), quote=cv1
    )
    assert "trễ hạn" in week.received("tuan2")[-1]
    done = week.received("quan")[-1]
    assert done.startswith("✅ Anh Trần Văn Tuấn đã hoàn thành việc CV1")
    assert "Trễ hạn (17:00 02/12/2026).\nGhi chú: đã thay 2 bình hết hạn ở kho 2" in done

    # 10:00 a fight with an injury, in the council group, without accents: urgent by day.
    await week.says(
        "hoa", "danh nhau o cong 2, 1 nguoi bi thuong chay mau", at("Thu", "10:00"), group=HD
    )
    assert "(SV4)" in week.received("quan")[-1]
    assert "Bot đã báo khẩn cho anh Quân và chị Hà." in week.received(HD)[-1]
    await week.says("ha", "/xuly SV4", at("Thu", "10:05"))
    assert "chị Hà" in week.received(HD)[-1]  # Hoa reported there: she hears who took it
    assert week.received("quan") == ["Sự việc SV4: chị Hà đã nhận xử lý."]
    assert week.received("ha")[-1] == "Đã ghi nhận: chị Hà đang xử lý sự việc SV4."

    # 23:35 SV3 has been open a day: Hùng, who holds it, is reminded; the coordinators are
    # not (they see open incidents in their daily summary).
    # It is night: the reminder waits for the end of the quiet hours (07:00).
    await week.runs("incident_reminders", at("Thu", "23:35"))
    assert week.received("hung") == ["Đã ghi nhận: đồng chí Hùng đang xử lý sự việc SV3."]
    await week.wakes(at("Fri", "07:00"))
    assert week.received("hung") == [
        "Nhắc: sự việc SV3 (trộm cắp tại kho 1, Cty May Viet) đã mở 1 ngày, trạng thái: đang xử"
        " lý. Xong rồi thì gõ /xong SV3 giúp bot nhé."
    ]
    assert week.received("quan") == [] and week.received("ha") == []

    # ------------------------------------------------------------------ Friday 4/12
    # 10:05 SV4 has been open a day: Hà holds it, coordinator or not, she is reminded.
    await week.runs("incident_reminders", at("Fri", "10:05"))
    assert week.received("ha") == [
        "Nhắc: sự việc SV4 (đánh nhau/gây rối tại cổng 2) đã mở 1 ngày, trạng thái: đang xử"
        " lý. Xong rồi thì gõ /xong SV4 giúp bot nhé."
    ]
    assert week.received("quan") == []

    # ------------------------------------------------------------------ Saturday 5/12
    # Quân announces a drill to the fire-safety cluster, then withdraws it. Phương's
    # acknowledgement of the withdrawn directive records nothing; she is told why.
    await week.says(
        "quan", "/thongbao [Cụm an toàn PCCC] Diễn tập PCCC sáng Chủ nhật", at("Sat", "08:00")
    )
    assert week.received(PCCC)[-1].startswith("📢 THÔNG BÁO TB2")
    await week.says("quan", "/huy TB2", at("Sat", "09:00"))
    assert "TB2" in week.received(PCCC)[-1]
    await week.says("phuong", "/danhan TB2", at("Sat", "09:30"))
    assert week.received("phuong")[-1] == (
        "Thông báo TB2 đã được hủy, chị Phương không cần xác nhận nữa."
    )
    tb2 = await week.message_id(PCCC, "THÔNG BÁO TB2")
    await week.says("lan", "đã nhận", at("Sat", "09:40"), group=PCCC, quote=tb2)
    assert "TB2 đã được hủy, chị Lan" in week.received(PCCC)[-1]

    # ------------------------------------------------------------------ Sunday 6/12
    # A rest day: no summary, no nudge, no task or acknowledgement reminder goes out, though
    # SV3 is still open and people owe TB1. Only what is urgent would.
    sent_before = len(week.zalo.sent())
    for job in ("daily_summary", "nudges", "task_reminders", "ack_reminders", "incident_reminders"):
        await week.runs(job, at("Sun", "07:30"))
        await week.runs(job, at("Sun", "15:00"))
    assert len(week.zalo.sent()) == sent_before
    # Monday 7/12 07:00: what waited is sent. Hùng still holds SV3, Hà SV4.
    await week.wakes(at("Sun", "07:00") + timedelta(days=1))
    assert "SV3" in week.received("hung")[-1] and "SV4" in week.received("ha")[-1]

    # ------------------------------------------------------------------ The records
    # What `antt-bot export` shows the council at the end of the week.
    acks = {(a["directive_id"], a["member_id"]): a["late"] for a in await week.export("acks")}
    assert acks == {(1, "lan"): False, (1, "tuan"): False, (1, "em"): True}  # TB1
    [task] = await week.export("tasks")
    assert (task["assignee_id"], task["status"], task["note"]) == (
        "tuan2",
        "done",
        "đã thay 2 bình hết hạn ở kho 2",
    )
    assert datetime.fromisoformat(task["accepted_at"]) == at("Mon", "10:45")
    assert datetime.fromisoformat(task["done_at"]) == at("Thu", "09:10")
    [request] = await week.export("requests")
    assert (request["code"], request["status"], request["answered_by"]) == (
        "YC1",
        "answered",
        "quan",
    )
    assert await week.incidents() == {
        1: ("fire", "resolved", True),
        2: ("suspicious", "false_alarm", True),
        3: ("theft", "handling", True),
        4: ("fight", "handling", True),
    }
    async with week.bot.sessions() as s:
        assert len((await s.execute(select(Ack))).all()) == 3  # nothing for Hà, nor for TB2
