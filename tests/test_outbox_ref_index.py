"""What was sent about one incident is read by an index (revision 0014), and that index does
not draw away the read of a member's recent chat replies, which has an index of its own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from models import incidents, prefetch
from models.db import ensure_schema, make_engine


async def _plan(conn: AsyncConnection, statement: Any, params: dict[str, Any]) -> list[str]:
    """SQLite's plan for a built statement with these values."""
    compiled = statement.params(**params).compile(
        dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
    )
    bound = compiled.construct_params()
    processors = compiled._bind_processors
    values = tuple(
        processors[name](bound[name]) if name in processors else bound[name]
        for name in compiled.positiontup or ()
    )
    plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
    return [row[3] for row in plan]


async def test_alerts_of_an_incident_and_recent_replies_read_by_their_indexes(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}")
    try:
        await ensure_schema(engine)  # the migrations, as every SQLite database gets them
        async with engine.connect() as conn:
            indexes = await conn.execute(text("PRAGMA index_list(outbox)"))
            assert "ix_outbox_ref" in {row[1] for row in indexes}
            alerted = await _plan(conn, incidents.ALERTED_CHATS, {"incident": 7})
            since = datetime(2026, 12, 6, tzinfo=UTC)
            recent = await _plan(conn, prefetch.RECENT_ACTIVITY, {"pks": [1, 2, 3], "since": since})
    finally:
        await engine.dispose()
    assert any("ix_outbox_ref" in step for step in alerted), alerted
    # A member's chat replies: by (member, time), not by every row of kind "chat".
    outbox_steps = [step for step in recent if "outbox" in step]
    assert any("ix_outbox_member_recent" in step for step in outbox_steps), recent
