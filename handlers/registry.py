"""The explicit tables of intent handlers and pre-routing hooks (STYLE.md 9)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from handlers.context import Context

Handler = Callable[[Context], Awaitable[None]]
Hook = Callable[[Context], Awaitable[bool]]

# What a hook needs of the event before it can apply at all: a quote-reply, a private chat,
# or a private chat without a quote. The hook checks it again first thing; the dispatcher
# skips it without running it when the event has not got it (most messages: group, unquoted).
Needs = Literal["", "quote", "private", "private_unquoted"]

# Keys: a parse type ("incident", "ack", ...), "command:<name>", or "kind:<content kind>".
HANDLERS: dict[str, Handler] = {}

# Run before routing, lowest order first; a hook returning True has handled the message
# (a reply to the bot's question, a quote-reply to a directive or an alert ...).
HOOKS: list[tuple[int, str, Hook]] = []
HOOK_NEEDS: dict[Hook, Needs] = {}
_hooks_for: dict[tuple[bool, bool], tuple[Hook, ...]] = {}


def intent(*keys: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more intent keys; a key registered twice is a bug."""

    def register(fn: Handler) -> Handler:
        for key in keys:
            if key in HANDLERS:
                raise RuntimeError(f"intent {key!r} registered twice")
            HANDLERS[key] = fn
        return fn

    return register


def hook(order: int, *, needs: Needs = "") -> Callable[[Hook], Hook]:
    """Register a pre-routing hook; `order` decides who looks first (lower first), `needs`
    says what of the event it applies to."""

    def register(fn: Hook) -> Hook:
        HOOKS.append((order, fn.__qualname__, fn))
        HOOKS.sort(key=lambda item: (item[0], item[1]))
        HOOK_NEEDS[fn] = needs
        _hooks_for.clear()
        return fn

    return register


def hooks_for(private: bool, quoted: bool) -> tuple[Hook, ...]:
    """The hooks, in order, that may apply to an event in a private chat or not, quoting a
    message or not (those whose `needs` it has)."""
    known = _hooks_for.get((private, quoted))
    if known is None:
        has: set[Needs] = {""}
        if quoted:
            has.add("quote")
        if private:
            has.add("private")
            if not quoted:
                has.add("private_unquoted")
        known = tuple(fn for _order, _name, fn in HOOKS if HOOK_NEEDS.get(fn, "") in has)
        _hooks_for[(private, quoted)] = known
    return known
