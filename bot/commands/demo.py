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

import yaml
from aiohttp import web

from bot.app import create_app, database_url
from bot.cli import EXIT_OK, UsageError, command
from bot.demo import DEMO, DemoState, DemoStore, data, install_demo
from bot.demo.data import Council
from bot.listen import bind
from bot.logs import setup_logging
from bot.tablefile import table_text
from handlers.clock import SystemClock
from handlers.config import Settings, config_path, load_settings

REHEARSAL_DIR = "data/demo"  # next to the config file, apart from data/antt.db
CLI_CONFIG = "antt-demo.yaml"  # written beside the demo's database, for `antt-bot -c ...`
CLI_CONFIG_MARK = "# Written by `antt-bot demo`"


def rehearsal(args: argparse.Namespace, configured: Settings, where: Path | None) -> Council | None:
    """The council's own roster and groups (`--roster FILE`, or the config's `roster:`), or
    None for the seeded demo. `-c FILE` without any roster is a mistake worth naming."""
    if args.roster:
        path = Path(args.roster)
        label = f"--roster {path}"
    elif configured.councils:
        return parks_rehearsal(configured, where)
    elif configured.roster:
        path = configured.resolve_path(configured.roster)
        label = f"{where}: roster: {path}"
    else:
        if getattr(args, "config", None):
            raise UsageError(
                f"{where}: no roster to rehearse with: set roster: in it or give --roster FILE "
                "(without -c the demo uses its own seeded council)"
            )
        return None
    text = table_text(path, label)
    council = data.rehearsal_council(text, configured.groups)
    for warning in council.warnings:
        print(f"{path}: {warning}", file=sys.stderr)
    if not council.rows:
        raise UsageError(f"{path}: nobody to rehearse with (no row of the roster was usable)")
    return council


def parks_rehearsal(configured: Settings, where: Path | None) -> Council:
    """Several parks: every council's roster, each person once, in every group they are in;
    the parks stay as configured (docs/councils.md)."""
    texts = []
    for park in configured.councils:
        if not park.roster:
            raise UsageError(f"{where}: council {park.id} has no roster to rehearse with")
        path = configured.resolve_path(park.roster)
        texts.append(table_text(path, f"{where}: council {park.id}: roster {path}"))
    everyone = data.parks_council(texts, configured.groups)
    if not everyone.rows:
        raise UsageError(f"{where}: nobody to rehearse with (no roster row was usable)")
    return everyone


def refuse_the_real_database(configured: Settings, demo_db: Path) -> None:
    """The demo writes only its own SQLite file, never the configured one."""
    url = database_url(configured)
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and Path(url.removeprefix(prefix)).resolve() == demo_db.resolve():
        raise UsageError(
            f"{demo_db}: this is the configured database (database.url); "
            "give the demo another --data-dir"
        )


def write_cli_config(settings: Settings, data_dir: Path) -> Path:
    """A config file for the command line on the demo's data (`antt-bot -c FILE digest`)."""
    body = settings.model_dump(
        mode="json", exclude={"base_dir", "platform", "server", "dashboard", "roster"}
    )
    body["platform"] = {"kind": "local"}
    path = data_dir / CLI_CONFIG
    if path.exists() and not path.read_text("utf-8", errors="replace").startswith(CLI_CONFIG_MARK):
        raise UsageError(f"{path}: not written by the demo; give the demo another --data-dir")
    header = (
        f"{CLI_CONFIG_MARK} at each start: the demo's database and council, so that\n"
        f"# `antt-bot -c {path} digest` (or export, members list) reads the demo's data.\n"
    )
    path.write_text(header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def shown(path: Path) -> str:
    """A path as short as it can be said from here."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def open_browser(url: str) -> None:
    """Open the page if this machine has a browser; never fail the demo over it."""

    def run() -> None:
        with contextlib.suppress(Exception):
            webbrowser.open(url)

    threading.Thread(target=run, name="open-browser", daemon=True).start()


@command("demo")
def demo(args: argparse.Namespace) -> int:
    where = config_path(getattr(args, "config", None))
    configured = load_settings(where)
    council = rehearsal(args, configured, where)
    with contextlib.ExitStack() as stack:
        keep = bool(args.data_dir or council)
        if args.data_dir:
            data_dir = Path(args.data_dir)
        elif council:
            data_dir = configured.resolve_path(REHEARSAL_DIR)
        else:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="antt-demo-")))
        demo_db = data_dir / data.DB_FILE
        refuse_the_real_database(configured, demo_db)
        # The port first: a demo refused for a busy port leaves no empty folder behind.
        sock = stack.enter_context(bind(args.host, args.port))
        data_dir.mkdir(parents=True, exist_ok=True)
        port = sock.getsockname()[1]
        shown_host = "127.0.0.1" if args.host in ("", "0.0.0.0", "::") else args.host
        if ":" in shown_host:
            shown_host = f"[{shown_host}]"
        base = f"http://{shown_host}:{port}"
        db_url = f"sqlite+aiosqlite:///{demo_db.resolve()}"
        overrides = data.settings_overrides(
            db_url, base, council=council, parks=bool(configured.councils and not args.roster)
        )
        settings = load_settings(where, overrides=overrides)
        cli_config = write_cli_config(settings, data_dir)
        # JSON logs at INFO would bury the URL; the demo shows warnings and errors only.
        setup_logging("WARNING" if settings.log_level == "INFO" else settings.log_level)
        lines = [f"data: {shown(data_dir)}" + ("" if keep else " (deleted when the demo stops)")]
        lines.append(
            f"command line on this data: antt-bot -c {shown(cli_config)} digest "
            "(or export KIND, members list)"
        )
        if council:
            groups = len(settings.groups)
            lines.insert(0, f"rehearsal: your roster ({len(council.rows)} people, {groups} groups)")
        state = DemoState(clock=SystemClock(), council=council or data.seeded_council())
        asyncio.run(run_demo(settings, sock, base, state, lines, browser=not args.no_browser))
    return EXIT_OK


async def run_demo(
    settings: Settings,
    sock: socket.socket,
    base: str,
    state: DemoState,
    notes: list[str],
    *,
    browser: bool,
) -> None:
    """Build the app around a movable clock, install the demo, and serve until a signal."""
    clock = state.clock
    app = create_app(settings, clock=clock, local_store=DemoStore(clock=clock))
    install_demo(app, state)
    await serve_until_stopped(app, sock, base, settings, notes, browser=browser)


async def serve_until_stopped(
    app: web.Application,
    sock: socket.socket,
    base: str,
    settings: Settings,
    notes: list[str],
    *,
    browser: bool,
) -> None:
    runner = web.AppRunner(app, shutdown_timeout=5)
    await runner.setup()
    try:
        await web.SockSite(runner, sock, shutdown_timeout=5).start()
        password = settings.dashboard.password.get_secret_value()
        users = " or ".join(m.member_id for m in app[DEMO].council.dashboard_users())
        sign_in = (
            f"sign in as {users}, password: {password}"
            if users
            else "nobody can sign in: the roster has no coordinator or admin"
        )
        print(
            f"ANTT Bot demo: {base}/demo\n"
            + "".join(f"  {note}\n" for note in notes)
            + f"  dashboard: {base}/dashboard/  ({sign_in})\n"
            "  stop with Ctrl+C",
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
