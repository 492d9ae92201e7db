"""`antt-bot demo`: a Zalo-like chat page in the browser with the real bot behind it."""

from bot.demo.server import DEMO, DemoState, DemoStore, install_demo

__all__ = ["DEMO", "DemoState", "DemoStore", "install_demo"]
