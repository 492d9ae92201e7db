"""The CLI commands' bodies; each returns an exit status."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import create_app, database_url
from bot.cli import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    chosen_council,
    command,
    load,
    output_path,
    parse_when,
)
from bot.connections import run_server
from bot.export import SheetSpool, for_people, write_csv, write_jsonl
from bot.listen import bind
from bot.logs import setup_logging
from bot.platforms.base import PlatformError, Unreachable
from bot.platforms.zalo_bot import ZaloBotClient
from handlers.config import ConfigError, Settings, config_path, setting_origin
from handlers.councils import group_councils, scope
from models import exports
from models.db import ensure_schema, make_engine, make_sessionmaker, read_session, upgrade
from models.people import sync_configured_groups
from models.scoping import keep_to_council


@contextlib.asynccontextmanager
async def open_db(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The database for a one-off command: SQLite is migrated, PostgreSQL must be current."""
    engine = make_engine(
        database_url(settings), connect_timeout=settings.database.connect_timeout_seconds
    )
    try:
        await ensure_schema(engine)
        sessions = make_sessionmaker(engine)
        async with sessions() as session, session.begin():
            await sync_configured_groups(
                session, settings.groups, datetime.now(UTC), group_councils(settings)
            )
        yield sessions
    finally:
        await engine.dispose()


@command("serve")
def serve(args: argparse.Namespace) -> int:
    settings = load(args)
    setup_logging(settings.log_level)
    if settings.platform.kind == "zalo_bot":
        if not settings.platform.token.get_secret_value():
            raise ConfigError("platform.token: not set (export ANTT_PLATFORM__TOKEN)")
        if settings.platform.mode == "webhook":
            check_webhook_secret(settings)
    refused = asyncio.run(database_refuses_writes(settings))
    if refused is not None:
        # 2 like a schema behind: a person must act, and systemd does not restart on 2.
        print(f"antt-bot: {refused}", file=sys.stderr)
        return EXIT_USAGE
    config_file = config_path(getattr(args, "config", None))
    host, host_from = args.host, "--host"
    if host is None:
        host = settings.server.host
        host_from = f"{setting_origin(settings, 'server.host', config_file)}, or pass --host"
    if args.port is None:
        port = settings.server.port
        port_from = setting_origin(settings, "server.port", config_file)
    else:
        port, port_from = args.port, "--port"
    # A busy port or a missing address: exit 2 naming where it was set.
    sock = bind(host, port, port_from=port_from, host_from=host_from)
    port = sock.getsockname()[1]
    app = create_app(settings)
    banner = (
        f"antt-bot: serving on http://{host}:{port} (platform {settings.platform.kind}, "
        f"{settings.platform.mode})"
    )
    # Said once the app has started and listens: a start-up error (a missing roster, the
    # simulator on a real bot's database) exits 2 without claiming to serve.
    run_server(
        app,
        sock,
        shutdown_timeout=15,
        on_listening=lambda: print(banner, file=sys.stderr, flush=True),
    )
    return EXIT_OK


def check_webhook_secret(settings: Settings) -> None:
    """Zalo accepts a secret_token of 8-256 characters; a shorter one is easy to guess."""
    secret = settings.platform.webhook_secret.get_secret_value()
    if not secret:
        raise ConfigError("platform.webhook_secret: not set (export ANTT_PLATFORM__WEBHOOK_SECRET)")
    if not 8 <= len(secret) <= 256:
        raise ConfigError(
            "platform.webhook_secret: must be 8-256 characters "
            "(export ANTT_PLATFORM__WEBHOOK_SECRET)"
        )


async def database_refuses_writes(settings: Settings) -> str | None:
    """None when the database takes writes; else what to tell the operator. Checked before
    serving: a read-only file would otherwise answer 503 to every delivery while the
    workers retry for ever."""
    engine = make_engine(
        database_url(settings), connect_timeout=settings.database.connect_timeout_seconds
    )
    try:
        try:
            await ensure_schema(engine)
        except DBAPIError as exc:
            if engine.dialect.name != "sqlite":
                raise  # PostgreSQL away or behind: its own message, not a rights problem
            # A read-only folder: SQLite cannot create the file's -wal and -shm beside it.
            return _refuses_writes(exc, engine)
        async with engine.connect() as conn:
            trans = await conn.begin()
            try:
                # Writes nothing, but needs write access (SQLite: the file; PostgreSQL: rights).
                await conn.execute(sql("UPDATE alembic_version SET version_num = version_num"))
            except DBAPIError as exc:
                return _refuses_writes(exc, engine)
            finally:
                await trans.rollback()
    finally:
        await engine.dispose()
    return None


