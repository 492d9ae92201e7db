"""A task for someone the bot has no private chat with: anh Nam of May Việt is in his team's
group but has never written to the bot privately. Anh Quân gives him a task in private; the
task, its reminder and its overdue notices reach anh Nam in his team's group, and anh Quân is
told where they went (or that the bot cannot reach him at all)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers.clock import FixedClock
from handlers.texts import tasks as texts
from models.roster import import_roster_csv
from tests.conftest import Bot, text_event

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MON = datetime(2026, 11, 30, 8, 0, tzinfo=VN)
COUNCIL = "g-hoidong"
TEAM = "g-mayviet"  # Tổ bảo vệ Cty May Việt
ROSTER = """member_id,name,phone,enterprise,role,groups,title
quan,Phạm Minh Quân,0901000001,BQL KCN,coordinator,g-hoidong,anh
nam,Hoàng Văn Nam,0901000002,May Việt,member,g-hoidong;g-mayviet,anh
lan,Lê Thị Lan,0901000003,May Việt,member,g-hoidong;g-mayviet,chị
phuc,Lý Văn Phúc,0901000004,Hansol,member,,anh
"""
NAMES = {
    "quan": "Phạm Minh Quân",
    "nam": "Hoàng Văn Nam",
    "lan": "Lê Thị Lan",
    "phuc": "Lý Văn Phúc",
}


def local(d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12 if d < 30 else 11, d, hh, mm, tzinfo=VN)


@pytest.fixture
async def park(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(
        db=db_url,
        groups=[
            {"chat_id": COUNCIL, "name": "Hội đồng ANTT KCN", "kind": "council"},
            {
                "chat_id": TEAM,
                "name": "Tổ bảo vệ Cty May Việt",
                "kind": "enterprise",
                "enterprise": "May Việt",
            },
        ],
    )
    bot: Bot = await make_bot(settings, clock=FixedClock(MON))
    async with bot.sessions() as s, s.begin():
        result = await import_roster_csv(s, ROSTER, MON)
    assert result.errors == []
    for member in ("quan", "lan"):  # anh Nam and anh Phúc never wrote privately
        await say(bot, member, "có mặt")
    return bot


async def say(bot: Bot, member: str, text: str, *, group: str | None = None) -> None:
    body = text_event(
        f"@Bot ANTT {text}" if group else text,
        sender=member,
        name=NAMES[member],
        chat=group or member,
        group=group is not None,
        at=bot.clock.now(),
    )
    status, _ = await bot.deliver(body)
    assert status == 200
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def run(bot: Bot, when: datetime) -> None:
    bot.clock.set(when)
    await bot.runtime.run_job("task_reminders")
    await bot.drain()


@pytest.mark.parametrize(
    "typed",
    [
        "/giaoviec @Nam kiểm tra lại bình chữa cháy khu kho trước thứ 6",
        "/giaoviec @Nam kiem tra lai binh chua chay khu kho truoc thu 6",
    ],
)
async def test_a_task_for_someone_without_a_private_chat_reaches_his_team_group(
    park: Bot, typed: str
) -> None:
    await say(park, "quan", typed)
    confirm = said(park, "quan")[-1]
    assert confirm.startswith("📝 Đã giao việc CV1 cho anh Hoàng Văn Nam: ")
    assert confirm.endswith(
        texts.TASK_SENT_TO_GROUP.format(group="Tổ bảo vệ Cty May Việt", name="anh Nam")
    )
    # Anh Nam reads it in his team's group, named; the council group hears nothing.
    (notice,) = said(park, TEAM)
    assert notice.startswith("📝 Anh Nam được giao việc CV1: ")
    assert said(park, COUNCIL) == []
    # The reminder a day before Friday's deadline, and the overdue notices: his group too.
    await run(park, local(4, 9))
    assert said(park, TEAM)[-1].startswith("⏰ Nhắc việc CV1: ")
    assert "Anh Nam làm xong nhắn /xong CV1" in said(park, TEAM)[-1]
    await run(park, local(5, 8))
    assert said(park, TEAM)[-1].startswith("⚠️ Việc CV1 đã quá hạn")
    await run(park, local(7, 8))  # Monday: once more, saying who will be told next
    assert said(park, TEAM)[-1].startswith("⏰ Nhắc lại: việc CV1 đã quá hạn")
    assert "bot sẽ báo anh Quân" in said(park, TEAM)[-1]
    # Anh Quân only ever got his confirmation, then (Tuesday) the news that it is overdue.
    await run(park, local(8, 8))
    mine = said(park, "quan")
    assert not any("Nhắc việc" in t or "bot sẽ báo anh Quân" in t for t in mine)
    assert mine[-1].startswith("⚠️ Việc CV1 giao cho anh Hoàng Văn Nam đã quá hạn")
    # He answers in the group: "nhận việc" there is heard.
    await say(park, "nam", "/xong CV1 da kiem tra, 2 binh can nap lai", group=TEAM)
    assert said(park, TEAM)[-1].startswith("✅ Việc CV1 đã hoàn thành")


@pytest.mark.parametrize(
    "typed",
    ["/giaoviec @Phúc trực cổng 3 tối nay", "/giaoviec @Phuc truc cong 3 toi nay"],
)
async def test_a_task_for_someone_the_bot_cannot_reach_tells_the_giver(
    park: Bot, typed: str
) -> None:
    await say(park, "quan", typed)
    confirm = said(park, "quan")[-1]
    assert confirm.startswith("📝 Đã giao việc CV1 cho anh Lý Văn Phúc: ")
    assert confirm.endswith(texts.TASK_UNREACHED.format(name="anh Phúc", you="anh"))
    assert said(park, COUNCIL) == [] and said(park, TEAM) == []


async def test_a_task_with_a_deadline_for_someone_unreached_goes_to_the_giver_once(
    park: Bot,
) -> None:
    """No reminder can reach anh Phúc: when it is overdue anh Quân is told once, and never
    that the bot will tell anh Quân."""
    await say(park, "quan", "/giaoviec @Phúc thay bóng đèn nhà xe han thu 4")
    await run(park, local(2, 12))
    await run(park, local(3, 8))
    await run(park, local(4, 8))
    await run(park, local(5, 8))
    mine = said(park, "quan")
    assert not any("Nhắc" in t or "bot sẽ báo" in t for t in mine)
    overdue = [t for t in mine if "đã quá hạn" in t]
    assert len(overdue) == 1 and "Lý Văn Phúc" in overdue[0]


async def test_the_member_in_the_group_where_it_is_given_reads_the_reply(park: Bot) -> None:
    """Given in the team's group he is in, the bot's reply there is his notice: nothing more."""
    await say(park, "quan", "có mặt", group=TEAM)
    await say(park, "quan", "/giaoviec @Nam trực cổng 2 han thu 6", group=TEAM)
    lines = said(park, TEAM)
    assert lines[-1].startswith("📝 Đã giao việc CV1 cho anh Hoàng Văn Nam: trực cổng 2")
    assert not any("được giao việc" in t for t in lines)
    assert "nhóm" not in lines[-1]


async def test_cancelling_reaches_him_in_his_group(park: Bot) -> None:
    await say(park, "quan", "/giaoviec @Nam trực cổng 2 han thu 6")
    await say(park, "quan", "/huy CV1")
    assert said(park, TEAM)[-1].startswith("Việc CV1 (trực cổng 2) đã được hủy. Anh Nam")
