"""Naming an alert's targets reads the people and the groups once for all the targets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.intents.incidents.alerts import Reach, _name_targets
from handlers.intents.incidents.understanding import name_of
from models.tables import Group, Member
from tests.conftest import Bot

AT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


async def _named_one_by_one(session: AsyncSession, targets: list[tuple[str, int | None]]) -> Reach:
    """The names as two reads per target would give them (the way it was written first)."""
    reach = Reach(targets=list(targets))
    for chat, pk in targets:
        person = await session.get(Member, pk) if pk is not None else None
        if person is None:
            stmt = select(Member).where(Member.private_chat_id == chat).order_by(Member.id)
            person = (await session.execute(stmt)).scalars().first()
        if person is not None:
            reach.people.append(name_of(person))
            continue
        group = (
            await session.execute(select(Group).where(Group.chat_id == chat))
        ).scalar_one_or_none()
        reach.groups.append(group.name if group is not None and group.name else "điều phối")
    return reach


def _member(n: int, **kw: Any) -> Member:
    return Member(
        member_id=f"u{n}",
        name=f"Nguyễn Văn {n}",
        title="anh",
        display_name=f"Văn {n}",
        created_at=AT,
        expected_since=AT,
        **kw,
    )


async def test_targets_are_named_as_one_by_one_in_a_few_reads(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    bot: Bot = await make_bot(make_settings(db=db_url))
    async with bot.sessions() as session, session.begin():
        groups = [
            Group(chat_id=f"g{n}", name=f"Tổ {n}" if n % 3 else "", kind="council", created_at=AT)
            for n in range(40)
        ]
        people = [_member(n, private_chat_id=f"p{n}") for n in range(20)]
        session.add_all([*groups, *people])
        await session.flush()
        targets: list[tuple[str, int | None]] = [
            (f"p{n}", people[n].id if n % 2 else None) for n in range(20)
        ]
        targets += [(f"g{n}", None) for n in range(40)]
        targets += [("nowhere", None), ("p3", None), ("g5", people[4].id)]
        expected = await _named_one_by_one(session, targets)

        statements: list[str] = []

        def count(_c: Any, _cur: Any, sql: str, *_rest: Any) -> None:
            statements.append(sql)

        engine = session.bind.sync_engine  # type: ignore[union-attr]
        event.listen(engine, "before_cursor_execute", count)
        try:
            reach = Reach(targets=list(targets))
            await _name_targets(session, reach)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert (reach.people, reach.groups) == (expected.people, expected.groups)
    assert len(reach.people) == 22 and "điều phối" in reach.groups
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
