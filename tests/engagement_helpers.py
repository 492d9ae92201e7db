"""A council of ten across three enterprises, for the engagement tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models.roster import import_roster_csv
from tests.conftest import Bot, text_event

COUNCIL, MAY, HANSOL, DQ = "gcouncil", "gmayviet", "ghansol", "gdienquang"

GROUPS = [
    {"chat_id": COUNCIL, "name": "Hội đồng ANTT KCN", "kind": "council"},
    {"chat_id": MAY, "name": "Tổ bảo vệ May Việt", "kind": "enterprise", "enterprise": "May Việt"},
    {"chat_id": HANSOL, "name": "Tổ bảo vệ Hansol", "kind": "enterprise", "enterprise": "Hansol"},
    {
        "chat_id": DQ,
        "name": "Tổ bảo vệ Điện Quang",
        "kind": "enterprise",
        "enterprise": "Điện Quang",
    },
]

ROSTER = """member_id,name,phone,enterprise,role,groups
u1,Phạm Minh Quân,0901000001,Ban quản lý KCN,coordinator,gcouncil;gmayviet;ghansol;gdienquang
u2,Trần Thị Bình,0901000002,May Việt,member,gcouncil;gmayviet
u3,Lê Văn Cường,0901000003,May Việt,member,gmayviet
u4,Ngô Thị Dung,0901000004,May Việt,member,gmayviet
u5,Hoàng Văn Em,0901000005,Hansol,member,gcouncil;ghansol
u6,Đỗ Thị Phương,0901000006,Hansol,member,ghansol
u7,Vũ Văn Giang,0901000007,Hansol,member,ghansol
u8,Bùi Thị Hoa,0901000008,Điện Quang,member,gdienquang
u9,Đặng Văn Inh,0901000009,Điện Quang,member,gdienquang
u10,Lý Thị Kim,0901000010,Điện Quang,member,gdienquang
"""

NAMES = {f"u{i}": line.split(",")[1] for i, line in enumerate(ROSTER.splitlines()[1:], start=1)}


def council_settings(make_settings: Any, db: str, **extra: Any) -> Any:
    return make_settings(db=db, groups=GROUPS, **extra)


async def import_roster(bot: Bot, at: datetime) -> None:
    async with bot.sessions() as session, session.begin():
        result = await import_roster_csv(session, ROSTER, at)
    assert result.errors == [] and result.created == 10


async def say(bot: Bot, member: str, text: str, *, chat: str | None = None) -> None:
    """`member` writes `text`: privately, or in group `chat` to @Bot ANTT; handled and sent."""
    if chat is not None:
        text = f"@Bot ANTT {text}"
    body = text_event(
        text,
        sender=member,
        name=NAMES[member],
        chat=chat,
        group=chat is not None,
        at=bot.clock.now(),
    )
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    """What the bot has sent to `chat` (a member id for a private chat), oldest first."""
    return [line.text for line in bot.store.bot_lines(chat)]
