"""The dispatcher skips hooks the event cannot concern; each such hook would have said no."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

import handlers.intents  # noqa: F401  (registers the hooks)
from handlers.clock import FixedClock
from handlers.config import load_settings
from handlers.context import Context
from handlers.events import InboundEvent
from handlers.parse import parse
from handlers.registry import HOOK_NEEDS, HOOKS, Hook, hooks_for
from models.tables import Group, Member

AT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


class Untouchable:
    """A session that fails the test if a hook reaches for it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the hook used the session ({name})")


def _ctx(private: bool, quoted: bool, text: str) -> Context:
    event = InboundEvent(
        platform="zalo_bot",
        event_name="message.text.received",
        event_key="k1",
        message_id="m1",
        chat_id="u1" if private else "g1",
        chat_type="private" if private else "group",
        sender_id="u1",
        sender_name="Lan",
        sent_at=AT,
        kind="text",
        text=text,
        quote_message_id="q1" if quoted else None,
    )
    member = Member(id=1, member_id="u1", display_name="Lan", role="coordinator", status="guest")
    return Context(
        session=Untouchable(),  # type: ignore[arg-type]
        settings=load_settings(None, environ={}),
        clock=FixedClock(AT),
        event=event,
        member=member,
        group=Group(id=1, chat_id=event.chat_id, name="", kind="council"),
        membership=None,
        message=None,
        parsed=parse(text, AT),
        text=text,
        member_created=True,
    )


async def _run(fn: Hook, ctx: Context) -> bool:
    return await fn(ctx)


def _lacks(needs: str) -> list[tuple[bool, bool]]:
    """The (private, quoted) events that do not have what a hook needs."""
    every = [(p, q) for p in (False, True) for q in (False, True)]
    has = {
        "": lambda p, q: True,
        "quote": lambda p, q: q,
        "private": lambda p, q: p,
        "private_unquoted": lambda p, q: p and not q,
    }[needs]
    return [(p, q) for p, q in every if not has(p, q)]


SKIPPABLE = [(name, fn, HOOK_NEEDS[fn]) for _order, name, fn in HOOKS if HOOK_NEEDS[fn]]


@pytest.mark.parametrize(("name", "fn", "needs"), SKIPPABLE, ids=[s[0] for s in SKIPPABLE])
@pytest.mark.parametrize("text", ["nhận việc", "đồng ý", "báo nhầm", "1", "nhờ hướng dẫn"])
def test_a_skipped_hook_would_have_said_no(name: str, fn: Hook, needs: str, text: str) -> None:
    for private, quoted in _lacks(needs):
        ctx = _ctx(private, quoted, text)
        assert asyncio.run(_run(fn, ctx)) is False, (name, private, quoted)
        assert ctx.replies == []


def test_hooks_for_keeps_the_order_and_drops_only_what_cannot_apply() -> None:
    for private in (False, True):
        for quoted in (False, True):
            kept = hooks_for(private, quoted)
            expected = [
                fn for _order, _name, fn in HOOKS if (private, quoted) not in _lacks(HOOK_NEEDS[fn])
            ]
            assert list(kept) == expected
    assert len(hooks_for(True, True)) < len(HOOKS)
    assert len(hooks_for(False, False)) == sum(1 for fn in HOOK_NEEDS.values() if not fn)
