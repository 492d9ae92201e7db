"""The event loop `serve` runs (bot/connections.py): uvloop's on Linux when installed and
wanted, asyncio's otherwise, said at start-up; the loop's services the app uses work on it."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import pytest

from bot.connections import loop_factory, run_loop
from handlers.config import load_settings


def test_setting_defaults_on_and_the_environment_turns_it_off() -> None:
    assert load_settings(None, environ={}).server.uvloop is True
    off = load_settings(None, environ={"ANTT_SERVER__UVLOOP": "false"})
    assert off.server.uvloop is False


def test_turned_off_runs_asyncios_loop(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="bot.connections"):
        assert loop_factory(uvloop=False, announce=True) is None
    assert "event loop: asyncio's (server.uvloop is off)" in caplog.messages

    async def kind() -> type:
        return type(asyncio.get_running_loop())

    assert not run_loop(kind(), uvloop=False).__module__.startswith("uvloop")


def test_missing_uvloop_falls_back_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` raises ImportError
    with caplog.at_level(logging.INFO, logger="bot.connections"):
        assert loop_factory(announce=True) is None
    [record] = [r for r in caplog.records if r.name == "bot.connections"]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "event loop: asyncio's (uvloop is not installed)"


def test_not_linux_runs_asyncios_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert loop_factory() is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uvloop is used on Linux only")
def test_uvloop_runs_what_the_app_needs(caplog: pytest.LogCaptureFixture) -> None:
    """Threads (SQLite's commits, exports), executors and signal handlers, on uvloop."""
    uvloop = pytest.importorskip("uvloop")
    with caplog.at_level(logging.INFO, logger="bot.connections"):
        assert loop_factory(announce=True) is uvloop.new_event_loop
    assert caplog.messages == [f"event loop: uvloop {uvloop.__version__}"]

    async def main() -> tuple[str, int, int, bool]:
        loop = asyncio.get_running_loop()
        threaded = await asyncio.to_thread(lambda: 6 * 7)
        executed = await loop.run_in_executor(None, sum, [1, 2, 3])
        got = asyncio.Event()
        loop.add_signal_handler(signal.SIGUSR1, got.set)
        try:
            signal.raise_signal(signal.SIGUSR1)
            await asyncio.wait_for(got.wait(), 5)
        finally:
            loop.remove_signal_handler(signal.SIGUSR1)
        return type(loop).__module__, threaded, executed, got.is_set()

    module, threaded, executed, signalled = run_loop(main())
    assert module.startswith("uvloop")
    assert (threaded, executed, signalled) == (42, 6, True)
