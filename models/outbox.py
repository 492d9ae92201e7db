"""Writing to the outbox: every send has a priority and a unique idempotency key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models.inserts import insert_new
from models.scoping import record_council
from models.tables import Outbox

# Lower is sent first (DESIGN.md: urgent alert > reply > directive > task > digest > nudge).
PRIORITY = {
    "alert": 0,
    "reply": 10,
    "request": 15,  # a member's question forwarded to the coordinators
    "directive": 20,
    "reminder": 25,
    "task": 30,
    "post": 35,  # the propaganda calendar: below directives and tasks, above the digest
    "digest": 40,
    "nudge": 50,
}


def insert_for(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


async def enqueue(
    session: AsyncSession,
    *,
    chat_id: str,
    text: str,
    kind: str,
    key: str,
    now: datetime,
    photo_url: str | None = None,
    member_pk: int | None = None,
    ref_type: str | None = None,
    ref_id: int | None = None,
    not_before: datetime | None = None,
    priority: int | None = None,
) -> int | None:
    """Queue one message; returns its id, or None if the key was queued before."""
    row = {
        "chat_id": chat_id,
        "kind": kind,
        "priority": PRIORITY.get(kind, 30) if priority is None else priority,
        "text": text,
        "photo_url": photo_url,
        "idempotency_key": key[:300],
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "member_pk": member_pk,
        "ref_type": ref_type,
        "ref_id": ref_id,
        "created_at": now,
        "chunks_sent": 0,
        "council_id": record_council(session),
    }
    new = await insert_new(session, Outbox, [row], conflict=["idempotency_key"], returning=["id"])
    return int(new[0][0]) if new else None


async def enqueue_many(
    session: AsyncSession, rows: list[dict[str, Any]], now: datetime, chunk: int = 500
) -> dict[str, int]:
    """Queue many messages at once (each a dict of enqueue's fields); returns {key: id} of
    the rows that were new. Jobs that write thousands of messages use this."""
    insert = insert_for(session)
    council = record_council(session)
    out: dict[str, int] = {}
    for i in range(0, len(rows), chunk):
        values = [
            {
                "chat_id": r["chat_id"],
                "kind": r["kind"],
                "text": r["text"],
                "priority": PRIORITY.get(r["kind"], 30),
                "photo_url": r.get("photo_url"),
                "idempotency_key": r["key"][:300],
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": r.get("not_before") or now,
                "member_pk": r.get("member_pk"),
                "ref_type": r.get("ref_type"),
                "ref_id": r.get("ref_id"),
                "created_at": now,
                "chunks_sent": 0,
                "council_id": council,
            }
            for r in rows[i : i + chunk]
        ]
        stmt = (
            insert(Outbox)
            .values(values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(Outbox.id, Outbox.idempotency_key)
        )
        out.update({key: oid for oid, key in (await session.execute(stmt)).all()})
    return out


async def sent_this_month(session: AsyncSession, month_start: datetime) -> int:
    """Messages that cost quota since the month began (each chunk counts)."""
    stmt = select(func.coalesce(func.sum(Outbox.chunks_sent), 0)).where(
        Outbox.sent_at >= month_start
    )
    return int((await session.execute(stmt)).scalar_one())


async def find_quoted(session: AsyncSession, chat_id: str, message_id: str) -> Outbox | None:
    """The outbox row behind a platform message id the bot sent (for quote-replies)."""
    from models.tables import BotMessage

    stmt = (
        select(Outbox)
        .join(BotMessage, BotMessage.outbox_pk == Outbox.id)
        .where(BotMessage.chat_id == chat_id, BotMessage.message_id == message_id)
    )
    return (await session.execute(stmt)).scalars().first()


async def cancel_pending(
    session: AsyncSession,
    ref_type: str,
    ref_id: int,
    kinds: tuple[str, ...],
    reason: str,
    *,
    key: str | None = None,
) -> int:
    """Withdraw messages about a record that are still waiting (e.g. held for the morning);
    `key` narrows it to one message. Returns how many were withdrawn."""
    stmt = update(Outbox).where(
        Outbox.ref_type == ref_type,
        Outbox.ref_id == ref_id,
        Outbox.kind.in_(kinds),
        Outbox.status == "pending",
    )
    if key is not None:
        stmt = stmt.where(Outbox.idempotency_key == key)
    result = await session.execute(stmt.values(status="cancelled", last_error=reason))
    return int(getattr(result, "rowcount", 0) or 0)


# Outbox rows with this ref_type are chat replies (check-ins, thanks): capped per member
# per hour, and kept out of the monthly budget's reserved share (bot/sender.py).
CHAT = "chat"


async def chat_replies_since(session: AsyncSession, member_pk: int, since: datetime) -> int:
    """How many chat replies were queued for this member since `since`."""
    stmt = select(func.count()).where(
        Outbox.member_pk == member_pk, Outbox.created_at >= since, Outbox.ref_type == CHAT
    )
    return int((await session.execute(stmt)).scalar_one())
