"""`antt-bot members import FILE.csv`, `list`, `export-data ID` and `forget ID`."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from bot.cli import EXIT_OK, UsageError, chosen_council, command, load
from bot.commands.core import jsonable, open_db
from bot.commands.csvimport import read_csv_text, report_import
from handlers.councils import scope
from models import exports, privacy
from models.db import read_session
from models.roster import import_roster_csv
from models.scoping import keep_to_council
from models.tables import DEFAULT_COUNCIL


@command("members import")
async def members_import(args: argparse.Namespace) -> int:
    settings = load(args)
    council = chosen_council(args, settings, required=True)
    path = Path(args.file)
    text = await read_csv_text(path)
    async with open_db(settings) as sessions, sessions() as session, session.begin():
        result = await import_roster_csv(
            session, text, datetime.now(UTC), council or DEFAULT_COUNCIL
        )
    return report_import(path, result)


@command("members list")
async def members_list(args: argparse.Namespace) -> int:
    settings = load(args)
    council = chosen_council(args, settings, required=True)
    tz = settings.tz
    async with open_db(settings) as sessions, read_session(sessions) as session:
        keep_to_council(session, scope(settings, council))
        rows = [r async for r in exports.rows(session, "members")]
    if args.format == "jsonl":
        for r in rows:
            print(json.dumps({k: jsonable(v) for k, v in r.items()}, ensure_ascii=False))
        return EXIT_OK
    print(
        f"{'member_id':<22} {'name':<26} {'enterprise':<20} {'role':<11} {'status':<6} last active"
    )
    for r in rows:
        last = (
            r["last_active_at"].astimezone(tz).strftime("%Y-%m-%d %H:%M")
            if r["last_active_at"]
            else "never"
        )
        print(
            f"{(r['member_id'] or '-'):<22} {r['name'][:26]:<26} "
            f"{(r['enterprise'] or '-')[:20]:<20} "
            f"{r['role']:<11} {r['status']:<6} {last}"
        )
    return EXIT_OK


@command("members export-data")
async def members_export_data(args: argparse.Namespace) -> int:
    """Everything held about one member, as one JSON document (a data subject's request)."""
    settings = load(args)
    async with open_db(settings) as sessions, read_session(sessions) as session:
        member = await privacy.find_member(session, args.id)
        if member is None:
            raise UsageError(f"{args.id}: no such member")
        data = await privacy.member_data(session, member)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if args.output:
        await asyncio.to_thread(Path(args.output).write_text, text + "\n", "utf-8")
    else:
        print(text)
    return EXIT_OK


@command("members forget")
async def members_forget(args: argparse.Namespace) -> int:
    """Erase name, phone and message text of one member everywhere; audit-logged."""
    settings = load(args)
    async with open_db(settings) as sessions, sessions() as session, session.begin():
        member = await privacy.find_member(session, args.id)
        if member is None:
            raise UsageError(f"{args.id}: no such member")
        counts = await privacy.forget_member(session, member, "cli", datetime.now(UTC))
    print(
        f"member #{member.id} forgotten: {counts['messages']} messages, "
        f"{counts['reports']} reports blanked, {counts['mentions']} mentions masked"
    )
    return EXIT_OK