def _refuses_writes(exc: DBAPIError, engine: AsyncEngine) -> str:
    """What to tell the operator when the database would not take a write."""
    reason = str(exc.orig).strip() or type(exc.orig).__name__
    where = sqlite_path(engine) or "the PostgreSQL database (check the user's rights)"
    return (
        f"the database refuses writes ({reason}): serve must store every delivery. "
        f"Make {where} writable (the file and its folder), then start again"
    )


def sqlite_path(engine: AsyncEngine) -> str | None:
    """The SQLite file behind an engine, for messages; None for PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return None
    return engine.url.database or None


@command("parse")
def parse_cmd(args: argparse.Namespace) -> int:
    from handlers.parse import parse

    try:
        settings = load(args)
        tz = settings.tz
    except ConfigError:
        raise
    now = parse_when(args.now, tz, "--now") if args.now else datetime.now(tz)
    lines = args.text if args.text else (line.rstrip("\n") for line in sys.stdin)
    for text in lines:
        print(json.dumps(parse(text, now, tz).to_dict(), ensure_ascii=False), flush=not args.text)
    return EXIT_OK


@command("db upgrade")
async def db_upgrade(args: argparse.Namespace) -> int:
    settings = load(args)
    engine = make_engine(
        database_url(settings), connect_timeout=settings.database.connect_timeout_seconds
    )
    try:
        before, after = await upgrade(engine)
    finally:
        await engine.dispose()
    if before == after:
        print(f"database already at revision {after}")
    else:
        print(f"database upgraded from {before or 'empty'} to {after}")
    return EXIT_OK


def _client(settings: Settings, session: aiohttp.ClientSession) -> ZaloBotClient:
    token = settings.platform.token.get_secret_value()
    if not token:
        raise ConfigError("platform.token: not set (export ANTT_PLATFORM__TOKEN)")
    return ZaloBotClient(settings.platform.api_base, token, session)


NETWORK = "this machine's network (DNS, firewall, proxy)"


def platform_failed(exc: PlatformError) -> int:
    """Zalo out of reach is this machine's network, not a refusal by Zalo: say which."""
    if isinstance(exc, Unreachable):
        print(
            f"antt-bot: cannot reach Zalo at {exc.address} ({exc}); check {NETWORK} "
            "and platform.api_base",
            file=sys.stderr,
        )
    else:
        print(f"antt-bot: Zalo refused: {exc}", file=sys.stderr)
    return EXIT_FAIL


@command("platform set-webhook")
async def set_webhook(args: argparse.Namespace) -> int:
    settings = load(args)
    check_webhook_secret(settings)
    secret = settings.platform.webhook_secret.get_secret_value()
    if not args.url.startswith("https://"):
        raise UsageError("the webhook URL must start with https:// (Zalo requires it)")
    if not args.url.rstrip("/").endswith("/webhook/zalo-bot"):
        print("note: this bot receives deliveries at /webhook/zalo-bot", file=sys.stderr)
    async with aiohttp.ClientSession() as http:
        try:
            result = await _client(settings, http).set_webhook(args.url, secret)
        except PlatformError as exc:
            return platform_failed(exc)
    print(json.dumps({"ok": True, "result": result}, ensure_ascii=False))
    return EXIT_OK


@command("platform delete-webhook")
async def delete_webhook(args: argparse.Namespace) -> int:
    settings = load(args)
    async with aiohttp.ClientSession() as http:
        try:
            result = await _client(settings, http).delete_webhook()
        except PlatformError as exc:
            return platform_failed(exc)
    print(json.dumps({"ok": True, "result": result}, ensure_ascii=False))
    return EXIT_OK


@command("platform info")
async def platform_info(args: argparse.Namespace) -> int:
    settings = load(args)
    async with aiohttp.ClientSession() as http:
        client = _client(settings, http)
        try:
            me = await client.get_me()
            hook = await client.get_webhook_info()
        except PlatformError as exc:
            return platform_failed(exc)
    print(json.dumps({"me": me, "webhook": hook}, ensure_ascii=False, indent=2))
    return EXIT_OK


