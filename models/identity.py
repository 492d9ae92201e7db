"""Linking a chat account to a coordinator's or admin's roster row, which a name never does.

A display name links only roster rows of role `member` (models/people.py). A sender named like
an unlinked coordinator or admin stays a guest with an open claim; the claim is settled by the
row's phone typed in a private chat or by an already-linked coordinator (SPEC.md 4).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.base import Base
from models.people import fold_name
from models.prefetch import (
    CLAIM_KIND,
    forget_member,
    no_open_claim,
    no_unlinked_row_named,
    note_claim,
)
from models.tables import Ack, AuditLog, Conversation, Member, Membership, Nudge

CLAIM_DAYS = 7  # long enough for a coordinator back from leave to answer
PHONE_TRIES = 3  # a roster phone is not secret: few guesses, then only a coordinator can link
PRIVILEGED = ("coordinator", "admin")


async def privileged_row_named(session: AsyncSession, display_name: str) -> Member | None:
    """The one unlinked, active coordinator/admin roster row with this name (accents optional)."""
    key = fold_name(display_name)
    if not key or no_unlinked_row_named(session, key):
        return None
    stmt = select(Member).where(
        Member.member_id.is_(None),
        Member.status == "member",
        Member.active.is_(True),
        Member.name_folded == key,
    )
    rows = list((await session.execute(stmt)).scalars())
    if len(rows) != 1 or rows[0].role not in PRIVILEGED:
        return None  # two rows of one name: nobody can tell which, so no claim at all
    return rows[0]


async def open_claim(session: AsyncSession, guest_pk: int, now: datetime) -> Conversation | None:
    """The guest's claim still waiting to be settled, if any."""
    if no_open_claim(session, guest_pk):
        return None
    stmt = (
        select(Conversation)
        .where(
            Conversation.member_pk == guest_pk,
            Conversation.kind == CLAIM_KIND,
            Conversation.status == "open",
            Conversation.expires_at > now,
        )
        .order_by(Conversation.id.desc())
    )
    return (await session.execute(stmt)).scalars().first()


async def claim_by_id(session: AsyncSession, claim_id: int, now: datetime) -> Conversation | None:
    convo = await session.get(Conversation, claim_id)
    if convo is None or convo.kind != CLAIM_KIND:
        return None
    if convo.status != "open" or convo.expires_at <= now:
        return None
    return convo


async def open_claims(session: AsyncSession, now: datetime) -> list[Conversation]:
    stmt = (
        select(Conversation)
        .where(
            Conversation.kind == CLAIM_KIND,
            Conversation.status == "open",
            Conversation.expires_at > now,
        )
        .order_by(Conversation.id)
    )
    return list((await session.execute(stmt)).scalars())


async def start_claim(
    session: AsyncSession, guest: Member, row: Member, chat_id: str, now: datetime
) -> Conversation:
    claim = Conversation(
        chat_id=chat_id,
        member_pk=guest.id,
        kind=CLAIM_KIND,
        ref_id=row.id,
        status="open",
        data={"display_name": guest.display_name, "tries": 0},
        created_at=now,
        expires_at=now + timedelta(days=CLAIM_DAYS),
    )
    session.add(claim)
    await session.flush()
    note_claim(session, guest.id)
    return claim


async def link_account(
    session: AsyncSession, guest: Member, row: Member, *, via: str, actor: str, now: datetime
) -> bool:
    """The guest's account becomes the roster row: id, private chat and history move over.

    Every claim on the row is closed (a second claimant of the same name stays a guest).
    False, with nothing changed, if the row was linked or removed meanwhile."""
    # Locked on PostgreSQL: two coordinators confirming at once link it once.
    still_free = await session.execute(
        select(Member.id)
        .where(Member.id == row.id, Member.member_id.is_(None), Member.active.is_(True))
        .with_for_update()
    )
    if still_free.scalar_one_or_none() is None:
        return False
    platform_id = guest.member_id
    private_chat = guest.private_chat_id
    guest.member_id = None
    await session.flush()  # member_id is unique: free it before the row takes it
    await _move_history(session, guest.id, row.id)
    row.member_id = platform_id
    row.display_name = guest.display_name
    row.private_chat_id = private_chat or row.private_chat_id
    if guest.last_active_at and (
        row.last_active_at is None or guest.last_active_at > row.last_active_at
    ):
        row.last_active_at = guest.last_active_at
    await session.execute(
        update(Conversation)
        .where(
            Conversation.kind == CLAIM_KIND,
            Conversation.status == "open",
            Conversation.ref_id == row.id,
        )
        .values(status="done")
    )
    session.add(
        AuditLog(
            at=now,
            actor=actor,
            action="link_account",
            detail={"member": row.id, "member_id": platform_id, "via": via, "guest": guest.id},
        )
    )
    guest_pk = guest.id
    await session.delete(guest)
    await session.flush()
    forget_member(session, guest_pk)
    return True


async def _move_history(session: AsyncSession, old: int, new: int) -> None:
    """Re-point every reference to member `old` at member `new`, duplicates merged first."""
    mine, theirs = aliased(Membership), aliased(Membership)
    pairs = (
        await session.execute(
            select(mine, theirs)
            .join(theirs, and_(theirs.group_pk == mine.group_pk, theirs.member_pk == new))
            .where(mine.member_pk == old)
        )
    ).all()
    for guest_ms, row_ms in pairs:
        seen = guest_ms.last_active_at
        if seen and (row_ms.last_active_at is None or seen > row_ms.last_active_at):
            row_ms.last_active_at = seen
        await session.delete(guest_ms)
    await session.flush()
    # The row's own acknowledgement or nudge of the same thing wins over the guest's.
    other_ack = aliased(Ack)
    await session.execute(
        delete(Ack)
        .where(
            Ack.member_pk == old,
            exists().where(other_ack.member_pk == new, other_ack.directive_pk == Ack.directive_pk),
        )
        .execution_options(synchronize_session=False)
    )
    other_nudge = aliased(Nudge)
    await session.execute(
        delete(Nudge)
        .where(
            Nudge.member_pk == old,
            exists().where(
                other_nudge.member_pk == new,
                other_nudge.week == Nudge.week,
                other_nudge.level == Nudge.level,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        for key, column in mapper.columns.items():
            if any(fk.target_fullname == "members.id" for fk in column.foreign_keys):
                attr = getattr(cls, key)
                await session.execute(
                    update(cls)
                    .where(attr == old)
                    .values({key: new})
                    .execution_options(synchronize_session="evaluate")
                )
