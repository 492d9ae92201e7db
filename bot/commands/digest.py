"""`antt-bot digest`: build any week's digest offline, as text, HTML, JSON, XLSX or PNG."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from bot.cli import EXIT_OK, UsageError, chosen_council, command, load, output_path, parse_when
from bot.commands.core import _write_bytes, _write_text, open_db
from bot.dashboard.render import digest_html
from bot.export import digest_xlsx
from handlers.clock import SystemClock
from handlers.config import Settings
from handlers.digest import build_digest, last_complete_week, parse_week
from handlers.digest_chart import render_png
from models.db import read_session

BINARY = ("xlsx", "png")


@command("digest")
async def digest_cmd(args: argparse.Namespace) -> int:
    settings = load(args)
    if args.province:
        return await province_digest(args, settings)
    council = chosen_council(args, settings, required=True)
    # --at: the digest as of that moment (a past week's "so far" is then right too).
    now: datetime = parse_when(args.at, settings.tz) if args.at else SystemClock().now()
    week = args.week or last_complete_week(now, settings.tz)
    try:
        parse_week(week)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    path = output_path(args.output)
    if args.format in BINARY and path is None and sys.stdout.isatty():
        raise UsageError(f"{args.format.upper()} is binary: give -o FILE")
    async with open_db(settings) as sessions, read_session(sessions) as session:
        try:
            digest = await build_digest(
                session, settings, week, now, group_chat_id=args.group, council_id=council
            )
        except LookupError:
            raise UsageError(f"--group {args.group}: no such chat in the database") from None
    if args.format == "json":
        _write_text(path, json.dumps(digest.to_json(), ensure_ascii=False, indent=2) + "\n")
    elif args.format == "text":
        _write_text(path, digest.render_text() + "\n")
    elif args.format == "html":
        _write_text(path, digest_html(digest, render_png(digest)))
    elif args.format == "xlsx":
        _write_bytes(path, digest_xlsx(digest))
    else:
        _write_bytes(path, render_png(digest))
    if path is not None:
        print(f"digest {week} ({args.format}) written to {path}", file=sys.stderr)
    return EXIT_OK


def _week(args: argparse.Namespace, settings: Settings) -> tuple[str, datetime]:
    now: datetime = parse_when(args.at, settings.tz) if args.at else SystemClock().now()
    week = args.week or last_complete_week(now, settings.tz)
    try:
        parse_week(week)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return week, now


async def province_digest(args: argparse.Namespace, settings: Settings) -> int:
    """`digest --province`: every park's council side by side, in any of the formats."""
    from bot.dashboard.province import province_html
    from bot.province_export import province_xlsx
    from handlers.province import build_province_digest
    from handlers.province_chart import render_province_png

    if args.council or args.group:
        raise UsageError("--province covers every park: leave out --council and --group")
    week, now = _week(args, settings)
    path = output_path(args.output)
    if args.format in BINARY and path is None and sys.stdout.isatty():
        raise UsageError(f"{args.format.upper()} is binary: give -o FILE")
    async with open_db(settings) as sessions, read_session(sessions) as session:
        digest = await build_province_digest(session, settings, week, now)
    if args.format == "json":
        _write_text(path, json.dumps(digest.to_json(), ensure_ascii=False, indent=2) + "\n")
    elif args.format == "text":
        _write_text(path, digest.render_text() + "\n")
    elif args.format == "html":
        _write_text(path, province_html(digest, render_province_png(digest)))
    elif args.format == "xlsx":
        _write_bytes(path, province_xlsx(digest))
    else:
        _write_bytes(path, render_province_png(digest))
    if path is not None:
        print(f"province digest {week} ({args.format}) written to {path}", file=sys.stderr)
    return EXIT_OK