@command("export")
async def export(args: argparse.Namespace) -> int:
    settings = load(args)
    if args.kind not in exports.KINDS:
        raise UsageError(f"unknown export {args.kind!r}; choose one of {', '.join(exports.KINDS)}")
    council = chosen_council(args, settings, required=True)
    tz = settings.tz
    since = parse_when(args.since, tz, "--since") if args.since else None
    until = parse_when(args.until, tz, "--until") if args.until else None
    if since is not None and until is not None and since >= until:
        # Swapped dates would give an empty file and exit 0: say which range was asked for.
        raise UsageError(
            f"--since {args.since} is not before --until {args.until}: nothing to export"
        )
    path = output_path(args.output)
    if args.format == "xlsx" and path is None and sys.stdout.isatty():
        raise UsageError("XLSX is binary: give -o FILE")
    # The file is made in a temporary file, then copied out: memory stays flat, and a failed
    # export leaves no half-written file behind.
    with tempfile.TemporaryFile() as out:
        write = _export_xlsx if args.format == "xlsx" else _export_text
        async with open_db(settings) as sessions:
            n = await write(args, sessions, scope(settings, council), tz, out, since, until)
        out.seek(0)
        _copy_out(path, out, binary=args.format == "xlsx")
    if path is not None:
        print(f"{n} {args.kind} written to {path}", file=sys.stderr)
    return EXIT_OK


async def _export_xlsx(
    args: argparse.Namespace,
    sessions: async_sessionmaker[AsyncSession],
    council: str | None,
    tz: ZoneInfo,
    out: IO[bytes],
    since: datetime | None,
    until: datetime | None,
) -> int:
    """The workbook as the dashboard writes it: rows spooled in one read, the workbook
    written after it in a thread (openpyxl's write-only mode)."""
    lang = getattr(args, "lang", "vi")
    names = exports.headers(args.kind, lang)
    with SheetSpool(exports.COLUMNS[args.kind], tz, names) as spool:
        async with read_session(sessions) as session:
            keep_to_council(session, council)  # one park's rows only
            rows = with_progress(exports.rows(session, args.kind, since, until), args.kind)
            n = await spool.fill(for_people(args.kind, rows, lang))
        title = exports.TITLE_VI.get(args.kind, args.kind) if lang == "vi" else args.kind
        if sys.stderr.isatty() and n >= PROGRESS_EVERY:  # the writing takes longer than the read
            print(f"{args.kind}: writing the workbook…", file=sys.stderr, flush=True)
        await asyncio.to_thread(spool.save, out, title)
    return n


async def _export_text(
    args: argparse.Namespace,
    sessions: async_sessionmaker[AsyncSession],
    council: str | None,
    tz: ZoneInfo,
    out: IO[bytes],
    since: datetime | None,
    until: datetime | None,
) -> int:
    """JSON lines (machine keys) or CSV (for people), written row by row into `out`."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        async with read_session(sessions) as session:
            keep_to_council(session, council)  # one park's rows only
            rows = with_progress(exports.rows(session, args.kind, since, until), args.kind)
            if args.format == "jsonl":
                return await write_jsonl(rows, text)
            # CSV is read by people: Vietnamese unless --lang en.
            lang = getattr(args, "lang", "vi")
            sep = exports.CSV_SEPARATORS[getattr(args, "sep", "comma")]
            people = for_people(args.kind, rows, lang)
            names = exports.headers(args.kind, lang)
            cols = exports.COLUMNS[args.kind]
            return await write_csv(people, cols, text, tz, headers=names, delimiter=sep)
    finally:
        text.flush()
        text.detach()  # `out` stays open for the copy


def _copy_out(path: Path | None, src: IO[bytes], binary: bool = False) -> None:
    """A finished file to its place: the path given, or stdout (as text when stdout is a text
    stream with no bytes under it: a program that runs the CLI in-process and reads it)."""
    if path is None:
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None:
            shutil.copyfileobj(src, buffer)
            buffer.flush()
        elif binary:
            raise UsageError("XLSX is binary: give -o FILE")
        else:
            reader = io.TextIOWrapper(src, encoding="utf-8", newline="")
            shutil.copyfileobj(reader, sys.stdout)
            reader.detach()
            sys.stdout.flush()
    else:
        with path.open("wb") as dst:
            shutil.copyfileobj(src, dst)


PROGRESS_EVERY = 5000  # rows between two counts shown on a terminal


async def with_progress(
    rows: AsyncIterator[dict[str, Any]], what: str, every: int = PROGRESS_EVERY
) -> AsyncIterator[dict[str, Any]]:
    """Pass rows through, showing a running count on a terminal (quiet when piped)."""
    tty = sys.stderr.isatty()
    n = 0
    async for row in rows:
        n += 1
        if tty and n % every == 0:
            print(f"\r{what}: {n} rows…", end="", file=sys.stderr, flush=True)
        yield row
    if tty and n >= every:
        print(f"\r{what}: {n} rows    ", file=sys.stderr)


def _write_bytes(path: Path | None, data: bytes) -> None:
    if path is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        path.write_bytes(data)


def _write_text(path: Path | None, data: str) -> None:
    if path is None:
        sys.stdout.write(data)
        sys.stdout.flush()
    else:
        path.write_text(data, encoding="utf-8", newline="")


def jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
