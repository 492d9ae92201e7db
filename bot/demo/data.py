"""The demo's council: three groups, eight members, and the settings the demo runs with."""

from __future__ import annotations

import csv
import importlib
import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.people import ensure_membership, get_or_create_group, get_or_create_member
from models.tables import Member

log = logging.getLogger(__name__)

DASHBOARD_PASSWORD = "demo"
DB_FILE = "antt-demo.db"

COUNCIL = "demo-hoidong-antt"
MAY_VIET = "demo-to-mayviet"
HANSOL = "demo-to-hansol"

GROUPS: tuple[dict[str, Any], ...] = (
    {"chat_id": COUNCIL, "name": "Hội đồng ANTT KCN", "kind": "council"},
    {"chat_id": MAY_VIET, "name": "Tổ bảo vệ Cty May Việt", "kind": "enterprise",
     "enterprise": "Cty May Việt"},
    {"chat_id": HANSOL, "name": "Tổ ANTT Cty Điện tử Hansol", "kind": "enterprise",
     "enterprise": "Cty Điện tử Hansol"},
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
    return [DemoMember(member_id=r["member_id"], name=r["name"], phone=r["phone"],
                       enterprise=r["enterprise"], role=r["role"],
                       groups=tuple(g for g in r["groups"].split(";") if g))
            for r in rows]


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


async def seed(sessions: async_sessionmaker[AsyncSession], now: datetime) -> str:
    """Load the roster into the database; returns which way it went ("importer" or "direct")."""
    import_roster_csv = _roster_importer()
    people = members()
    async with sessions() as session, session.begin():
        if import_roster_csv is not None:
            await import_roster_csv(session, roster_text(), now)
            how = "importer"
        else:
            await _insert_directly(session, people, now)
            how = "direct"
        # The others have said hello to the bot privately, so it may write to them there.
        reachable = [m.member_id for m in people if m.member_id not in NO_PRIVATE_CHAT]
        await session.execute(
            update(Member)
            .where(Member.member_id.in_(reachable), Member.private_chat_id.is_(None))
            .values(private_chat_id=Member.member_id))
    log.info("demo roster seeded (%s): %d members", how, len(people))
    return how


def _roster_importer() -> Callable[..., Awaitable[Any]] | None:
    """The lead's `models.roster.import_roster_csv(session, text, now)`, once it exists."""
    try:
        module = importlib.import_module("models.roster")
    except ImportError:
        return None
    return getattr(module, "import_roster_csv", None)


async def _insert_directly(session: AsyncSession, people: list[DemoMember], now: datetime) -> None:
    """Fallback while models.roster is missing: the rows a roster import would write."""
    from handlers.text import fold  # the parser's folding, so name look-ups match

    for person in people:
        member, _ = await get_or_create_member(session, person.member_id,
                                               display_name=person.name, now=now, fold=fold)
        member.name, member.phone = person.name, person.phone
        member.enterprise, member.role, member.status = person.enterprise, person.role, "member"
        for chat_id in person.groups:
            group = await get_or_create_group(session, chat_id, now=now)
            await ensure_membership(session, member, group, now=now, from_roster=True)
