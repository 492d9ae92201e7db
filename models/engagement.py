"""Queries for directives, acknowledgements, tasks and nudges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import Ack, Directive, DirectiveTarget, Group, Member, Membership, Task


def owes_ack() -> ColumnElement[bool]:
    """The one rule for who owes an acknowledgement (docs/acks-and-budget.md), over a join of
    Directive, one of its target groups' Membership and the Member.

    A roster member (role member, status member, still active) who was on the roster and in
    the group when the directive went out, and is not its issuer. Reminders, the closing
    message, the directive page and the digest all use this clause, so they cannot disagree.
    """
    return and_(
        Member.role == "member",
        Member.status == "member",
        Member.active.is_(True),
        Member.expected_since <= Directive.created_at,
        Membership.joined_at <= Directive.created_at,
        func.coalesce(Directive.issued_by, -1) != Member.id,
    )


def owed_acks_stmt() -> Select[tuple[int, int, int]]:
    """(directive_pk, group_pk, member_pk) for every directive, target group and member owing
    an ack through that group; callers narrow it to their directives with `.where`."""
    return (
        select(
            Directive.id.label("directive_pk"),
            Group.id.label("group_pk"),
            Membership.member_pk.label("member_pk"),
        )
        .join(DirectiveTarget, DirectiveTarget.directive_pk == Directive.id)
        .join(Group, Group.chat_id == DirectiveTarget.chat_id)
        .join(Membership, Membership.group_pk == Group.id)
        .join(Member, Member.id == Membership.member_pk)
        .where(owes_ack())
    )


def expected_ackers_stmt(directive_id: int) -> Select[tuple[Member]]:
    """Members who owe this directive an acknowledgement (`owes_ack`), each once."""
    owing = owed_acks_stmt().where(Directive.id == directive_id).subquery("owing")
    return select(Member).where(Member.id.in_(select(owing.c.member_pk)))


async def expected_ackers(session: AsyncSession, directive_id: int) -> list[Member]:
    return list(
        (await session.execute(expected_ackers_stmt(directive_id).order_by(Member.name))).scalars()
    )


async def ackers(session: AsyncSession, directive_id: int) -> set[int]:
    rows = await session.execute(select(Ack.member_pk).where(Ack.directive_pk == directive_id))
    return {r for (r,) in rows}


async def directive_targets(session: AsyncSession, directive_id: int) -> list[str]:
    rows = await session.execute(
        select(DirectiveTarget.chat_id)
        .where(DirectiveTarget.directive_pk == directive_id)
        .order_by(DirectiveTarget.id)
    )
    return [r for (r,) in rows]


async def open_directive_for(
    session: AsyncSession, member: Member, now: datetime, chat_id: str | None = None
) -> Directive | None:
    """The latest open directive this member is expected to acknowledge and has not yet."""
    stmt = (
        select(Directive)
        .join(DirectiveTarget, DirectiveTarget.directive_pk == Directive.id)
        .join(Group, Group.chat_id == DirectiveTarget.chat_id)
        .join(Membership, and_(Membership.group_pk == Group.id, Membership.member_pk == member.id))
        .where(
            Directive.status == "open",
            Directive.deadline_at > now,
            ~exists().where(Ack.directive_pk == Directive.id, Ack.member_pk == member.id),
        )
        .order_by(Directive.created_at.desc(), Directive.id.desc())
    )
    if chat_id is not None:
        stmt = stmt.where(DirectiveTarget.chat_id == chat_id)
    return (await session.execute(stmt)).scalars().first()


async def open_tasks(session: AsyncSession) -> list[tuple[Task, Member]]:
    stmt = (
        select(Task, Member)
        .join(Member, Member.id == Task.assignee_pk)
        .where(Task.status == "open")
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
    )
    return [(t, m) for t, m in (await session.execute(stmt)).all()]


async def addressed_directive(
    session: AsyncSession, member: Member, directive_id: int | None = None
) -> Directive | None:
    """A directive (open or closed) posted to a group of this member: the one named, else
    the latest they have not acknowledged. What a late "đã nhận" acknowledges."""
    stmt = (
        select(Directive)
        .join(DirectiveTarget, DirectiveTarget.directive_pk == Directive.id)
        .join(Group, Group.chat_id == DirectiveTarget.chat_id)
        .join(Membership, and_(Membership.group_pk == Group.id, Membership.member_pk == member.id))
        .where(Directive.status.in_(("open", "closed")))
        .order_by(Directive.created_at.desc(), Directive.id.desc())
    )
    if directive_id is not None:
        stmt = stmt.where(Directive.id == directive_id)
    else:
        stmt = stmt.where(
            ~exists().where(Ack.directive_pk == Directive.id, Ack.member_pk == member.id)
        )
    return (await session.execute(stmt)).scalars().first()
