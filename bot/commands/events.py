"""`antt-bot events failed` and `antt-bot events retry ID`: deliveries set aside after failing."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import EXIT_OK, UsageError, command, load
from bot.commands.core import open_db
from models.db import read_session
from models.tables import InboundEvent as InboxRow

PREVIEW_CHARS = 60


@command("events failed")
async def events_failed(args: argparse.Namespace) -> int:
    settings = load(args)
    t = InboxRow
    query = (
        select(t.id, t.received_at, t.event_name, t.chat_id, t.sender_id, t.attempts, t.error)
        .where(t.status == "failed")
        .order_by(t.id)
    )
    async with open_db(settings) as sessions, read_session(sessions) as session:
        rows = (await session.execute(query)).all()
        texts = {row.id: await _text_of(session, row.id) for row in rows}
    if args.format == "jsonl":
        for row in rows:
            record = {
                "id": row.id,
                "received_at": row.received_at.isoformat(),
                "event_name": row.event_name,
                "chat_id": row.chat_id,
                "sender_id": row.sender_id,
                "attempts": row.attempts,
                "error": row.error,
                "text": texts[row.id],
            }
            print(json.dumps(record, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print("no failed events")
        return EXIT_OK
    print(f"{'id':>8} {'received':<16} {'chat':<22} {'tries':>5}  error / text")
    for row in rows:
        when = row.received_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        error = (row.error or "").splitlines()[0][:80] if row.error else "-"
        print(f"{row.id:>8} {when:<16} {row.chat_id[:22]:<22} {row.attempts:>5}  {error}")
        print(f"{'':>8} {'':<16} {'':<22} {'':>5}  {texts[row.id] or '-'}")
    print(f"{len(rows)} failed; `antt-bot events retry ID` queues one again")
    return EXIT_OK


async def _text_of(session: AsyncSession, row_id: int) -> str | None:
    """The start of the message's text; None when the stored payload cannot be read."""
    try:
        payload: Any = (
            await session.execute(select(InboxRow.payload).where(InboxRow.id == row_id))
        ).scalar_one()
        text = str(payload["event"].get("text") or payload["event"].get("media_url") or "")
    except Exception:  # the payload may be the very reason the event failed
        return None
    return text[:PREVIEW_CHARS]


@command("events retry")
async def events_retry(args: argparse.Namespace) -> int:
    settings = load(args)
    async with open_db(settings) as sessions, sessions() as session, session.begin():
        status = (
            await session.execute(select(InboxRow.status).where(InboxRow.id == args.id))
        ).scalar_one_or_none()
        if status is None:
            raise UsageError(f"no event with id {args.id}")
        if status != "failed":
            raise UsageError(f"event {args.id} is {status}, not failed: nothing to retry")
        # attempts back to 0: it gets the full number of tries again; the error stays
        # until a try succeeds or replaces it.
        await session.execute(
            update(InboxRow)
            .where(InboxRow.id == args.id, InboxRow.status == "failed")
            .values(status="pending", attempts=0, claimed_by=None, claimed_until=None)
        )
    print(f"event {args.id} is queued again; a running `antt-bot serve` handles it")
    return EXIT_OK
