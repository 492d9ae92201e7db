"""The explicit table of intent handlers (STYLE.md 9): one async function per intent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.context import Context

Handler = Callable[[Context], Awaitable[None]]

# Keys: a parse type ("incident", "ack", ...), "command:<name>", or "kind:<content kind>".
HANDLERS: dict[str, Handler] = {}


def intent(*keys: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more intent keys; a key registered twice is a bug."""

    def register(fn: Handler) -> Handler:
        for key in keys:
            if key in HANDLERS:
                raise RuntimeError(f"intent {key!r} registered twice")
            HANDLERS[key] = fn
        return fn

    return register
