"""Groups, members and memberships: who is where, and when the bot last saw them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_state

from models.inserts import insert_new, write_row
from models.prefetch import (
    adopt,
    certainly_new_group,
    certainly_new_member,
    defer_activity,
    known_ids,
    no_membership,
    no_unlinked_row_named,
    note_new_member,
)
from models.tables import DEFAULT_COUNCIL, CouncilMember, Group, Member, Membership


@lru_cache(maxsize=4096)
def fold_name(text: str) -> str:
    """Lower-case, diacritics removed, đ -> d: the key for accent-insensitive name lookups.
    Kept for recent names: a slice folds each sender's name for its look-ups, then again
    for the event (a per-character pass, about 45 characters an event)."""
    if text.isascii():  # nothing to decompose or drop
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


DEFAULT_TITLE = "anh/chị"


def address(member: Member) -> str:
    """How the bot speaks of someone: title and given name ("chị Lan"; "anh/chị Lan" when the
    roster gives no title). A guest's Zalo name is kept whole: it may not be a real name."""
    title = member.title or DEFAULT_TITLE
    name = member.name or member.display_name
    if not name:
        return title
    return f"{title} {name.split()[-1] if member.status == 'member' else name}"


def title_of(member: Member) -> str:
    """The word to thank or address someone with once named: "chị", "đồng chí", else
    "anh/chị" ("Đã ghi nhận chị Lan ... Cảm ơn chị!", never "chị Lan ... anh/chị")."""
    return member.title or DEFAULT_TITLE


def address_full(member: Member) -> str:
    """Title and full name ("chị Lê Thị Lan"): where people must be told apart (lists, alerts)."""
    name = member.name or member.display_name or member.member_id or "?"
    return f"{member.title or DEFAULT_TITLE} {name}"


def capitalized(text: str) -> str:
    """For an address opening a sentence: "Chị Lan đã ..."."""
    return text[:1].upper() + text[1:]


async def _remembered(session: AsyncSession, model: type[Any], key: tuple[Any, ...]) -> Any:
    """The row remembered under `key`, from the identity map; None if not remembered."""
    pk = known_ids(session).get(key)
    if pk is None:
        return None
    # A loaded row is taken as it is: session.get would cost a trip through the greenlet
    # (three per event). An expired one (after a rolled-back savepoint) is read again.
    row = session.identity_map.get((_identity_class(model), (pk,), None))
    if row is not None and not instance_state(row).expired_attributes:
        return row
    return await session.get(model, pk)


_IDENTITY_CLASSES: dict[type[Any], type[Any]] = {}


def _identity_class(model: type[Any]) -> type[Any]:
    """The class in the identity keys of the model's rows (what `identity_key` builds, the
    mapper looked up once rather than per call)."""
    found = _IDENTITY_CLASSES.get(model)
    if found is None:
        found = _IDENTITY_CLASSES[model] = sa_inspect(model)._identity_class
    return found


async def get_or_create_group(
    session: AsyncSession,
    chat_id: str,
    *,
    now: datetime,
    name: str = "",
    kind: str = "council",
    enterprise: str | None = None,
) -> Group:
    key = ("group", chat_id)
    group = await _remembered(session, Group, key)
    if group is not None and group.chat_id == chat_id:  # the id may have been reused
        return group
    group = None
    if not certainly_new_group(session, chat_id):
        group = (
            await session.execute(select(Group).where(Group.chat_id == chat_id))
        ).scalar_one_or_none()
    if group is None:
        group = await write_row(
            session,
            Group(
                chat_id=chat_id,
                name=name or chat_id,
                kind=kind,
                enterprise=enterprise,
                created_at=now,
            ),
        )
    known_ids(session)[key] = group.id
    return group


async def member_by_platform_id(session: AsyncSession, member_id: str) -> Member | None:
    key = ("member", member_id)
    member = await _remembered(session, Member, key)
    if member is not None and member.member_id == member_id:
        return member
    stmt = select(Member).where(Member.member_id == member_id)
    member = (await session.execute(stmt)).scalar_one_or_none()
    if member is not None:
        known_ids(session)[key] = member.id
    return member


# Every column of a member row (attribute names are the column names): what a new row's
# INSERT returns.
MEMBER_COLUMNS = tuple(c.key for c in sa_inspect(Member).column_attrs)


