"""A claim reads the events other instances hold by an index (revision 0012), not by going
through every pending event: after an outage the backlog can be tens of thousands."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bot.processor import _CLAIMABLE
from models.db import ensure_schema, make_engine


async def test_the_claim_reads_held_events_by_their_index(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}")
    try:
        await ensure_schema(engine)  # the migrations, as every SQLite database gets them
        async with engine.connect() as conn:
            indexes = await conn.execute(text("PRAGMA index_list(inbound_events)"))
            assert "ix_inbound_events_claims" in {row[1] for row in indexes}
            compiled = _CLAIMABLE.compile(dialect=engine.dialect)
            params = compiled.construct_params(
                {"worker": "w1", "now": datetime(2026, 12, 6, tzinfo=UTC), "batch": 50}
            )
            processors = compiled._bind_processors
            values = tuple(
                processors[name](params[name]) if name in processors else params[name]
                for name in compiled.positiontup or ()
            )
            plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
            steps = [row[3] for row in plan]
    finally:
        await engine.dispose()
    # The subquery of chats held elsewhere: by (status, claimed_by), claimed rows only.
    assert any("ix_inbound_events_claims" in step for step in steps), steps
