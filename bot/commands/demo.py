"""`antt-bot demo`: the real server on the local platform, with the chat page (SPEC.md 6)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import sys
import tempfile
import threading
import webbrowser
from pathlib import Path

from aiohttp import web

from bot.app import create_app
from bot.cli import EXIT_OK, command
from bot.demo import DemoState, DemoStore, data, install_demo
from bot.listen import bind
from bot.logs import setup_logging
from handlers.clock import SystemClock
from handlers.config import Settings, config_path, load_settings


def demo_settings(args: argparse.Namespace, data_dir: Path, public_url: str) -> Settings:
    """The loaded configuration with the demo's database, groups, platform and password."""
    db_url = f"sqlite+aiosqlite:///{(data_dir / data.DB_FILE).resolve()}"
    return load_settings(
        config_path(getattr(args, "config", None)),
        overrides=data.settings_overrides(db_url, public_url),
    )


def open_browser(url: str) -> None:
    """Open the page if this machine has a browser; never fail the demo over it."""

    def run() -> None:
        with contextlib.suppress(Exception):
            webbrowser.open(url)

    threading.Thread(target=run, name="open-browser", daemon=True).start()


@command("demo")
def demo(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        if args.data_dir:
            data_dir = Path(args.data_dir)
            data_dir.mkdir(parents=True, exist_ok=True)
        else:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="antt-demo-")))
        sock = stack.enter_context(bind(args.host, args.port))
        port = sock.getsockname()[1]
        shown_host = "127.0.0.1" if args.host in ("", "0.0.0.0", "::") else args.host
        if ":" in shown_host:
            shown_host = f"[{shown_host}]"
        base = f"http://{shown_host}:{port}"
        settings = demo_settings(args, data_dir, base)
        # JSON logs at INFO would bury the URL; the demo shows warnings and errors only.
        setup_logging("WARNING" if settings.log_level == "INFO" else settings.log_level)
        where = str(data_dir) if args.data_dir else f"{data_dir} (deleted when the demo stops)"
        asyncio.run(run_demo(settings, sock, base, where, browser=not args.no_browser))
    return EXIT_OK


async def run_demo(
    settings: Settings, sock: socket.socket, base: str, where: str, *, browser: bool
) -> None:
    """Build the app around a movable clock, install the demo, and serve until a signal."""
    clock = SystemClock()
    app = create_app(settings, clock=clock, local_store=DemoStore(clock=clock))
    install_demo(app, DemoState(clock=clock))
    await serve_until_stopped(app, sock, base, settings, where, browser=browser)


async def serve_until_stopped(
    app: web.Application,
    sock: socket.socket,
    base: str,
    settings: Settings,
    where: str,
    *,
    browser: bool,
) -> None:
    runner = web.AppRunner(app, shutdown_timeout=5)
    await runner.setup()
    try:
        await web.SockSite(runner, sock, shutdown_timeout=5).start()
        password = settings.dashboard.password.get_secret_value()
        users = " or ".join(m.member_id for m in data.dashboard_users())
        print(
            f"ANTT Bot demo: {base}/demo\n"
            f"  dashboard: {base}/dashboard/  (sign in as {users}, password: {password})\n"
            f"  data: {where}\n"
            f"  stop with Ctrl+C",
            flush=True,
        )
        if browser:
            open_browser(f"{base}/demo")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not on Windows: there Ctrl+C still ends asyncio.run, and cleanup runs below.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("ANTT Bot demo: stopping", file=sys.stderr, flush=True)
    finally:
        await runner.cleanup()