async def get_or_create_member(
    session: AsyncSession,
    member_id: str,
    *,
    display_name: str,
    now: datetime,
    private_chat_id: str | None = None,
) -> tuple[Member, bool]:
    """The member behind a platform id; a stranger becomes a guest. Returns (member, created).
    A stranger writing privately gets `private_chat_id` in the new row (no UPDATE after).

    The roster often lacks Zalo ids (nobody knows them before the first message): a first
    sender whose name matches exactly one unlinked roster member, accent-insensitively,
    is that member. Only a row of role `member`: a name is no proof of being a coordinator
    or admin (models/identity.py links those).
    """
    member = None
    if not certainly_new_member(session, member_id):
        member = await member_by_platform_id(session, member_id)
    if member is not None:
        if display_name and member.display_name != display_name:
            member.display_name = display_name
        return member, False
    key = fold_name(display_name)
    if key and not no_unlinked_row_named(session, key):
        stmt = select(Member).where(
            Member.member_id.is_(None),
            Member.status == "member",
            Member.active.is_(True),
            Member.name_folded == key,
        )
        found = list((await session.execute(stmt)).scalars())
        # Counted before the role check: with two rows of one name, nobody can tell which.
        if len(found) == 1 and found[0].role == "member":
            found[0].member_id = member_id
            found[0].display_name = display_name
            return found[0], False
    # ON CONFLICT: the same stranger writing in two chats at once is handled by two workers
    # (or two instances); the second insert waits for the first and then finds its row,
    # instead of failing the event and holding it back behind the chat's later events.
    row = {
        "member_id": member_id,
        "name": display_name or member_id,
        "display_name": display_name,
        "name_folded": key if display_name else fold_name(member_id),
        "role": "member",
        "status": "guest",
        "is_lead": False,
        "active": True,
        "created_at": now,
        "expected_since": now,
        "private_chat_id": private_chat_id,
    }
    new = await insert_new(
        session, Member, [row], conflict=("member_id",), returning=MEMBER_COLUMNS
    )
    if new:
        # The row as written comes back whole: it joins the session with no read of its own.
        member = Member(**dict(zip(MEMBER_COLUMNS, new[0], strict=True)))
        adopt(session, member)
        known_ids(session)[("member", member_id)] = member.id
        note_new_member(session, member.id)
        return member, True
    member = await member_by_platform_id(session, member_id)
    if member is None:  # cannot happen: the row is committed by the other writer
        raise LookupError(member_id)
    return member, False


async def ensure_membership(
    session: AsyncSession,
    member: Member,
    group: Group,
    *,
    now: datetime,
    from_roster: bool = False,
) -> Membership:
    key = ("membership", member.id, group.id)
    ms = await _remembered(session, Membership, key)
    if ms is None and no_membership(session, member.id, group.id):
        pass  # known from the slice's look-ups (models/prefetch.py)
    elif ms is None or (ms.member_pk, ms.group_pk) != (member.id, group.id):
        stmt = select(Membership).where(
            Membership.member_pk == member.id, Membership.group_pk == group.id
        )
        ms = (await session.execute(stmt)).scalar_one_or_none()
    if ms is None:
        ms = await write_row(
            session,
            Membership(
                member_pk=member.id, group_pk=group.id, joined_at=now, from_roster=from_roster
            ),
        )
    elif from_roster and not ms.from_roster:
        ms.from_roster = True
    known_ids(session)[key] = ms.id
    return ms


async def touch_activity(
    session: AsyncSession, member: Member, membership: Membership | None, at: datetime
) -> None:
    """Record an interaction; never moves last activity backwards (late redeliveries).
    In a processor slice the writes wait for the slice's end (models/prefetch.py)."""
    for row in (member, membership):
        if row is None or defer_activity(session, row, at):
            continue
        if row.last_active_at is None or at > row.last_active_at:
            row.last_active_at = at


async def mark_private_chat(session: AsyncSession, member: Member, chat_id: str) -> None:
    if member.private_chat_id != chat_id:
        member.private_chat_id = chat_id  # written with the event's other changes


# Where a member without a private chat is written to: his own enterprise's team group,
# then any team group, a fire-safety cluster, the council group (docs/people.md).
GROUP_ORDER = ("enterprise", "fire_safety", "council")


def home_group(groups: Iterable[Group], enterprise: str | None = None) -> Group | None:
    """The group that is most his own among `groups`: his enterprise's team first."""

    def rank(g: Group) -> tuple[int, int, int]:
        kind = GROUP_ORDER.index(g.kind) if g.kind in GROUP_ORDER else len(GROUP_ORDER)
        theirs = not (
            enterprise and g.enterprise and fold_name(g.enterprise) == fold_name(enterprise)
        )
        return (kind, int(theirs), g.id)

    found = sorted((g for g in groups if g.kind != "private"), key=rank)
    return found[0] if found else None


async def groups_of(session: AsyncSession, member: Member) -> list[Group]:
    """The groups the bot knows `member` is in (roster or seen there), private chats aside."""
    rows = await session.execute(
        select(Group)
        .join(Membership, Membership.group_pk == Group.id)
        .where(Membership.member_pk == member.id, Group.kind != "private")
        .order_by(Group.id)
    )
    return list(rows.scalars())


