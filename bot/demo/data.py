"""The demo's council: three groups, eight members, and the settings the demo runs with."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.roster import ImportResult, import_roster_csv
from models.tables import Member

log = logging.getLogger(__name__)

DASHBOARD_PASSWORD = "demo"
DB_FILE = "antt-demo.db"

COUNCIL = "demo-hoidong-antt"
MAY_VIET = "demo-to-mayviet"
HANSOL = "demo-to-hansol"

GROUPS: tuple[dict[str, Any], ...] = (
    {"chat_id": COUNCIL, "name": "Hội đồng ANTT KCN", "kind": "council"},
    {
        "chat_id": MAY_VIET,
        "name": "Tổ bảo vệ Cty May Việt",
        "kind": "enterprise",
        "enterprise": "Cty May Việt",
    },
    {
        "chat_id": HANSOL,
        "name": "Tổ ANTT Cty Điện tử Hansol",
        "kind": "enterprise",
        "enterprise": "Cty Điện tử Hansol",
    },
)

# He never opened a private chat with the bot, so (as on Zalo) the bot can reach him only
# in his group: the demo shows where such a member's reminders go.
NO_PRIVATE_CHAT = frozenset({"demo-nam"})

ROLE_LABELS = {"member": "Thành viên", "coordinator": "Điều phối viên", "admin": "Quản trị"}


@dataclass(frozen=True)
class DemoMember:
    """A seeded person the page lets you type as."""

    member_id: str
    name: str
    phone: str
    enterprise: str
    role: str
    groups: tuple[str, ...]

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def roster_text() -> str:
    """The demo roster CSV (the same columns `antt-bot members import` reads)."""
    return resources.files("bot.demo").joinpath("roster.csv").read_text(encoding="utf-8")


def members() -> list[DemoMember]:
    rows = csv.DictReader(io.StringIO(roster_text()))
    return [
        DemoMember(
            member_id=r["member_id"],
            name=r["name"],
            phone=r["phone"],
            enterprise=r["enterprise"],
            role=r["role"],
            groups=tuple(g for g in r["groups"].split(";") if g),
        )
        for r in rows
    ]


def dashboard_users() -> list[DemoMember]:
    """Who can sign in to the dashboard (by member id, with the demo password)."""
    return [m for m in members() if m.role in ("coordinator", "admin")]


def settings_overrides(db_url: str, public_url: str) -> dict[str, Any]:
    """What the demo changes on top of the loaded configuration (quiet hours etc. stay)."""
    return {
        "database": {"url": db_url},
        "platform": {"kind": "local", "mode": "webhook"},
        "server": {"public_url": public_url},
        "groups": [dict(g) for g in GROUPS],
        "roster": None,
        "coordinators": [],
        # Plain http on this machine: a Secure cookie would never come back.
        "dashboard": {"password": DASHBOARD_PASSWORD, "secure_cookies": False},
    }


async def seed(sessions: async_sessionmaker[AsyncSession], now: datetime) -> ImportResult:
    """Load the demo roster the way `antt-bot members import` does (again on a restart)."""
    async with sessions() as session, session.begin():
        result = await import_roster_csv(session, roster_text(), now)
        # The others have said hello to the bot privately, so it may write to them there.
        reachable = [m.member_id for m in members() if m.member_id not in NO_PRIVATE_CHAT]
        await session.execute(
            update(Member)
            .where(Member.member_id.in_(reachable), Member.private_chat_id.is_(None))
            .values(private_chat_id=Member.member_id)
        )
    if result.errors:
        log.warning("demo roster: %s", "; ".join(result.errors))
    return result
