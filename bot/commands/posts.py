"""`antt-bot posts import FILE.csv` and `antt-bot posts list`: the propaganda calendar."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from bot.cli import EXIT_OK, chosen_council, command, load
from bot.commands.core import open_db
from bot.commands.csvimport import read_csv_text, report_import
from handlers.councils import council_by_id, scope
from models.db import read_session
from models.posts import all_posts, import_posts_csv
from models.scoping import keep_to_council


@command("posts import")
async def posts_import(args: argparse.Namespace) -> int:
    settings = load(args)
    council = chosen_council(args, settings, required=True)
    path = Path(args.file)
    text = await read_csv_text(path)
    groups = council_by_id(settings, council).groups if council else settings.groups
    known = {g.chat_id for g in groups}
    async with open_db(settings) as sessions, sessions() as session, session.begin():
        keep_to_council(session, scope(settings, council))
        result = await import_posts_csv(session, text, settings.tz, known, datetime.now(UTC))
    return report_import(path, result)


@command("posts list")
async def posts_list(args: argparse.Namespace) -> int:
    settings = load(args)
    council = chosen_council(args, settings, required=True)
    async with open_db(settings) as sessions, read_session(sessions) as session:
        keep_to_council(session, scope(settings, council))
        posts = await all_posts(session)
    print(f"{'id':>4} {'at':<16} {'status':<10} {'groups':<20} {'quiz':<4} text")
    for p in posts:
        status = "closed" if p.closed_at else "published" if p.published_at else "planned"
        groups = ";".join(p.groups) or "*"
        print(
            f"{p.id:>4} {p.at.astimezone(settings.tz).strftime('%Y-%m-%d %H:%M'):<16} "
            f"{status:<10} {groups[:20]:<20} {'x' if p.question else '-':<4} "
            f"{p.text.splitlines()[0][:60]}"
        )
    return EXIT_OK
