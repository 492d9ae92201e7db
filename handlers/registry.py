"""The explicit tables of intent handlers and pre-routing hooks (STYLE.md 9)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.context import Context

Handler = Callable[[Context], Awaitable[None]]
Hook = Callable[[Context], Awaitable[bool]]

# Keys: a parse type ("incident", "ack", ...), "command:<name>", or "kind:<content kind>".
HANDLERS: dict[str, Handler] = {}

# Run before routing, lowest order first; a hook returning True has handled the message
# (a reply to the bot's question, a quote-reply to a directive or an alert ...).
HOOKS: list[tuple[int, str, Hook]] = []


def intent(*keys: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more intent keys; a key registered twice is a bug."""

    def register(fn: Handler) -> Handler:
        for key in keys:
            if key in HANDLERS:
                raise RuntimeError(f"intent {key!r} registered twice")
            HANDLERS[key] = fn
        return fn

    return register


def hook(order: int) -> Callable[[Hook], Hook]:
    """Register a pre-routing hook; `order` decides who looks first (lower first)."""

    def register(fn: Hook) -> Hook:
        HOOKS.append((order, fn.__qualname__, fn))
        HOOKS.sort(key=lambda item: (item[0], item[1]))
        return fn

    return register