async def reaching(
    session: AsyncSession, member: Member, given_in: str | None = None
) -> tuple[str | None, Group | None]:
    """Where a notice meant for `member` alone can reach him: his private chat; else his home
    group (returned too, to tell the sender where it went); else `given_in` if that chat is a
    group. (None, None) when the bot knows no way to him."""
    if member.private_chat_id:
        return member.private_chat_id, None
    group = home_group(await groups_of(session, member), member.enterprise)
    if group is not None:
        return group.chat_id, group
    if given_in:
        kind = (
            await session.execute(select(Group.kind).where(Group.chat_id == given_in))
        ).scalar_one_or_none()
        if kind is not None and kind != "private":
            return given_in, None
    return None, None


async def is_in_group(session: AsyncSession, member: Member, chat_id: str) -> bool:
    """Does the bot know `member` is in the group `chat_id`?"""
    found = await session.execute(
        select(Membership.id)
        .join(Group, Group.id == Membership.group_pk)
        .where(Membership.member_pk == member.id, Group.chat_id == chat_id)
        .limit(1)
    )
    return found.first() is not None


async def coordinators(
    session: AsyncSession, configured: tuple[str, ...], council_id: str | None = None
) -> tuple[list[Member], list[str]]:
    """Who gets alerts and digests: roster coordinators/admins and `coordinators` config entries.

    Returns (members, chat ids): a configured id that is a member's id counts as that member;
    any other configured id is a coordinators' group chat. With `council_id` (several parks),
    the roster's coordinators are that council's (council_members), not everyone's.
    """
    stmt = select(Member).where(Member.active.is_(True), Member.role.in_(("coordinator", "admin")))
    if council_id is not None:
        stmt = (
            select(Member)
            .join(CouncilMember, CouncilMember.member_pk == Member.id)
            .where(
                Member.active.is_(True),
                CouncilMember.council_id == council_id,
                CouncilMember.role.in_(("coordinator", "admin")),
            )
        )
    members = {m.id: m for m in (await session.execute(stmt)).scalars()}
    chats: list[str] = []
    for ident in configured:
        m = await member_by_platform_id(session, ident)
        if m is not None:
            members.setdefault(m.id, m)
        elif ident not in chats:
            chats.append(ident)
    return sorted(members.values(), key=lambda m: m.id), chats


async def sync_configured_groups(
    session: AsyncSession,
    groups: Iterable[Any],
    now: datetime,
    councils: Mapping[str, str] | None = None,
) -> None:
    """Configured groups (objects with chat_id, name, kind, enterprise) exist as configured,
    each in its council (`councils`: chat id -> council id; `default` when not given)."""
    councils = councils or {}
    for g in groups:
        row = (
            await session.execute(select(Group).where(Group.chat_id == g.chat_id))
        ).scalar_one_or_none()
        council = councils.get(g.chat_id, DEFAULT_COUNCIL)
        if row is None:
            # ON CONFLICT: two `serve` processes starting at once both add the configured
            # groups; the second waits for the first's row instead of failing to start.
            new = {"chat_id": g.chat_id, "name": g.name, "kind": g.kind}
            new |= {"enterprise": g.enterprise, "created_at": now, "council_id": council}
            await insert_new(session, Group, [new], conflict=("chat_id",))
            stmt = select(Group).where(Group.chat_id == g.chat_id)
            row = (await session.execute(stmt)).scalar_one()
        row.name, row.kind, row.enterprise = g.name, g.kind, g.enterprise
        row.council_id = council
    await session.flush()


async def members_by_mention(session: AsyncSession, words: list[str]) -> tuple[list[Member], int]:
    """Who "@words..." names: an exact full name (accents optional, the longest run of up to 5
    words), else from one word a given name, a member id or a phone. Never a middle name or
    a prefix: a task must not go to a guess. Returns (candidates, words used)."""
    from models.roster import normalize_phone  # roster imports this module
    from models.scoping import members_here  # scoping imports the tables this module uses

    if not words:
        return [], 0
    stmt = select(Member).where(
        Member.active.is_(True), Member.status == "member", *members_here(session)
    )
    roster = list((await session.execute(stmt)).scalars())
    first = words[0].lstrip("@")
    for k in range(min(5, len(words)), 1, -1):
        key = fold_name(" ".join([first, *words[1:k]])).rstrip(".,:;!?")
        exact = [m for m in roster if m.name_folded == key]
        if exact:
            return exact, k
    for k in range(min(4, len(words)), 0, -1):  # a phone may be typed in groups: 0901 000 004
        digits = "".join([first, *words[1:k]])
        if re.fullmatch(r"\+?[\d.]+[.,:;!?]?", digits) and (phone := normalize_phone(digits)):
            by_phone = [m for m in roster if m.phone == phone]
            if by_phone:
                return by_phone, k
    bare = first.rstrip(".,:;!?")
    key = fold_name(bare)
    hits = [
        m
        for m in roster
        if m.name_folded == key
        or (key and m.name_folded.rsplit(" ", 1)[-1] == key)
        or (m.member_id is not None and m.member_id == bare)
    ]
    return (hits, 1) if hits else ([], 0)
