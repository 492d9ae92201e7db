"""Several parks' councils on one installation (issue 20; docs/councils.md has the model).

The list of councils, the council of a chat, the councils and council role of a member, and
each council's effective settings (its overrides merged over the installation's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.config import DEFAULT_COUNCIL, CouncilConfig, GroupConfig, Settings
from models.inserts import insert_new
from models.tables import CouncilMember, Member

COORDINATING_ROLES = ("coordinator", "admin")
# The default council's name where the file names none (a single-council installation).
DEFAULT_COUNCIL_NAME = "Hội đồng ANTT"


class UnknownCouncil(KeyError):
    """A council id that is not in the configuration; the message lists the known ids."""

    def __init__(self, council_id: str, known: tuple[str, ...]) -> None:
        super().__init__(council_id)
        self.council_id = council_id
        self.known = known

    def __str__(self) -> str:
        return f"unknown council {self.council_id!r}; known: {', '.join(self.known)}"


@dataclass(frozen=True)
class Council:
    """One council as the code sees it: id, name, groups, coordinators, effective settings."""

    id: str
    name: str
    groups: tuple[GroupConfig, ...]
    coordinators: tuple[str, ...]
    roster: str | None
    settings: Settings  # the installation's settings with this council's overrides merged

    @property
    def chat_ids(self) -> tuple[str, ...]:
        return tuple(g.chat_id for g in self.groups)


def is_multi(settings: Settings) -> bool:
    """True when the file lists `councils` (several parks, or one named park)."""
    return bool(settings.councils)


def _overridden(base: Any, override: Any) -> Any:
    """The section with only the keys the council wrote replaced (pydantic knows which)."""
    if override is None:
        return base
    return base.model_copy(update={k: getattr(override, k) for k in override.model_fields_set})


def _effective(settings: Settings, c: CouncilConfig) -> Settings:
    shifts = dict(settings.shifts)
    shifts.update(c.shifts or {})
    update = {
        "groups": c.groups,
        "coordinators": c.coordinators,
        "roster": c.roster,
        "contacts": settings.contacts if c.contacts is None else c.contacts,
        "engagement": _overridden(settings.engagement, c.engagement),
        "digest": _overridden(settings.digest, c.digest),
        "alerts": _overridden(settings.alerts, c.alerts),
        "shifts": shifts,
    }
    out = settings.model_copy(update=update)
    out._council_id = c.id
    return out


# Built once per Settings object (frozen): id -> (the settings, their councils).
_CACHE: dict[int, tuple[Settings, tuple[Council, ...]]] = {}
_CACHE_SIZE = 64


def councils(settings: Settings) -> tuple[Council, ...]:
    """Every council, in configuration order; one `default` council without `councils`."""
    hit = _CACHE.get(id(settings))
    if hit is not None and hit[0] is settings:
        return hit[1]
    if settings.councils:
        found = tuple(
            Council(c.id, c.name, c.groups, c.coordinators, c.roster, _effective(settings, c))
            for c in settings.councils
        )
    else:
        found = (
            Council(
                DEFAULT_COUNCIL,
                DEFAULT_COUNCIL_NAME,
                settings.groups,
                settings.coordinators,
                settings.roster,
                settings,
            ),
        )
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()  # test suites build thousands of settings; a server builds one
    _CACHE[id(settings)] = (settings, found)
    return found


def group_councils(settings: Settings) -> dict[str, str]:
    """Every configured group chat id -> its council id."""
    return {g.chat_id: c.id for c in councils(settings) for g in c.groups}


def council_by_id(settings: Settings, council_id: str) -> Council:
    """The council with that id; UnknownCouncil (naming the known ids) otherwise."""
    for c in councils(settings):
        if c.id == council_id:
            return c
    raise UnknownCouncil(council_id, tuple(c.id for c in councils(settings)))


def council_settings(settings: Settings, council_id: str) -> Settings:
    """The council's effective settings; the installation's for an unknown id."""
    try:
        return council_by_id(settings, council_id).settings
    except UnknownCouncil:
        return settings


def council_of_chat(settings: Settings, chat_id: str) -> str | None:
    """The council of a configured group chat; `default` on a single-council installation;
    None for a chat no council lists (a private chat, an unconfigured group)."""
    if not settings.councils:
        return DEFAULT_COUNCIL
    for c in councils(settings):
        if chat_id in c.chat_ids:
            return c.id
    return None


def scope(settings: Settings, council_id: str | None = None) -> str | None:
    """The council to filter by, or None for no filter (a single-council installation, where
    every row and member is the council's, roster row or not). Without `council_id`, the
    council whose effective settings these are."""
    if not settings.councils:
        return None
    return council_id if council_id is not None else settings.council_id


def own(model: Any, settings: Settings) -> list[Any]:
    """`model.council_id == <the council of these settings>`, or no condition (one council,
    or the installation's settings): the filter every per-council query adds."""
    council = scope(settings)
    return [] if council is None else [model.council_id == council]


def record_council(settings: Settings) -> str:
    """The council id to write on a new record made under these settings."""
    return settings.council_id or DEFAULT_COUNCIL


def council_name(settings: Settings, council_id: str | None) -> str | None:
    """The council's name to show people; None with one council (nothing to tell apart)."""
    if council_id is None or not settings.councils:
        return None
    try:
        return council_by_id(settings, council_id).name
    except UnknownCouncil:
        return None


def province_ids(settings: Settings) -> tuple[str, ...]:
    """The province's staff (member ids or a chat id), role `province`."""
    return settings.province.coordinators


async def member_councils(session: AsyncSession, settings: Settings, member_pk: int) -> list[str]:
    """The councils a member belongs to (roster or a group of theirs), in config order."""
    if not settings.councils:
        return [DEFAULT_COUNCIL]
    stmt = select(CouncilMember.council_id).where(CouncilMember.member_pk == member_pk)
    found = set((await session.execute(stmt)).scalars())
    return [c.id for c in councils(settings) if c.id in found]


async def member_role(
    session: AsyncSession, settings: Settings, member: Member, council_id: str
) -> str:
    """The member's role in that council: `province` for the province's staff, a configured
    coordinator is `coordinator`, else the council's roster role (`members.role` when there is
    one council)."""
    if member.member_id and member.member_id in settings.province.coordinators:
        return "province"
    if not settings.councils:
        return member.role
    try:
        council = council_by_id(settings, council_id)
    except UnknownCouncil:
        return "member"
    if member.member_id and member.member_id in council.coordinators:
        return "coordinator"
    stmt = select(CouncilMember.role).where(
        CouncilMember.member_pk == member.id, CouncilMember.council_id == council_id
    )
    return (await session.execute(stmt)).scalar_one_or_none() or "member"


async def join_council(
    session: AsyncSession, member_pk: int, council_id: str, now: datetime, role: str = "member"
) -> None:
    """Record that a member belongs to a council (an existing row keeps its role)."""
    row = {"member_pk": member_pk, "council_id": council_id, "role": role, "created_at": now}
    await insert_new(session, CouncilMember, [row], conflict=("member_pk", "council_id"))
