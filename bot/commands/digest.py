"""`antt-bot digest`: build any week's digest offline, as text, HTML, JSON, XLSX or PNG."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

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
    week, now = _week(args, settings)
    path = _output(args)
    async with open_db(settings) as sessions, read_session(sessions) as session:
        try:
            digest = await build_digest(
                session, settings, week, now, group_chat_id=args.group, council_id=council
            )
        except LookupError:
            raise UsageError(f"--group {args.group}: no such chat in the database") from None
    _write(
        args.format,
        path,
        f"digest {week}",
        digest,
        html=lambda: digest_html(digest, render_png(digest)),
        xlsx=lambda: digest_xlsx(digest),
        png=lambda: render_png(digest),
    )
    return EXIT_OK


def _output(args: argparse.Namespace) -> Path | None:
    """The -o path; a binary format needs one when stdout is a terminal."""
    path = output_path(args.output)
    if args.format in BINARY and path is None and sys.stdout.isatty():
        raise UsageError(f"{args.format.upper()} is binary: give -o FILE")
    return path


def _write(
    fmt: str,
    path: Path | None,
    what: str,
    digest: Any,
    *,
    html: Callable[[], str],
    xlsx: Callable[[], bytes],
    png: Callable[[], bytes],
) -> None:
    """Write a park's or the province's digest in the chosen format (both have to_json and
    render_text)."""
    if fmt == "json":
        _write_text(path, json.dumps(digest.to_json(), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "text":
        _write_text(path, digest.render_text() + "\n")
    elif fmt == "html":
        _write_text(path, html())
    elif fmt == "xlsx":
        _write_bytes(path, xlsx())
    else:
        _write_bytes(path, png())
    if path is not None:
        print(f"{what} ({fmt}) written to {path}", file=sys.stderr)


def _week(args: argparse.Namespace, settings: Settings) -> tuple[str, datetime]:
    now: datetime = parse_when(args.at, settings.tz, "--at") if args.at else SystemClock().now()
    week = args.week or last_complete_week(now, settings.tz)
    try:
        parse_week(week)
    except ValueError as exc:
        raise UsageError(f"--week {exc}") from None
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
    path = _output(args)
    async with open_db(settings) as sessions, read_session(sessions) as session:
        digest = await build_province_digest(session, settings, week, now)
    _write(
        args.format,
        path,
        f"province digest {week}",
        digest,
        html=lambda: province_html(digest, render_province_png(digest)),
        xlsx=lambda: province_xlsx(digest),
        png=lambda: render_province_png(digest),
    )
    return EXIT_OK
