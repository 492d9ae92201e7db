"""Queries over members' requests (YCn): open ones, old ones, one by id (never commit)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import Member, MemberRequest


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
