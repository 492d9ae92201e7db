"""Queries over members' requests (YCn): open ones, old ones, one by id (never commit)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import Member, MemberRequest, Outbox


async def get_request(
    session: AsyncSession, request_id: int, *, lock: bool = False
) -> MemberRequest | None:
    stmt = select(MemberRequest).where(MemberRequest.id == request_id)
    if lock:
        stmt = stmt.with_for_update()  # two coordinators answering at once: one wins
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_requests(
    session: AsyncSession,
    *,
    asked_before: datetime | None = None,
    member_pk: int | None = None,
    limit: int = 50,
) -> list[tuple[MemberRequest, Member | None]]:
    """Unanswered requests, oldest first, with who asked."""
    stmt = (
        select(MemberRequest, Member)
        .outerjoin(Member, Member.id == MemberRequest.member_pk)
        .where(MemberRequest.status == "open")
        .order_by(MemberRequest.asked_at, MemberRequest.id)
        .limit(limit)
    )
    if asked_before is not None:
        stmt = stmt.where(MemberRequest.asked_at <= asked_before)
    if member_pk is not None:
        stmt = stmt.where(MemberRequest.member_pk == member_pk)
    return [(r, m) for r, m in (await session.execute(stmt)).all()]


async def recent_open_request(
    session: AsyncSession, member_pk: int, chat_id: str, since: datetime
) -> MemberRequest | None:
    """The member's newest open request asked in this chat since `since`."""
    stmt = (
        select(MemberRequest)
        .where(
            MemberRequest.member_pk == member_pk,
            MemberRequest.chat_id == chat_id,
            MemberRequest.status == "open",
            MemberRequest.asked_at >= since,
        )
        .order_by(MemberRequest.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalars().first()


async def forwarded_chats(session: AsyncSession, request_id: int) -> list[str]:
    """The chats the request was forwarded to (its first forward rows, not follow-ups)."""
    stmt = (
        select(Outbox.chat_id)
        .where(
            Outbox.ref_type == "request",
            Outbox.ref_id == request_id,
            Outbox.kind == "request",
            Outbox.idempotency_key.like(f"request:{request_id}:%"),
        )
        .order_by(Outbox.id)
    )
    return list(dict.fromkeys((await session.execute(stmt)).scalars()))


async def open_since(session: AsyncSession, since: datetime) -> list[MemberRequest]:
    """Unanswered requests asked at or after `since`, oldest first."""
    stmt = (
        select(MemberRequest)
        .where(MemberRequest.status == "open", MemberRequest.asked_at >= since)
        .order_by(MemberRequest.asked_at, MemberRequest.id)
    )
    return list((await session.execute(stmt)).scalars())


async def held_forwards(session: AsyncSession, request_id: int, now: datetime) -> list[Outbox]:
    """The request's forwards (and follow-ups) still waiting for a later hour (the morning)."""
    stmt = select(Outbox).where(
        Outbox.ref_type == "request",
        Outbox.ref_id == request_id,
        Outbox.kind == "request",
        Outbox.status == "pending",
        Outbox.next_attempt_at > now,
    )
    return list((await session.execute(stmt)).scalars())


async def forwarded_to_member(session: AsyncSession, request_id: int, member_pk: int) -> bool:
    """Was the question forwarded to this person privately (so theirs to answer too)?"""
    stmt = select(Outbox.id).where(
        Outbox.ref_type == "request",
        Outbox.ref_id == request_id,
        Outbox.member_pk == member_pk,
        Outbox.idempotency_key.like(f"request:{request_id}:%"),
    )
    return (await session.execute(stmt.limit(1))).first() is not None
