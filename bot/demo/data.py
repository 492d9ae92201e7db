"""The demo's council (three groups, eight members), a council's own roster for a rehearsal,
and the settings the demo runs with."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.config import GroupConfig
from models.roster import ImportResult, RosterRow, import_rows, parse_roster_csv
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


@dataclass(frozen=True)
class Council:
    """Whom the page lets you be, and what is loaded into the demo's database at start."""

    rows: tuple[RosterRow, ...]
    no_private_chat: frozenset[str] = frozenset()
    groups: tuple[dict[str, Any], ...] = GROUPS
    warnings: tuple[str, ...] = field(default=())  # the roster's bad lines, for the console

    @property
    def members(self) -> list[DemoMember]:
        return [
            DemoMember(
                member_id=r.member_id or "",
                name=r.name,
                phone=r.phone or "",
                enterprise=r.enterprise or "",
                role=r.role,
                groups=r.groups,
            )
            for r in self.rows
        ]

    def dashboard_users(self) -> list[DemoMember]:
        """Who can sign in to the dashboard (by member id, with the demo password)."""
        return [m for m in self.members if m.role in ("coordinator", "admin")]


def seeded_council() -> Council:
    """The demo's own eight people in three groups."""
    rows, _errors = parse_roster_csv(roster_text())
    return Council(rows=tuple(rows), no_private_chat=NO_PRIVATE_CHAT)


def rehearsal_council(roster_csv: str, configured: tuple[GroupConfig, ...]) -> Council:
    """A council's own roster: rows without a Zalo id get one (`demo-line5`), since the page
    types as them; groups are the configured ones plus any the roster names besides."""
    parsed, errors = parse_roster_csv(roster_csv)
    rows = tuple(r if r.member_id else replace(r, member_id=f"demo-line{r.line}") for r in parsed)
    groups = [g.model_dump(exclude_none=True) for g in configured]
    known = {g.chat_id for g in configured}
    for chat_id in dict.fromkeys(c for r in rows for c in r.groups):
        if chat_id not in known:
            groups.append({"chat_id": chat_id, "name": chat_id, "kind": "enterprise"})
    return Council(rows=rows, groups=tuple(groups), warnings=tuple(errors))


def parks_council(roster_csvs: list[str], configured: tuple[GroupConfig, ...]) -> Council:
    """Several parks' rosters as one list of people to type as (a person on two rosters
    once, in the groups of both); each park's own roster is imported by the app itself."""
    merged: dict[str, RosterRow] = {}
    warnings: list[str] = []
    for text in roster_csvs:
        council = rehearsal_council(text, configured)
        warnings.extend(council.warnings)
        for row in council.rows:
            key = row.member_id or f"line{row.line}"
            if key in merged:
                groups = tuple(dict.fromkeys((*merged[key].groups, *row.groups)))
                row = replace(merged[key], groups=groups)
            merged[key] = row
    every = tuple(g.model_dump(exclude_none=True) for g in configured)
    return Council(rows=tuple(merged.values()), groups=every, warnings=tuple(warnings))


def members() -> list[DemoMember]:
    """The seeded council's members."""
    return seeded_council().members


def dashboard_users() -> list[DemoMember]:
    """Who can sign in to the seeded demo's dashboard."""
    return seeded_council().dashboard_users()


# The seeded park's own numbers (made up), so that "số công an KCN" has an answer in the demo.
DEMO_CONTACTS = (
    {"name": "Công an KCN", "phone": "0274 3812 113"},
    {"name": "Đội PCCC KCN", "phone": "0274 3812 114"},
    {"name": "BQL KCN trực ban", "phone": "0274 3812 000"},
)


def settings_overrides(
    db_url: str, public_url: str, council: Council | None = None, *, parks: bool = False
) -> dict[str, Any]:
    """What the demo changes on top of the loaded configuration (quiet hours etc. stay).

    A rehearsal keeps the configured coordinators; the seeded demo has its own."""
    overrides: dict[str, Any] = {
        "database": {"url": db_url},
        "platform": {"kind": "local", "mode": "webhook"},
        "server": {"public_url": public_url},
        "groups": [dict(g) for g in (council.groups if council else GROUPS)],
        "roster": None,
        # The demo is one park: a rehearsal of one park of several runs it alone.
        "councils": [],
        # Plain http on this machine: a Secure cookie would never come back.
        "dashboard": {"password": DASHBOARD_PASSWORD, "secure_cookies": False},
    }
    if council is None:  # the seeded park: its coordinators and numbers, not the file's
        overrides["coordinators"] = []
        overrides["contacts"] = [dict(c) for c in DEMO_CONTACTS]
    if parks:  # several parks rehearsed: their councils, groups and rosters as configured
        for key in ("groups", "roster", "councils"):
            overrides.pop(key)
    return overrides


# The roster was loaded two days before the demo starts. Why: a member's seven quiet days
# then end two days before a "+1 tuần" jump does, so a working morning falls between (a
# nudge waits out quiet hours and rest days): the week's nudges show whatever the hour the
# demo is opened. Loaded "now", they fell due at the jump's last minute, at night after 21:00.
ROSTER_AGE = timedelta(days=2)


async def seed(
    sessions: async_sessionmaker[AsyncSession], now: datetime, council: Council | None = None
) -> ImportResult:
    """Load the roster the way `antt-bot members import` does (again on a restart), as if
    imported ROSTER_AGE ago."""
    council = council or seeded_council()
    async with sessions() as session, session.begin():
        result = await import_rows(session, list(council.rows), now - ROSTER_AGE)
        # The others have said hello to the bot privately, so it may write to them there.
        reachable = [
            m.member_id for m in council.members if m.member_id not in council.no_private_chat
        ]
        await session.execute(
            update(Member)
            .where(Member.member_id.in_(reachable), Member.private_chat_id.is_(None))
            .values(private_chat_id=Member.member_id)
        )
    if result.errors:
        log.warning("demo roster: %s", "; ".join(result.errors))
    return result
