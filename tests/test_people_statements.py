"""What one event costs the database inside a processor slice (issue 17 item 6): the
statements it runs itself, and no row left for the unit of work to write.

A regular's check-in, a newcomer's first check-in in a group and a newcomer's first private
message are handled in one slice (the slice's look-ups are read before them). Each
record is written by one INSERT (models/inserts.write_row) and nothing is written twice:
an ORM `add` + `flush`, an UPDATE after an INSERT (the message's council, a new member's
private chat) or a look-up of a known row would show here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

import bot.processor as processor_module
from bot import keys
from models.tables import CheckIn, Member, Membership, Message, Outbox
from tests.conftest import T0, Bot, text_event

GROUP = "g1"


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    settings = make_settings(
        db=db_url,
        platform={"kind": "zalo_bot"},
        groups=[{"chat_id": GROUP, "name": "Tổ bảo vệ", "kind": "council"}],
    )
    return await make_bot(settings)


def _kind(sql: str) -> str:
    """A statement's verb and, for a write, its table ("INSERT messages", "SELECT", ...)."""
    words = re.sub(r"\s+", " ", sql).strip().split(" ")
    verb = words[0].upper()
    if verb == "INSERT":
        return f"INSERT {words[2]}"
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    if verb == "RELEASE":
        return "RELEASE"
    return verb


@contextmanager
def watched(bot: Bot) -> Iterator[tuple[list[str], list[str]]]:
    """The statements run (by kind) and the rows the unit of work was asked to write."""
    statements: list[str] = []
    flushed: list[str] = []
    engine = bot.app[keys.SESSIONS].kw["bind"].sync_engine

    def on_statement(_c: Any, _cur: Any, sql: str, *_rest: Any) -> None:
        statements.append(_kind(sql))

    def on_flush(session: Session, _ctx: Any, _instances: Any) -> None:
        flushed.extend(f"new {type(o).__name__}" for o in session.new)
        flushed.extend(
            f"changed {type(o).__name__}" for o in session.dirty if session.is_modified(o)
        )

    sa_event.listen(engine, "before_cursor_execute", on_statement)
    sa_event.listen(Session, "before_flush", on_flush)
    try:
        yield statements, flushed
    finally:
        sa_event.remove(engine, "before_cursor_execute", on_statement)
        sa_event.remove(Session, "before_flush", on_flush)


EVENT, END = "-- event --", "-- slice's own writes --"  # markers (tests only)


def mark_events(monkeypatch: Any, statements: list[str]) -> None:
    """Note where each event starts and where the slice's own writes begin: a healthy
    slice has no savepoint around its events to tell them apart (optimistic slices)."""
    handle = processor_module.Processor._handle_plain
    write_activity = processor_module.write_activity

    async def marked(self: Any, *args: Any) -> None:
        statements.append(EVENT)
        await handle(self, *args)

    async def slice_end(session: Any) -> None:
        statements.append(END)
        await write_activity(session)

    monkeypatch.setattr(processor_module.Processor, "_handle_plain", marked)
    monkeypatch.setattr(processor_module, "write_activity", slice_end)


def per_event(statements: list[str]) -> list[list[str]]:
    """The statements of each event, in order (the slice's own writes excluded)."""
    events: list[list[str]] = []
    current: list[str] | None = None
    for kind in statements:
        if kind == EVENT:
            current = []
            events.append(current)
        elif kind == END:
            current = None
        elif current is not None:
            current.append(kind)
    return events


async def test_an_events_own_statements_in_a_slice(bot: Bot, monkeypatch: Any) -> None:
    """Anh Tuấn (known) checks in, then chị Lan (new) in the group, then anh Nam (new) asks
    for the guide privately: three, five and six statements, each record once."""
    monkeypatch.setattr(processor_module, "SLICE_SECONDS", 60.0)  # a loaded machine is slow
    await bot.deliver(
        text_event("xin chào", sender="tuan", name="Trần Văn Tuấn", chat=GROUP, group=True)
    )
    await bot.drain()
    events = [
        # The first of the slice pays the slice's reads of recent check-ins and replies.
        text_event("có mặt", sender="hoa", name="Phạm Thị Hoa", chat=GROUP, group=True),
        text_event("có mặt", sender="tuan", name="Trần Văn Tuấn", chat=GROUP, group=True),
        text_event("có mặt", sender="lan", name="Lê Thị Lan", chat=GROUP, group=True),
        text_event("/huongdan", sender="nam", name="Đỗ Văn Nam"),
    ]
    for body in events:
        assert (await bot.deliver(body))[0] == 200
    with watched(bot) as (statements, flushed):
        mark_events(monkeypatch, statements)
        assert await bot.runtime.processor.run_once() == 4
    handled = per_event(statements)
    assert len(handled) == 4, statements
    regular, newcomer, private = handled[1:]
    assert regular == ["INSERT messages", "INSERT checkins", "INSERT outbox"]
    assert newcomer == [
        "INSERT members",
        "INSERT memberships",
        "INSERT messages",
        "INSERT checkins",
        "INSERT outbox",
    ]
    assert private == [
        "INSERT groups",
        "INSERT members",  # with its private chat: no UPDATE after
        "INSERT memberships",
        "INSERT messages",
        "INSERT outbox",  # the guide
        "INSERT outbox",  # the guest's note
    ]
    assert flushed == []  # every row went in by its own INSERT

    # What was stored is what the unit of work stored before.
    async with bot.sessions() as s:
        nam = (await s.execute(select(Member).where(Member.member_id == "nam"))).scalar_one()
        assert (nam.private_chat_id, nam.status, nam.last_active_at) == ("nam", "guest", T0)
        kinds = [k for (k,) in (await s.execute(select(CheckIn.kind).order_by(CheckIn.id))).all()]
        assert kinds == ["attendance", "attendance", "attendance"]
        messages = list((await s.execute(select(Message).order_by(Message.id))).scalars())
        assert [(m.member_id, m.council_id, m.type) for m in messages[1:]] == [
            ("hoa", "default", "check_in"),
            ("tuan", "default", "check_in"),
            ("lan", "default", "check_in"),
            ("nam", "default", "command"),
        ]
        checkin_messages = (
            await s.execute(select(CheckIn.message_pk).order_by(CheckIn.id))
        ).scalars()
        assert list(checkin_messages) == [m.id for m in messages[1:4]]
        memberships = (await s.execute(select(Membership.last_active_at))).scalars()
        assert set(memberships) == {T0}
        replies = (await s.execute(select(Outbox.chat_id).order_by(Outbox.id))).scalars()
        assert list(replies) == [GROUP, GROUP, GROUP, "nam", "nam"]
