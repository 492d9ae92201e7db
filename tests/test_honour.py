"""Honouring good examples as a council lives it: /khen posted to the member's groups, counted
in the digest and on the monthly honour board (chat and dashboard); automatic top members are
members' own contributions, never a coordinator, never someone nudged that week. Through the
real webhook, processor and sender (local platform), a real database and a movable clock."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.clock import FixedClock
from handlers.digest import build_digest
from models.tables import Commendation, Member, Nudge
from tests.conftest import Bot, text_event
from tests.engagement_helpers import COUNCIL, DQ, MAY, NAMES, council_settings, import_roster

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "mật khẩu đủ dài 2026"


def local(month: int, d: int, hh: int, mm: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, d, hh, mm, tzinfo=VN)


@pytest.fixture
async def council(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = council_settings(make_settings, db_url, dashboard={"password": PASSWORD})
    bot: Bot = await make_bot(settings, clock=FixedClock(local(11, 30, 8)))
    await import_roster(bot, bot.clock.now())
    return bot


async def say(bot: Bot, member: str, text: str, *, chat: str | None = None) -> None:
    group = chat is not None
    body = text_event(
        f"@Bot ANTT {text}" if group else text,
        sender=member,
        name=NAMES[member],
        chat=chat or member,
        group=group,
        at=bot.clock.now(),
    )
    status, _ = await bot.deliver(body)
    assert status == 200
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def digest_json(bot: Bot, week: str) -> dict[str, Any]:
    settings = bot.runtime.settings
    bot.clock.advance(timedelta(minutes=1))  # the figures count what came before now
    async with bot.sessions() as s:
        digest = await build_digest(s, settings, week, bot.clock.now())
    return {"json": digest.to_json(), "text": digest.render_text()}


async def test_praise_is_posted_counted_and_on_the_honour_board(council: Bot) -> None:
    await say(council, "u2", "Mất trộm xe máy ở nhà xe cổng 3")
    await say(council, "u2", "tuần tra khu B, bình thường")
    await say(council, "u1", "/khen @Bình phát hiện kẻ trộm ở nhà xe cổng 3")
    post = "🌟 Gương người tốt, việc tốt: Hội đồng ANTT khen ngợi anh/chị Bình (May Việt)"
    # Bình is in the council group and May Việt's group: the praise goes to both, once.
    for chat in (COUNCIL, MAY):
        lines = [t for t in said(council, chat) if t.startswith(post)]
        assert len(lines) == 1 and "phát hiện kẻ trộm ở nhà xe cổng 3" in lines[0]
    assert not any("Gương người tốt" in t for t in said(council, DQ))
    assert said(council, "u1")[-1] == "Đã ghi nhận lời khen anh/chị Bình và đăng vào 2 nhóm."

    d = await digest_json(council, "2026-W49")
    (c,) = d["json"]["commendations"]
    assert c["name"] == "Trần Thị Bình" and c["reason"].startswith("phát hiện kẻ trộm")
    assert (c["reports_in_month"], c["patrols_in_month"]) == (1, 1)
    assert "🌟 Được khen tuần này: Trần Thị Bình." in d["text"]

    # The 1st of December: November's board goes to the council group, once.
    council.clock.set(local(12, 1, 8))
    assert (await council.runtime.run_job("honour_board")).queued == 1
    assert (await council.runtime.run_job("honour_board")).queued == 0
    await council.drain()
    board = [t for t in said(council, COUNCIL) if t.startswith("🏅 Bảng vinh danh tháng 11/2026")]
    assert len(board) == 1
    assert "• Trần Thị Bình (May Việt): phát hiện kẻ trộm" in board[0]
    assert "(1 báo cáo, 1 lượt tuần tra trong tháng)" in board[0]
    assert not any("Bảng vinh danh" in t for t in said(council, MAY))  # council groups only

    # The dashboard page lists November's commendations; a malformed month is refused.
    await login(council, "u1")
    async with council.http.get("/dashboard/honour?month=2026-11") as resp:
        page = await resp.text()
        assert resp.status == 200
    assert "Trần Thị Bình" in page and "phát hiện kẻ trộm ở nhà xe cổng 3" in page
    async with council.http.get("/dashboard/honour") as resp:  # December: nobody yet
        assert "Tháng này chưa có ai được khen." in await resp.text()
    async with council.http.get("/dashboard/honour?month=11-2026") as resp:
        assert resp.status == 400 and "2026-12" in await resp.text()


async def test_only_coordinators_praise_and_bad_names_are_told(council: Bot) -> None:
    await say(council, "u3", "/khen @Bình rất tích cực")
    assert "điều phối viên" in said(council, "u3")[-1]
    await say(council, "u1", "/khen @Zorro cứu người")
    assert said(council, "u1")[-1].startswith('Không tìm thấy thành viên "Zorro"')
    await say(council, "u1", "/khen @Bình")
    assert said(council, "u1")[-1].startswith("Cú pháp: /khen @tên lý do")
    async with council.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Commendation)) == 0


async def test_a_coordinator_is_never_a_top_member(council: Bot) -> None:
    for _ in range(5):
        await say(council, "u1", "có mặt")  # the coordinator is the busiest
    for _ in range(4):
        await say(council, "u3", "/thongke")  # commands (refused) are not contributions
    await say(council, "u2", "tuần tra cổng chính, bình thường")
    top = [m["name"] for m in (await digest_json(council, "2026-W49"))["json"]["top_members"]]
    assert top == ["Trần Thị Bình"]


async def test_a_nudged_member_is_not_praised_the_same_week(council: Bot) -> None:
    for m in ("u2", "u3", "u4", "u5", "u6", "u7", "u8", "u10"):
        await say(council, m, "có mặt")  # u9 stays silent
    council.clock.set(local(12, 8, 9))  # a week later: u9 is nudged
    await say(council, "u8", "có mặt")
    await council.runtime.run_job("nudges")
    await council.drain()
    async with council.sessions() as s:
        inh = (await s.execute(select(Member).where(Member.member_id == "u9"))).scalar_one()
        assert await s.scalar(select(func.count()).where(Nudge.member_pk == inh.id)) >= 1
    council.clock.advance(timedelta(hours=1))
    for _ in range(4):  # u9 answers, and then some: the busiest member of the week
        await say(council, "u9", "có mặt", chat=DQ)
    top = [m["name"] for m in (await digest_json(council, "2026-W50"))["json"]["top_members"]]
    assert "Đặng Văn Inh" not in top and "Bùi Thị Hoa" in top


async def login(bot: Bot, username: str) -> None:
    async with bot.http.get("/dashboard/login") as resp:
        token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert token is not None
    async with bot.http.post(
        "/dashboard/login",
        allow_redirects=False,
        data={"username": username, "password": PASSWORD, "csrf": token[1], "next": "/dashboard/"},
    ) as resp:
        assert resp.status == 303


async def test_praise_given_at_night_waits_for_the_morning(council: Bot) -> None:
    """Anh Quân praises anh Bình at 23:40 after a night patrol: the groups read it in the
    morning (a post at night wakes every member's phone), and anh Quân is told when."""
    council.clock.set(local(11, 30, 23, 40))
    await say(council, "u1", "/khen @Bình phát hiện kẻ trộm ở nhà xe cổng 3")
    assert said(council, "u1")[-1] == (
        "Đã ghi nhận lời khen anh/chị Bình; bot sẽ đăng vào 2 nhóm lúc 07:10 01/12"
        " (đang ngoài giờ)."
    )
    assert not any("Gương người tốt" in t for t in said(council, MAY))
    council.clock.set(local(12, 1, 7, 11))
    await council.drain()
    assert any(t.startswith("🌟 Gương người tốt") for t in said(council, MAY))
