"""insert_new: ON CONFLICT DO NOTHING with typed values, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models.db import ensure_schema, make_engine, make_sessionmaker
from models.inserts import insert_ignoring, insert_new
from models.outbox import enqueue
from models.tables import BotMessage, Outbox

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


async def test_new_rows_are_returned_and_conflicts_skipped(db_url: str) -> None:
    engine = make_engine(db_url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        first = await enqueue(session, chat_id="c1", text="a", kind="reply", key="k1", now=NOW)
        again = await enqueue(session, chat_id="c1", text="b", kind="reply", key="k1", now=NOW)
        other = await enqueue(session, chat_id="c1", text="c", kind="nudge", key="k2", now=NOW)
        assert first is not None and other is not None and again is None
        rows = [
            {"outbox_pk": first, "chat_id": "c1", "message_id": m, "sent_at": NOW}
            for m in ("m1", "m2", "m1")
        ]
        await insert_new(session, BotMessage, rows, conflict=["chat_id", "message_id"])
    async with sessions() as session:
        stored = (await session.execute(select(Outbox).order_by(Outbox.id))).scalars().all()
        ids = (await session.execute(select(BotMessage.message_id))).scalars().all()
    assert [(o.idempotency_key, o.text, o.priority) for o in stored] == [
        ("k1", "a", 10),
        ("k2", "c", 50),
    ]
    assert stored[0].created_at == NOW  # typed bind: the UTC datetime round-trips
    assert sorted(ids) == ["m1", "m2"]
    await engine.dispose()


def test_names_are_checked() -> None:
    table = Outbox.__table__
    with pytest.raises(KeyError, match="nope"):
        insert_ignoring(table, ("nope",), ("idempotency_key",), ())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="plain SQL name"):
        insert_ignoring(table, ("id; drop",), ("idempotency_key",), ())  # type: ignore[arg-type]
