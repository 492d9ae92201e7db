"""Intent handlers; importing this package registers them all in handlers.registry."""

from handlers.intents import basic  # noqa: F401
