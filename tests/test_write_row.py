"""models/inserts.write_row: a row written by one Core INSERT is a persistent row like any."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, select

from models.db import ensure_schema, make_engine, make_sessionmaker
from models.inserts import write_row
from models.scoping import keep_to_council
from models.tables import CheckIn, Member, Report

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


async def test_written_row_is_whole_persistent_and_updatable(db_url: str) -> None:
    engine = make_engine(db_url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        async with sessions() as s, s.begin():
            keep_to_council(s, "kcn-a")
            member = await write_row(
                s,
                Member(member_id="z1", name="Lan", created_at=NOW, expected_since=NOW),
            )
            report = await write_row(
                s,
                Report(
                    chat_id="g1",
                    member_pk=member.id,
                    category="fire",
                    severity="high",
                    created_at=NOW,
                ),
            )
            statements.clear()
            # Defaults are on the object, nothing is read back, and no flush is pending.
            assert (member.role, member.status, member.active, member.name_folded) == (
                "member",
                "member",
                True,
                "",
            )
            assert (report.places, report.status, report.council_id) == ([], "confirmed", "kcn-a")
            assert (report.people, report.incident_pk) == (None, None)
            assert report in s and not s.new and not s.dirty
            assert statements == []
            report.status = "pending"  # a later change is an ordinary UPDATE
            checkin = await write_row(
                s,
                CheckIn(member_pk=member.id, chat_id="g1", kind="in", at=NOW, council_id="kcn-b"),
            )
        async with sessions() as s:
            stored = (await s.execute(select(Report))).scalar_one()
            assert (stored.id, stored.status, stored.council_id) == (report.id, "pending", "kcn-a")
            got = (await s.execute(select(CheckIn))).scalar_one()
            assert (got.id, got.council_id, got.note) == (checkin.id, "kcn-b", "")
    finally:
        await engine.dispose()
